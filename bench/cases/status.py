"""``status`` for 50 triggers at 20 ms against a sequential floor (``floor_status.py``)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import local_aws
from bench.harness import BenchError, Goal, Proc, Row, alternate, per_unit_calls


def _status(aws: fx.LocalAws, spec: Path, n: int) -> Proc:
    proc = fx.tool(aws, "status", "-f", str(spec), "--output", "json").check()
    if len(proc.json().get("triggers", [])) != n:
        raise BenchError(f"status listed {len(proc.json().get('triggers', []))} trigger(s), not {n}")
    return proc


def run(ctx: Ctx) -> list[Row]:
    fx.require_command("status")
    n = ctx.size(50, 3)
    latency = 20
    with (
        tempfile.TemporaryDirectory(prefix="bench-status-") as tmp,
        local_aws(ctx.server, latency_ms=latency) as aws,
    ):
        trigs = fx.triggers("status", n)
        fx.create_tables_and_functions(aws, trigs)
        spec = fx.write_spec(Path(tmp), trigs)
        fx.apply(aws, spec)
        ctx.say(f"status: N={n} @ {latency} ms × {ctx.repeats}")
        tool, floor = alternate(
            ctx.repeats,
            functools.partial(_status, aws, spec, n),
            lambda: fx.floor(aws, "floor_status.py", "-f", str(spec)).check(),
            floor_label="floor_status",
        )
    row = Row("status", f"N={n} @ {latency} ms", tool, floor)
    row.figures.append(
        f"{per_unit_calls(tool.calls, n)} calls/trigger (floor {per_unit_calls(floor.calls, n)})"
    )
    if not ctx.quick:
        row.goals.append(Goal("wall vs sequential floor", row.ratio or 0, 0.3))
    return [row]

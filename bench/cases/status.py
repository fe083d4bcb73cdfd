"""``status`` for 50 triggers at 20 ms against a sequential floor (``floor_status.py``)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import local_aws
from bench.harness import BenchError, Goal, Proc, Row, alternate, per_unit_calls


def _status(aws: fx.LocalAws, spec: Path, n: int, *extra: str) -> Proc:
    proc = fx.tool(aws, "status", "-f", str(spec), "--output", "json", *extra).check()
    triggers = proc.json().get("triggers", [])
    if len(triggers) != n:
        raise BenchError(f"status listed {len(triggers)} trigger(s), not {n}")
    if extra and not all(t.get("shards") for t in triggers):
        raise BenchError("status --shards listed a trigger without shards")
    return proc


def _floor(aws: fx.LocalAws, spec: Path, *extra: str) -> Proc:
    return fx.floor(aws, "floor_status.py", "-f", str(spec), *extra).check()


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
        rows = []
        for extra in ((), ("--shards",)):
            flags = " ".join(extra)
            ctx.say(f"status {flags}: N={n} @ {latency} ms × {ctx.repeats}")
            tool, floor = alternate(
                ctx.repeats,
                functools.partial(_status, aws, spec, n, *extra),
                functools.partial(_floor, aws, spec, *extra),
                floor_label=f"floor_status {flags}".strip(),
            )
            row = Row("status", f"N={n} @ {latency} ms {flags}".strip(), tool, floor)
            row.figures.append(
                f"{per_unit_calls(tool.calls, n)} calls/trigger (floor {per_unit_calls(floor.calls, n)})"
            )
            if not ctx.quick:
                row.goals.append(Goal("wall vs sequential floor", row.ratio or 0, 0.2))
            rows.append(row)
    return rows

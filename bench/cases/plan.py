"""No-op ``plan`` at N = 1, 10, 50 against ``floor_plan.py``; ``apply`` from nothing (N = 10 at 0 ms, 50 at
20 ms) against ``floor_apply.py``."""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import IDLE_POLL, LocalAws, local_aws
from bench.harness import BenchError, Goal, Proc, Row, alternate, per_unit_calls

GOAL_CALLS_PER_TRIGGER = 4
PER_PLAN_CALLS = ("cloudwatch.DescribeAlarms",)
"""Calls made once per plan, not per trigger (issue 17: the managed alarms are read in one call); the
per-trigger goal counts the rest."""


def _plan(aws: LocalAws, spec: Path, n: int) -> Proc:
    proc = fx.tool(aws, "plan", "-f", str(spec), "--output", "json").check()
    summary = proc.json().get("summary", {})
    if summary.get("no-op", 0) < n or any(
        summary.get(k, 0) for k in ("create", "update", "replace", "delete")
    ):
        raise BenchError(f"plan after apply is not a no-op: {summary}")
    return proc


def _plan_rows(ctx: Ctx, aws: LocalAws, work: Path, latency: int) -> list[Row]:
    sizes = (1, 3) if ctx.quick else (1, 10, 50)
    trigs = fx.triggers("plan", max(sizes))
    fx.create_tables_and_functions(aws, trigs)
    fx.apply(aws, fx.write_spec(work, trigs))
    rows = []
    for n in sizes:
        spec = fx.write_spec(work, trigs[:n])
        ctx.say(f"plan: N={n} @ {latency} ms × {ctx.repeats}")
        tool, floor = alternate(
            ctx.repeats,
            functools.partial(_plan, aws, spec, n),
            lambda spec=spec: fx.floor(aws, "floor_plan.py", "-f", str(spec)).check(),
            floor_label="floor_plan",
        )
        row = Row("plan (no-op)", f"N={n} @ {latency} ms", tool, floor)
        once = sum(tool.calls.get(name, 0) for name in PER_PLAN_CALLS)
        per = (sum(tool.calls.values()) - once) / n
        row.figures.append(
            f"{per:.2f} calls/trigger + {once} per plan (DescribeAlarms); all: "
            f"{per_unit_calls(tool.calls, n)}/trigger (floor {per_unit_calls(floor.calls, n)})"
        )
        row.goals.append(Goal("calls/trigger", per, GOAL_CALLS_PER_TRIGGER))
        if latency >= 20 and n >= 50:
            row.goals.append(Goal("wall vs floor", row.ratio or 0, 0.2))
        if latency >= 20 and n == 1:
            row.goals.append(Goal("wall vs floor", row.ratio or 0, 1.2))
        rows.append(row)
    return rows


def _fresh_apply(aws: LocalAws, work: Path, prefix: str, n: int, command: Callable[[Path], Proc]) -> Proc:
    """Fresh tables (stream off) and functions, then ``command`` on their spec (only it is timed)."""
    trigs = fx.triggers(prefix, n)
    fx.create_tables_and_functions(aws, trigs, stream=False)
    return command(fx.write_spec(work / prefix, trigs))


def _apply_row(ctx: Ctx, aws: LocalAws, work: Path, latency: int) -> Row:
    """``apply`` from nothing (enable streams, create queues and mappings) against ``floor_apply.py``."""
    n = ctx.size(50 if latency >= 20 else 10, 2)
    runs = iter(range(2 * ctx.repeats))

    def subject(who: str, command: Callable[[Path], Proc]) -> Callable[[], Proc]:
        def one() -> Proc:
            prefix = f"apply{latency}{who}{next(runs)}"
            (work / prefix).mkdir()
            return _fresh_apply(aws, work, prefix, n, command)

        return one

    ctx.say(f"apply: N={n} @ {latency} ms × {ctx.repeats}")
    tool, floor = alternate(
        ctx.repeats,
        subject(
            "t", lambda spec: fx.tool(aws, "apply", "-f", str(spec), "--yes", "--output", "json").check()
        ),
        subject("f", lambda spec: fx.floor(aws, "floor_apply.py", "-f", str(spec)).check()),
        floor_label="floor_apply",
    )
    row = Row("apply (from nothing)", f"N={n} @ {latency} ms", tool, floor)
    row.figures.append(
        f"{per_unit_calls(tool.calls, n)} calls/trigger (floor {per_unit_calls(floor.calls, n)})"
    )
    return row


def run(ctx: Ctx) -> list[Row]:
    fx.require_command("plan")
    rows = []
    for latency in (0,) if ctx.quick else (0, 20):
        with (
            tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp,
            local_aws(ctx.server, latency_ms=latency, poll_interval=IDLE_POLL) as aws,
        ):
            rows += _plan_rows(ctx, aws, Path(tmp), latency)
            rows.append(_apply_row(ctx, aws, Path(tmp), latency))
    return rows

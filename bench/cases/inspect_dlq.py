"""``inspect-dlq`` over 1,000 and 10,000 messages against ``floor_inspect_dlq.py``; peak RSS; --export.

The messages are Lambda-shaped invocation records pointing at real stream records of the trigger's
table. After every run the queue must hold all of them again, visible (inspect-dlq does not consume).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import local_aws
from bench.harness import BenchError, Goal, Proc, Row, alternate, interleave

EXPORT_LIMIT_MB = 150


def _check_released(aws: fx.LocalAws, url: str, count: int) -> None:
    visible, in_flight = fx.depth(aws, url)
    if (visible, in_flight) != (count, 0):
        raise BenchError(
            f"after the scan the queue holds {visible} visible + {in_flight} in flight, not {count}"
        )


def _inspect(aws: fx.LocalAws, spec: Path, url: str, count: int, *extra: str) -> Proc:
    proc = fx.tool(aws, "inspect-dlq", "-f", str(spec), *extra).check()
    _check_released(aws, url, count)
    return proc


def _floor(aws: fx.LocalAws, spec: Path, url: str, count: int, *extra: str) -> Proc:
    proc = fx.floor(aws, "floor_inspect_dlq.py", "-f", str(spec), *extra).check()
    _check_released(aws, url, count)
    return proc


def _export(aws: fx.LocalAws, spec: Path, url: str, count: int, target: Path) -> Proc:
    proc = _inspect(aws, spec, url, count, "--export", str(target))
    lines = sum(1 for _ in target.open())
    if lines != count:
        raise BenchError(f"--export wrote {lines} line(s) for {count} message(s)")
    return proc


def run(ctx: Ctx) -> list[Row]:
    fx.require_command("inspect-dlq")
    sizes = (50, 200) if ctx.quick else (1000, 10000)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-inspect-") as tmp, local_aws(ctx.server) as aws:
        work = Path(tmp)
        (trig,) = fx.triggers("inspect", 1)
        fx.create_tables_and_functions(aws, [trig])
        fx.create_queues_and_mappings(aws, [trig], enabled=False)
        spec = fx.write_spec(work, [trig], enabled=False)
        url = fx.queue_url(aws, trig)
        fx.write_items(aws, trig, 10)
        body = fx.pointer(fx.read_stream(aws, trig), trig.function)
        held = 0
        for count in sizes:
            fx.inject(aws, trig.queue, [body] * (count - held))
            held = count
            for mode in ("json",) if ctx.quick else ("table", "json"):
                ctx.say(f"inspect-dlq: {count} messages, --output {mode} × {ctx.repeats}")
                subjects = [
                    ("ddbtrigger", functools.partial(_inspect, aws, spec, url, count, "--output", mode)),
                    ("floor_inspect_dlq", functools.partial(_floor, aws, spec, url, count)),
                ]
                if count == sizes[0]:  # the floor also confirming the empty queue, as ddbtrigger does
                    confirm = functools.partial(_floor, aws, spec, url, count, "--confirm-wait", "1")
                    subjects.append(("floor_inspect_dlq --confirm-wait 1", confirm))
                tool, floor, *more = interleave(ctx.repeats, subjects)
                row = Row("inspect-dlq", f"{count} msgs, --output {mode}", tool, floor)
                for other in more:
                    row.figures.append(
                        f"vs floor confirming the empty queue with a 1 s long poll ({other.median:.3f} s): "
                        f"{tool.median / other.median:.2f}×"
                    )
                row.figures.append(f"peak RSS {tool.rss_mb:.0f} MB (floor {floor.rss_mb:.0f} MB)")
                row.figures.append(f"{sum(tool.calls.values())} calls (floor {sum(floor.calls.values())})")
                row.goals.append(Goal("wall vs floor", row.ratio or 0, 1.3))
                rows.append(row)
        ctx.say(f"inspect-dlq --export: {sizes[-1]} messages × {ctx.repeats}")
        target = work / "failures.jsonl"
        export, _ = alternate(
            ctx.repeats,
            functools.partial(_export, aws, spec, url, sizes[-1], target),
            functools.partial(_floor, aws, spec, url, sizes[-1]),
            tool_label="ddbtrigger --export",
            floor_label="floor_inspect_dlq",
        )
    row = Row("inspect-dlq", f"{sizes[-1]} msgs, --export FILE.jsonl", export, _)
    row.figures.append(f"peak RSS {export.rss_mb:.0f} MB")
    row.goals.append(Goal("peak RSS MB", export.rss_mb, EXPORT_LIMIT_MB))
    rows.append(row)
    _rss_flat(rows, sizes)
    return rows


def _rss_flat(rows: list[Row], sizes: tuple[int, int]) -> None:
    """Peak RSS at the larger size against the smaller, per output mode: goal ≤ 1.2×."""
    for mode in ("table", "json"):
        found = [r for n in sizes for r in rows if r.case == f"{n} msgs, --output {mode}"]
        if len(found) != 2:
            continue
        small, large = found
        if small.tool and large.tool:
            large.goals.append(Goal(f"RSS vs {sizes[0]} msgs", large.tool.rss_mb / small.tool.rss_mb, 1.2))

"""``redrive`` of 1,000 failures × 10 records over 4 triggers (4 shards) against ``floor_redrive.py``.

Each trigger's table gets 2,500 real stream records; 250 pointers per trigger, each covering 10
consecutive records, are sent to its queue before every run (each run consumes them). The functions'
handlers accept every record. Measured at 0 ms (1,000 failures) and 20 ms (200 and 1,000 failures: fixed
costs weigh more in a small run): ``--concurrency 4``, ``--concurrency 1`` and the floor, interleaved.
Records per second per shard are shown against the stream's read limit (5 GetRecords/s per shard).
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import local_aws, sandbox_available, succeed
from bench.harness import BenchError, Goal, Proc, Row, Series, interleave

TRIGGERS = 4
RECORDS_PER_FAILURE = 10
GOAL_CALLS_PER_FAILURE = 1.5
GET_RECORDS_LIMIT_PER_SHARD = 5


def _check_drained(aws: fx.LocalAws, urls: list[str]) -> None:
    left = [fx.depth(aws, url) for url in urls]
    if any(visible or in_flight for visible, in_flight in left):
        raise BenchError(f"failures left in the queues after the redrive: {left}")


def _tool(aws: fx.LocalAws, spec: Path, urls: list[str], total: int, concurrency: int) -> Proc:
    proc = fx.tool(
        aws, "redrive", "-f", str(spec), "--yes", "--output", "json", "--concurrency", str(concurrency)
    ).check()
    doc = proc.json()
    if doc.get("redriven") != total or doc.get("failed"):
        raise BenchError(f"redrive: {doc.get('redriven')} redriven, {doc.get('failed')} failed of {total}")
    _check_drained(aws, urls)
    return proc


def _floor(aws: fx.LocalAws, spec: Path, urls: list[str], total: int) -> Proc:
    proc = fx.floor(aws, "floor_redrive.py", "-f", str(spec)).check()
    if f"redriven {total} " not in proc.stdout:
        raise BenchError(f"floor_redrive: {proc.stdout.strip()}")
    _check_drained(aws, urls)
    return proc


def _fixture(aws: fx.LocalAws, trigs: list[fx.Trig], per_trigger: int) -> dict[str, list[str]]:
    """Tables, functions, queues, disabled mappings, records; the pointers to send before each run."""
    fx.create_tables_and_functions(aws, trigs)
    fx.create_queues_and_mappings(aws, trigs, enabled=False)
    fx.parallel(lambda t: fx.write_items(aws, t, per_trigger * RECORDS_PER_FAILURE), trigs)
    bodies = {}
    for t in trigs:
        records = fx.read_stream(aws, t)
        bodies[fx.queue_url(aws, t)] = fx.pointers(records, t.function, RECORDS_PER_FAILURE)[:per_trigger]
        if len(bodies[fx.queue_url(aws, t)]) != per_trigger:
            raise BenchError(f"{t.table}: {len(records)} stream records, expected {per_trigger * 10}")
    return bodies


def _refill(aws: fx.LocalAws, bodies: dict[str, list[str]]) -> None:
    for url, items in bodies.items():
        fx.clear(url.rsplit("/", 1)[-1])
        fx.send_bodies(aws, url, items)


def _rows(ctx: Ctx, latency: int, series: list[Series], total: int) -> list[Row]:
    floor = series[-1]
    rows = []
    for tool in series[:-1]:
        row = Row("redrive", f"{total} failures, {tool.label} @ {latency} ms", tool, floor)
        calls = sum(tool.calls.values()) / total
        speedup = floor.median / tool.median
        row.figures += [
            f"{total / tool.median:.0f} failures/s (floor {total / floor.median:.0f})",
            f"{total * RECORDS_PER_FAILURE / tool.median:.0f} records/s",
            f"{total * RECORDS_PER_FAILURE / tool.median / TRIGGERS:.0f} records/s/shard with "
            f"{tool.calls.get('dynamodbstreams.GetRecords', 0) / tool.median / TRIGGERS:.2f} GetRecords/s/shard "
            f"(limit {GET_RECORDS_LIMIT_PER_SHARD})",
            f"{calls:.2f} calls/failure (floor {sum(floor.calls.values()) / total:.2f})",
        ]
        row.goals.append(Goal("calls/failure", calls, GOAL_CALLS_PER_FAILURE))
        if latency >= 20 and not ctx.quick:
            want = 3.0 if tool.label.endswith("4") else 0.9
            row.goals.append(Goal("throughput vs floor", speedup, want, higher_is_better=True))
        rows.append(row)
    return rows


def run(ctx: Ctx) -> list[Row]:
    fx.require_command("redrive")
    rows: list[Row] = []
    runs = ((0, 40),) if ctx.quick else ((0, 1000), (20, 200), (20, 1000))
    for latency, total in runs:
        per_trigger = total // TRIGGERS
        trigs = fx.triggers(f"redrive{total}", TRIGGERS)
        kind = ctx.server if ctx.server != "auto" else ("sandbox" if sandbox_available() else "moto")
        handlers = {t.function: succeed for t in trigs} if kind == "sandbox" else None
        with (
            tempfile.TemporaryDirectory(prefix="bench-redrive-") as tmp,
            local_aws(kind, latency_ms=latency, handlers=handlers) as aws,
        ):
            ctx.say(f"redrive: building {total} failures over {TRIGGERS} triggers @ {latency} ms")
            bodies = _fixture(aws, trigs, per_trigger)
            spec = fx.write_spec(Path(tmp), trigs, enabled=False)
            urls = list(bodies)

            ctx.say(f"redrive: {total} failures @ {latency} ms × {ctx.repeats}")
            series = interleave(
                ctx.repeats,
                [
                    ("--concurrency 4", functools.partial(_tool, aws, spec, urls, total, 4)),
                    ("--concurrency 1", functools.partial(_tool, aws, spec, urls, total, 1)),
                    ("floor_redrive", functools.partial(_floor, aws, spec, urls, total)),
                ],
                before=functools.partial(_refill, aws, bodies),
            )
        rows += _rows(ctx, latency, series, total)
    return rows

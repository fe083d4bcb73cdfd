"""``replay`` of 10,000 records over 4 shards against ``floor_replay.py``.

One trigger (batch size 100); its table's stream is a tree, as a table with several partitions has:
10 % of the records in a first shard, which splits into two siblings (10 % more, by partition key),
each of which splits into two again: four open sibling shards take the last 80 %. A reader must finish
a parent before its children and may read siblings in parallel (replay's ``--concurrency``, 4 by
default; the floor reads one shard after the other). Each run replays the whole history (``--since``
before the first write) to a function that accepts every record, with a fresh checkpoint file.
Measured at 20 ms (0 ms with ``--quick``): ``replay --engine local`` and the floor, interleaved.

Reported: calls per record (GetRecords + DescribeStream + Invoke ... of the median run), and
GetRecords per second per shard, against the ~5 per second per shard AWS allows every reader of a
shard together (the mapping reads the same shard).
"""

from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import local_aws, succeed
from bench.harness import BenchError, Goal, Proc, Row, Series, interleave

SHARDS = 4
BATCH = 100
GOAL_CALLS_PER_RECORD = 0.05
READ_LIMIT = 5.0  # GetRecords per second per shard, shared by every reader


def _spec(directory: Path, t: fx.Trig) -> Path:
    path = directory / "replay.yaml"
    path.write_text(
        f"version: 1\nregion: {fx.REGION}\ntriggers:\n"
        f"  - {{name: {t.name}, table: {t.table}, function: {t.function}, mapping: {{batch_size: {BATCH}}}}}\n"
    )
    return path


def _fixture(aws: fx.LocalAws, t: fx.Trig, total: int) -> None:
    """1 shard, split into 2, each split into 2: ``SHARDS`` open leaves holding 80 % of the records."""
    fx.create_tables_and_functions(aws, [t])
    fx.write_items(aws, t, total // 10)
    _, *children = aws.sandbox.split_shard(t.table, into=2)
    fx.write_items(aws, t, total // 10)
    for child in children:
        aws.sandbox.split_shard(t.table, into=SHARDS // 2, shard_id=child)
    fx.write_items(aws, t, total - 2 * (total // 10))


def _tool(aws: fx.LocalAws, spec: Path, tmp: Path, since: str, total: int) -> Proc:
    checkpoint = tmp / "replay-checkpoint.json"
    checkpoint.unlink(missing_ok=True)
    args = (
        "replay",
        "-f",
        str(spec),
        "--since",
        since,
        "--yes",
        "-o",
        "json",
        "--checkpoint",
        str(checkpoint),
    )
    proc = fx.tool(aws, *args).check()
    doc = proc.json()
    if doc.get("delivered") != total or doc.get("failed") or doc.get("not_attempted"):
        raise BenchError(f"replay: {doc.get('delivered')} delivered of {total}, {doc.get('failed')} failed")
    return proc


def _floor(aws: fx.LocalAws, spec: Path, since: float, total: int) -> Proc:
    proc = fx.floor(aws, "floor_replay.py", "-f", str(spec), "--since", str(since)).check()
    if f'"replayed": {total},' not in proc.stdout:
        raise BenchError(f"floor_replay: {proc.stdout.strip()}")
    return proc


def _row(latency: int, tool: Series, floor: Series, total: int) -> Row:
    row = Row("replay", f"{total} records, {SHARDS} shards, --engine local @ {latency} ms", tool, floor)
    calls = sum(tool.calls.values()) / total
    reads = sum(n for k, n in tool.calls.items() if k.endswith(".GetRecords"))
    per_shard = total / SHARDS / tool.median
    row.figures += [
        f"{total / tool.median:.0f} records/s (floor {total / floor.median:.0f})",
        f"{per_shard:.0f} records/s/shard",
        f"{calls:.3f} calls/record (floor {sum(floor.calls.values()) / total:.3f})",
        f"{reads / SHARDS / tool.median:.2f} GetRecords/s/shard (AWS allows {READ_LIMIT:g}, shared)",
    ]
    if total >= 10_000:  # at 400 records (--quick) the fixed reads of 7 shards weigh more than 0.05
        row.goals.append(Goal("calls/record", calls, GOAL_CALLS_PER_RECORD))
    row.goals.append(Goal("GetRecords/s/shard", reads / SHARDS / tool.median, READ_LIMIT / 2))
    if latency >= 20:  # issue 19: >= 3x the floor's throughput at 4 shards
        row.goals.append(Goal("throughput vs floor", floor.median / tool.median, 3, higher_is_better=True))
    return row


def run(ctx: Ctx) -> list[Row]:
    fx.require_command("replay")
    if ctx.server == "moto":
        raise BenchError("replay needs the sandbox (shard splits, a function that runs)")
    total = ctx.size(10_000, 400)
    latency = 0 if ctx.quick else 20
    t = fx.triggers("replay", 1)[0]
    with (
        tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp,
        local_aws("sandbox", latency_ms=latency, handlers={t.function: succeed}) as aws,
    ):
        ctx.say(f"replay: writing {total} records over {SHARDS} shards @ {latency} ms")
        since = time.time() - 60
        _fixture(aws, t, total)
        spec = _spec(Path(tmp), t)
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since))
        ctx.say(f"replay: {total} records @ {latency} ms × {ctx.repeats}")
        tool, floor = interleave(
            ctx.repeats,
            [
                ("replay", functools.partial(_tool, aws, spec, Path(tmp), iso, total)),
                ("floor_replay", functools.partial(_floor, aws, spec, since, total)),
            ],
        )
    return [_row(latency, tool, floor, total)]

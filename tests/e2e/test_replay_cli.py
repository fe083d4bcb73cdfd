"""``replay`` and ``tail`` against the sandbox, run as the installed ``ddbtrigger`` (a subprocess).

Records are written in three phases on the sandbox's clock (before, inside and after a window, 100 s
apart, the middle one across a shard split); the checks are by key and sequence number.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.aws.conftest_sandbox import FakeClock
from tests.conftest import ddbtrigger_executable
from tests.helpers import create_table, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sandbox")]

SPEC = """version: 1
region: us-east-1
triggers:
  - {name: orders-audit, table: orders, function: orders-fn, mapping: {batch_size: 3}}
"""


class Logger:
    """The function: logs every record it receives; ``delay`` slows each invoke."""

    def __init__(self, delay: float = 0.0) -> None:
        self.records: list[tuple[str, str, str]] = []  # (shard-less) key, seq, event source arn
        self.batches: list[list[str]] = []
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        time.sleep(self.delay)
        with self.lock:
            self.batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
            for r in event["Records"]:
                self.records.append(
                    (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"], r["eventSourceARN"])
                )

    @property
    def seqs(self) -> list[str]:
        with self.lock:
            return [s for _, s, _ in self.records]


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A sandbox with table ``orders`` and function ``orders-fn``; 5 records before the window, 12
    inside it (6 on the first shard, 6 on the child after a split), 5 after."""
    from ddbtrigger.sandbox import Sandbox

    clock = FakeClock()
    logger = Logger()
    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)
    with Sandbox(handlers={"orders-fn": logger}, state_seconds=0, clock=clock) as sb:
        ddb, streams = sb.client("dynamodb"), sb.client("dynamodbstreams")
        stream = create_table(ddb)["LatestStreamArn"]

        def put(prefix: str, n: int) -> None:
            for i in range(n):
                ddb.put_item(TableName="orders", Item={"pk": {"S": f"{prefix}{i}"}, "v": {"N": str(i)}})

        put("before", 5)
        clock.advance(100)
        since = clock()
        put("in", 6)
        sb.split_shard("orders")
        put("late", 6)
        clock.advance(100)
        until = clock() - 50
        put("after", 5)
        yield {
            "sb": sb,
            "logger": logger,
            "clock": clock,
            "since": iso(since - 1),
            "until": iso(until),
            "cwd": tmp_path,
            "env": {**os.environ, **sb.environment()},
            "stream": stream,
            "streams": streams,
        }


def stream_records(world: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Per shard, (key, seq) of every record, read directly."""
    streams, arn = world["streams"], world["stream"]
    out: dict[str, list[tuple[str, str]]] = {}
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )
        recs = streams.get_records(ShardIterator=it["ShardIterator"])["Records"]
        out[shard["ShardId"]] = [
            (r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["SequenceNumber"]) for r in recs
        ]
    return out


def run(world: dict[str, Any], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ddbtrigger_executable(), *args],
        cwd=world["cwd"],
        env=world["env"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def window_records(world: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    return {
        shard: [(k, s) for k, s in recs if k.startswith(("in", "late"))]
        for shard, recs in stream_records(world).items()
    }


def assert_delivered_in_stream_order(
    world: dict[str, Any], expected: dict[str, list[tuple[str, str]]]
) -> None:
    """The handler got exactly the ``expected`` (key, seq) of every shard, each shard's in stream order."""
    got = world["logger"].records
    assert sorted((k, s) for k, s, _ in got) == sorted(p for recs in expected.values() for p in recs)
    for recs in expected.values():  # per shard, in stream order
        seqs = [s for _, s in recs]
        assert [s for _, s, _ in got if s in seqs] == seqs


def test_replay_delivers_exactly_the_window_in_order(world: dict[str, Any]) -> None:
    result = run(world, "replay", "--since", world["since"], "--until", world["until"], "--yes", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    expected = window_records(world)
    assert doc["selected"] == doc["delivered"] == 12
    assert doc["failed"] == doc["not_attempted"] == doc["skipped_by_checkpoint"] == 0
    assert_delivered_in_stream_order(world, expected)
    assert all(len(b) <= 3 for b in world["logger"].batches)  # the mapping's batch size
    assert not list((world["cwd"] / ".ddbtrigger").glob("*.json"))  # finished: checkpoint removed


def test_replay_dry_run_and_key_selection_send_nothing_or_only_the_key(world: dict[str, Any]) -> None:
    dry = run(
        world, "replay", "--since", world["since"], "--until", world["until"], "--dry-run", "-o", "json"
    )
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["not_attempted"] == 12 and world["logger"].records == []
    one = run(
        world, "replay", "--since", world["since"], "--until", world["until"], "--key", "pk=late2", "--yes"
    )
    assert one.returncode == 0, one.stderr
    assert [k for k, _, _ in world["logger"].records] == ["late2"]


def test_replay_without_terminal_or_yes_refuses(world: dict[str, Any]) -> None:
    result = run(world, "replay", "--since", world["since"], "--until", world["until"])
    assert result.returncode == 2
    assert "--yes" in result.stderr and world["logger"].records == []


def test_sigkill_then_rerun_resends_nothing_acknowledged(world: dict[str, Any]) -> None:
    world["logger"].delay = 0.2
    args = [
        *ddbtrigger_executable(),
        "replay",
        "--since",
        world["since"],
        "--until",
        world["until"],
        "--yes",
        "--concurrency",
        "1",
        "-o",
        "json",
    ]
    victim = subprocess.Popen(
        args, cwd=world["cwd"], env=world["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    checkpoints = world["cwd"] / ".ddbtrigger"

    def saved() -> dict[str, str]:
        files = list(checkpoints.glob("replay-*.json")) if checkpoints.exists() else []
        try:
            return json.loads(files[0].read_text())["positions"] if files else {}
        except (ValueError, OSError):
            return {}

    wait_until(lambda: len(world["logger"].batches) >= 2 and saved(), "two batches and a checkpoint")
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    positions = saved()
    before = list(world["logger"].seqs)
    assert len(before) < 12, "the run finished before it could be killed"
    rerun = subprocess.run(
        args, cwd=world["cwd"], env=world["env"], capture_output=True, text=True, timeout=120
    )
    assert rerun.returncode == 0, rerun.stderr
    doc = json.loads(rerun.stdout)
    assert doc["skipped_by_checkpoint"] >= 3
    assert doc["delivered"] + doc["skipped_by_checkpoint"] == 12
    expected = window_records(world)
    assert {s for recs in expected.values() for _, s in recs} <= set(world["logger"].seqs)  # at least once
    resent = world["logger"].seqs[len(before) :]
    for shard, seq in positions.items():  # nothing acknowledged before the last checkpoint again
        acked = {s for _, s in expected[shard] if int(s) <= int(seq)}
        assert not acked & set(resent)


def test_tail_history_json_lines_oldest_first(world: dict[str, Any]) -> None:
    result = run(world, "tail", "-o", "json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in lines]
    assert keys[:5] == [f"before{i}" for i in range(5)] and len(keys) == 22
    assert all("NewImage" not in r["dynamodb"] for r in lines)
    shown = run(
        world,
        "tail",
        "--since",
        world["since"],
        "--until",
        world["until"],
        "--show-images",
        "--event",
        "INSERT",
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.count("INSERT") == 12 and "NewImage" in shown.stdout


def test_tail_follow_shows_new_records_and_a_child_shard(world: dict[str, Any]) -> None:
    args = [*ddbtrigger_executable(), "tail", "--follow", "-o", "json"]
    proc = subprocess.Popen(
        args, cwd=world["cwd"], env=world["env"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: list[str] = []

    def reader() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(json.loads(line)["dynamodb"]["Keys"]["pk"]["S"])

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    ddb = world["sb"].client("dynamodb")
    try:
        # until the tail is reading (LATEST from its start), keep writing probes
        n = 0
        while not seen:
            ddb.put_item(TableName="orders", Item={"pk": {"S": f"probe{n}"}})
            n += 1
            time.sleep(0.2)
            assert n < 150, "tail --follow never showed a new record"
        ddb.put_item(TableName="orders", Item={"pk": {"S": "new-parent"}})
        world["sb"].split_shard("orders")
        ddb.put_item(TableName="orders", Item={"pk": {"S": "new-child"}})
        wait_until(lambda: "new-child" in seen, "the child shard's record", timeout=40)
        assert "new-parent" in seen and seen.index("new-parent") < seen.index("new-child")
        assert not any(k.startswith(("before", "in", "late", "after")) for k in seen)  # only what was new
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 130


def test_replay_over_sibling_shards_goes_in_parallel_and_keeps_each_key_in_order(tmp_path: Path) -> None:
    """One shard split into two, each split again: four open siblings. Every key has a record in each
    generation, so its order spans parent, child and grandchild; one leaf holds its first batch until
    another leaf has delivered one, which only a replay working siblings in parallel can do."""
    from ddbtrigger.sandbox import Sandbox

    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)
    other_leaf_ran, waited = threading.Event(), []
    held: set[str] = set()
    others: set[str] = set()
    logger = Logger()

    def handler(event: dict[str, Any], context: Any) -> None:
        seqs = {r["dynamodb"]["SequenceNumber"] for r in event["Records"]}
        if seqs & held:
            waited.append(other_leaf_ran.wait(timeout=20))
        logger(event, context)
        if seqs & others:
            other_leaf_ran.set()

    with Sandbox(handlers={"orders-fn": handler}, state_seconds=0) as sb:
        ddb = sb.client("dynamodb")
        create_table(ddb)
        since = iso(time.time() - 60)
        keys = [f"k{i:02d}" for i in range(24)]

        def generation(n: int) -> None:
            for key in keys:
                ddb.put_item(TableName="orders", Item={"pk": {"S": key}, "v": {"N": str(n)}})

        generation(1)
        _, left, right = sb.split_shard("orders", into=2)
        generation(2)
        leaves = [*sb.split_shard("orders", into=2, shard_id=left)[1:]]
        leaves += sb.split_shard("orders", into=2, shard_id=right)[1:]
        generation(3)
        world = {"cwd": tmp_path, "env": {**os.environ, **sb.environment()}}
        world["streams"] = sb.client("dynamodbstreams")
        world["stream"] = ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
        by_shard = stream_records(world)
        assert len(by_shard) == 7  # 1 + 2 + 4
        filled = [leaf for leaf in leaves if by_shard[leaf]]
        assert len(filled) >= 3  # the keys spread over the leaves
        held.add(by_shard[filled[0]][0][1])
        others.update(s for leaf in filled[1:] for _, s in by_shard[leaf])

        result = run(world, "replay", "--since", since, "--yes", "--concurrency", "4", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["delivered"] == doc["selected"] == 3 * len(keys)
    assert waited == [True]  # another leaf delivered while the first one was held
    for key in keys:  # per key: its three generations, in sequence order
        seqs = [int(s) for k, s, _ in logger.records if k == key]
        assert len(seqs) == 3 and seqs == sorted(seqs)

"""The sandbox splits a shard on demand: the parent closes, a child opens, pollers read parent first."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.aws.conftest_sandbox import create_mapping, make_table, put, wait_for


def _shards(sb: Any, arn: str) -> list[dict[str, Any]]:
    description = sb.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"]
    return list(description["Shards"])


def _keys(sb: Any, arn: str, shard_id: str) -> tuple[list[str], bool]:
    """The keys a shard holds from TRIM_HORIZON, and whether its iterator chain ended."""
    streams = sb.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    page = streams.get_records(ShardIterator=iterator["ShardIterator"])
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]
    return keys, "NextShardIterator" not in page


def test_split_closes_the_parent_and_new_writes_go_to_the_child(sandbox: Any) -> None:
    arn = make_table(sandbox)
    put(sandbox, "a")
    put(sandbox, "b")
    (before,) = _shards(sandbox, arn)
    parent_id, child_id = sandbox.split_shard("orders")
    assert parent_id == before["ShardId"] and child_id != parent_id
    put(sandbox, "c")

    parent, child = _shards(sandbox, arn)
    assert parent["ShardId"] == parent_id and "ParentShardId" not in parent
    assert child["ShardId"] == child_id and child["ParentShardId"] == parent_id
    ending = int(parent["SequenceNumberRange"]["EndingSequenceNumber"])
    assert "EndingSequenceNumber" not in child["SequenceNumberRange"]
    assert int(parent["SequenceNumberRange"]["StartingSequenceNumber"]) <= ending
    assert ending < int(child["SequenceNumberRange"]["StartingSequenceNumber"])

    assert _keys(sandbox, arn, parent_id) == (["a", "b"], True)  # closed: the chain ends
    assert _keys(sandbox, arn, child_id) == (["c"], False)  # open: it goes on
    sandbox.split_shard("orders")  # the child splits in turn: a chain of three
    lineage = {s["ShardId"]: s.get("ParentShardId") for s in _shards(sandbox, arn)}
    assert len(lineage) == 3 and list(lineage.values()).count(child_id) == 1


def test_writes_racing_a_split_are_neither_lost_nor_misordered(sandbox: Any) -> None:
    arn = make_table(sandbox)
    done = threading.Event()
    written: list[str] = []

    def writer() -> None:
        for i in range(60):
            put(sandbox, f"k{i:03d}")
            written.append(f"k{i:03d}")
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    wait_for(lambda: len(written) >= 10, what="some writes before the split")
    sandbox.split_shard("orders")
    wait_for(done.is_set, what="the writer")
    thread.join()
    parent, child = _shards(sandbox, arn)
    in_parent, _ = _keys(sandbox, arn, parent["ShardId"])
    in_child, _ = _keys(sandbox, arn, child["ShardId"])
    assert in_parent + in_child == written  # every write once, in order, parent then child
    assert len(in_parent) >= 10


def test_split_without_an_enabled_stream_is_refused(sandbox: Any) -> None:
    make_table(sandbox, name="plain", view=None)
    with pytest.raises(ValueError, match="no enabled stream"):
        sandbox.split_shard("plain")
    with pytest.raises(ValueError, match="no table missing"):
        sandbox.split_shard("missing")


def test_the_mapping_reads_the_parent_to_its_end_before_the_child(sandbox: Any) -> None:
    delivered: list[str] = []
    lock = threading.Lock()

    def slow(event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            if key.startswith("p"):
                time.sleep(0.03)  # a slow parent: a child read in parallel would overtake it
            with lock:
                delivered.append(key)

    sandbox.register_handler("fn", slow)
    arn = make_table(sandbox)
    mapping = create_mapping(sandbox, arn, "fn", BatchSize=1, Enabled=False)
    for i in range(5):
        put(sandbox, f"p{i}")
    sandbox.split_shard("orders")
    for i in range(3):
        put(sandbox, f"c{i}")
    sandbox.client("lambda").update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    wait_for(lambda: len(delivered) == 8, what="all eight records delivered")
    assert delivered == ["p0", "p1", "p2", "p3", "p4", "c0", "c1", "c2"]


def test_a_split_while_the_mapping_runs_delivers_both_shards_in_order(sandbox: Any) -> None:
    delivered: list[str] = []
    sandbox.register_handler(
        "fn",
        lambda event, context: delivered.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]),
    )
    arn = make_table(sandbox)
    create_mapping(sandbox, arn, "fn", BatchSize=2)
    put(sandbox, "a")
    wait_for(lambda: delivered == ["a"], what="the first record")
    sandbox.split_shard("orders")
    put(sandbox, "b")
    put(sandbox, "c")
    wait_for(lambda: len(delivered) == 3, what="the child's records")
    assert delivered == ["a", "b", "c"]

"""Sibling shards: a split into several children (a partition split on AWS), writes routed by key."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.aws.conftest_sandbox import create_mapping, make_table, put, wait_for


def _shards(sb: Any, arn: str) -> list[dict[str, Any]]:
    description = sb.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"]
    return list(description["Shards"])


def _records(sb: Any, arn: str, shard_id: str) -> list[tuple[str, str, str]]:
    """(key, event name, sequence number) of every record of a shard, from TRIM_HORIZON."""
    streams = sb.client("dynamodbstreams")
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    page = streams.get_records(ShardIterator=iterator["ShardIterator"])
    return [
        (r["dynamodb"]["Keys"]["pk"]["S"], r["eventName"], r["dynamodb"]["SequenceNumber"])
        for r in page["Records"]
    ]


def _owner(sb: Any, arn: str, shard_ids: list[str]) -> dict[str, int]:
    """Each key's shard, as an index into ``shard_ids``; a key seen in two shards fails."""
    owner: dict[str, int] = {}
    for index, shard_id in enumerate(shard_ids):
        for key, _, _ in _records(sb, arn, shard_id):
            assert owner.setdefault(key, index) == index, f"{key} is in two shards"
    return owner


def test_a_split_into_two_lists_siblings_with_the_same_parent(sandbox: Any) -> None:
    arn = make_table(sandbox)
    put(sandbox, "a")
    parent_id, left_id, right_id = sandbox.split_shard("orders", into=2)
    parent, left, right = _shards(sandbox, arn)
    assert [parent["ShardId"], left["ShardId"], right["ShardId"]] == [parent_id, left_id, right_id]
    assert "ParentShardId" not in parent
    assert left["ParentShardId"] == right["ParentShardId"] == parent_id
    ending = parent["SequenceNumberRange"]["EndingSequenceNumber"]
    starts = [s["SequenceNumberRange"]["StartingSequenceNumber"] for s in (left, right)]
    assert all(s.isdigit() for s in [ending, *starts])  # decimal strings, compared as numbers
    assert all(int(ending) < int(s) for s in starts)
    assert all("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in (left, right))

    with pytest.raises(ValueError, match="2 open shards"):
        sandbox.split_shard("orders")  # ambiguous: which one?
    with pytest.raises(ValueError, match="closed already"):
        sandbox.split_shard("orders", shard_id=parent_id)
    sandbox.split_shard("orders", into=2, shard_id=left_id)
    shards = _shards(sandbox, arn)
    assert len(shards) == 5
    assert [s.get("ParentShardId") for s in shards[3:]] == [left_id, left_id]
    assert sum("EndingSequenceNumber" not in s["SequenceNumberRange"] for s in shards) == 3


def test_writes_go_to_one_sibling_per_key_in_order(sandbox: Any) -> None:
    arn = make_table(sandbox)
    _, *children = sandbox.split_shard("orders", into=2)
    keys = [f"k{i:02d}" for i in range(40)]
    for round_ in ("1", "2"):
        for key in keys:
            put(sandbox, key, round=round_)
    owner = _owner(sandbox, arn, children)
    assert sorted(owner) == keys and set(owner.values()) == {0, 1}  # both siblings hold keys
    for child in children:
        records = _records(sandbox, arn, child)
        assert [int(seq) for _, _, seq in records] == sorted(int(seq) for _, _, seq in records)
        for key in {k for k, _, _ in records}:  # per key: the insert, then the modify
            assert [e for k, e, _ in records if k == key] == ["INSERT", "MODIFY"]

    other = make_table(sandbox, name="other")  # the same split elsewhere routes each key the same way
    _, *other_children = sandbox.split_shard("other", into=2)
    for key in keys:
        put(sandbox, key, table="other")
    assert _owner(sandbox, other, other_children) == owner


def test_the_mapping_reads_the_parent_then_the_siblings_in_parallel(sandbox: Any) -> None:
    delivered: list[str] = []
    lock = threading.Lock()
    other_sibling_ran = threading.Event()
    waited: list[bool] = []
    arn = make_table(sandbox)
    for i in range(3):
        put(sandbox, f"p{i}")
    _, left, right = sandbox.split_shard("orders", into=2)
    for i in range(20):
        put(sandbox, f"c{i:02d}")
    in_left = [k for k, _, _ in _records(sandbox, arn, left)]
    in_right = [k for k, _, _ in _records(sandbox, arn, right)]
    assert in_left and in_right

    def handler(event: dict[str, Any], context: Any) -> None:
        (record,) = event["Records"]
        key = record["dynamodb"]["Keys"]["pk"]["S"]
        if key == in_left[0]:  # the left sibling waits for the right one: sequential reading deadlocks
            waited.append(other_sibling_ran.wait(timeout=10))
        with lock:
            delivered.append(key)
        if key in in_right:
            other_sibling_ran.set()

    sandbox.register_handler("fn", handler)
    create_mapping(sandbox, arn, "fn", BatchSize=1)
    wait_for(lambda: len(delivered) == 23, what="every record delivered", timeout=20)
    assert waited == [True]  # the right sibling ran while the left one was held
    assert delivered[:3] == ["p0", "p1", "p2"]  # the parent first
    assert [k for k in delivered if k in in_left] == in_left  # each sibling in its order
    assert [k for k in delivered if k in in_right] == in_right

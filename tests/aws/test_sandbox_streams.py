"""DynamoDB Streams in the sandbox: re-enable gives a new stream, trimming, iterators."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest_sandbox import (
    make_table,
    put,
    stream_sequence_numbers,
)


def _shard(sb: Any, arn: str) -> dict[str, Any]:
    shards = sb.client("dynamodbstreams").describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    assert len(shards) == 1
    return dict(shards[0])


def _error(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_reenabling_a_stream_gives_a_new_arn_and_a_fresh_shard(sandbox: Any) -> None:
    ddb, streams = sandbox.client("dynamodb"), sandbox.client("dynamodbstreams")
    old = make_table(sandbox)
    assert old
    put(sandbox, "before")
    ddb.update_table(TableName="orders", StreamSpecification={"StreamEnabled": False})
    put(sandbox, "while-disabled")  # moto alone crashes here
    assert ddb.get_item(TableName="orders", Key={"pk": {"S": "while-disabled"}})["Item"]
    old_description = streams.describe_stream(StreamArn=old)["StreamDescription"]
    assert old_description["StreamStatus"] == "DISABLED"
    assert "EndingSequenceNumber" in old_description["Shards"][0]["SequenceNumberRange"]
    with pytest.raises(ClientError) as caught:
        ddb.update_table(TableName="orders", StreamSpecification={"StreamEnabled": False})
    assert _error(caught) == "ValidationException"

    ddb.update_table(
        TableName="orders", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )
    new = ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
    assert new != old
    put(sandbox, "after")
    assert _shard(sandbox, new)["ShardId"] != _shard(sandbox, old)["ShardId"]
    assert len(stream_sequence_numbers(sandbox, old)) == 1  # the old stream stays readable
    new_records = stream_sequence_numbers(sandbox, new)
    assert len(new_records) == 1
    assert int(new_records[0]) > int(stream_sequence_numbers(sandbox, old)[0])
    listed = {s["StreamArn"] for s in streams.list_streams(TableName="orders")["Streams"]}
    assert listed == {old, new}
    with pytest.raises(ClientError) as again:
        ddb.update_table(
            TableName="orders", StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
        )
    assert _error(again) == "ValidationException"


def test_closed_shard_ends_its_iterator_chain(sandbox: Any) -> None:
    streams = sandbox.client("dynamodbstreams")
    arn = make_table(sandbox)
    put(sandbox, "a")
    sandbox.client("dynamodb").update_table(TableName="orders", StreamSpecification={"StreamEnabled": False})
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=_shard(sandbox, arn)["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert len(page["Records"]) == 1
    assert "NextShardIterator" not in page


def test_records_past_the_retention_are_trimmed(sandbox: Any, clock: Any) -> None:
    sandbox.model.retention_seconds = 60
    streams = sandbox.client("dynamodbstreams")
    arn = make_table(sandbox)
    shard = _shard(sandbox, arn)["ShardId"]
    put(sandbox, "old")
    first = stream_sequence_numbers(sandbox, arn)[0]
    stale = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    clock.advance(61)
    put(sandbox, "new")
    with pytest.raises(ClientError) as caught:
        streams.get_records(ShardIterator=stale["ShardIterator"])
    assert _error(caught) == "TrimmedDataAccessException"
    with pytest.raises(ClientError) as at:
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=first
        )
    assert _error(at) == "TrimmedDataAccessException"
    remaining = stream_sequence_numbers(sandbox, arn)
    assert len(remaining) == 1 and remaining[0] != first


def test_iterators_expire_after_fifteen_minutes(sandbox: Any, clock: Any) -> None:
    streams = sandbox.client("dynamodbstreams")
    arn = make_table(sandbox)
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=_shard(sandbox, arn)["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    clock.advance(901)
    with pytest.raises(ClientError) as caught:
        streams.get_records(ShardIterator=iterator)
    assert _error(caught) == "ExpiredIteratorException"


def test_sequence_numbers_page_in_order_at_and_after(sandbox: Any) -> None:
    streams = sandbox.client("dynamodbstreams")
    arn = make_table(sandbox)
    for i in range(5):
        put(sandbox, f"k{i}")
    seqs = stream_sequence_numbers(sandbox, arn)
    shard = _shard(sandbox, arn)["ShardId"]
    at = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=seqs[2]
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=at, Limit=2)
    assert [r["dynamodb"]["SequenceNumber"] for r in page["Records"]] == seqs[2:4]
    page = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert [r["dynamodb"]["SequenceNumber"] for r in page["Records"]] == seqs[4:]
    after = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=seqs[4]
    )["ShardIterator"]
    assert streams.get_records(ShardIterator=after)["Records"] == []

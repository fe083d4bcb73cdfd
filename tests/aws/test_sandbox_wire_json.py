"""The sandbox's GetRecords body equals what moto's own serializer writes, for every attribute type."""

from __future__ import annotations

import json
from typing import Any

from tests.aws.conftest_sandbox import make_table

ITEM: dict[str, Any] = {
    "pk": {"S": "key-ü"},
    "n": {"N": "12.50"},
    "b": {"B": b"\x00\xffbinary"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [b"x", b"\x01"]},
    "m": {"M": {"inner": {"S": "v"}, "deep": {"L": [{"N": "1"}, {"BOOL": False}]}}},
    "l": {"L": [{"S": "x"}, {"NULL": True}, {"B": b"y"}]},
    "t": {"BOOL": True},
    "z": {"NULL": True},
}


def _moto_body(result: dict[str, Any]) -> Any:
    """The body moto's generic serializer writes for GetRecords (what the sandbox replaced)."""
    from moto.core.responses import XFormedAttributePicker, get_service_model
    from moto.core.serialize import get_serializer_class

    model = get_service_model("dynamodbstreams")
    serializer = get_serializer_class("dynamodbstreams", "json")(
        operation_model=model.operation_model("GetRecords"), value_picker=XFormedAttributePicker()
    )
    return json.loads(serializer.serialize(result)["body"])


def test_get_records_body_equals_motos_serializer(sandbox: Any) -> None:
    from ddbtrigger.sandbox.wire_json import get_records_body

    arn = make_table(sandbox)
    ddb = sandbox.client("dynamodb")
    ddb.put_item(TableName="orders", Item=ITEM)
    ddb.put_item(TableName="orders", Item={**ITEM, "t": {"BOOL": False}})  # MODIFY: both images
    ddb.delete_item(TableName="orders", Key={"pk": ITEM["pk"]})
    streams = sandbox.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    (stream,) = sandbox.model.streams_of(_table(sandbox))
    records = stream.shards[0].records(0, 10)
    result = {"Records": records, "NextShardIterator": iterator["ShardIterator"]}
    assert json.loads(get_records_body(result)) == _moto_body(result)

    page = streams.get_records(ShardIterator=iterator["ShardIterator"])  # and boto3 reads it back
    assert [r["eventName"] for r in page["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert page["Records"][0]["dynamodb"]["NewImage"]["b"]["B"] == b"\x00\xffbinary"
    assert page["Records"][1]["dynamodb"]["OldImage"]["bs"]["BS"] == [b"x", b"\x01"]
    assert "NextShardIterator" in page


def _table(sandbox: Any) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"][sandbox.region].tables["orders"]

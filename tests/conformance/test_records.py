"""Stream records reach the function as AWS sends them (recorded facts, AWS-NOTES.md, last section).

Source: LocalStack's AWS-validated snapshot of
tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_dynamodbstreams.py.
"""

from __future__ import annotations

import base64
import logging
import threading
from typing import Any

import pytest

from ddbtrigger.sandbox.server import ACCOUNT_ID
from tests.aws.conftest_sandbox import create_mapping, make_queue, receive, wait_for

pytestmark = pytest.mark.xdist_group("sandbox")

HELLO = {"my_partition_key": {"S": "hello world"}}


class Events:
    """The function: keeps every record it is given; fails while a record holds ``fail``."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self.lock:
            self.records.extend(event["Records"])
        if any("fail" in r["dynamodb"].get("NewImage", {}) for r in event["Records"]):
            raise ValueError("fail")
        return None

    def by_name(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["eventName"] == name]


def table(sb: Any, view: str, key: str = "my_partition_key") -> str:
    ddb = sb.client("dynamodb")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return str(ddb.describe_table(TableName="t")["Table"]["LatestStreamArn"])


def run(sb: Any, view: str, *items: dict[str, Any], key: str = "my_partition_key") -> Events:
    events = Events()
    stream = table(sb, view, key)
    sb.register_handler("fn", events)
    create_mapping(sb, stream, "fn", BatchSize=1)
    for item in items:
        sb.client("dynamodb").put_item(TableName="t", Item=item)
    wait_for(lambda: len(events.records) >= len(items), what="every record at the function")
    return events


def test_binary_attribute_is_base64_text(sandbox: Any) -> None:
    """Recorded (test_dynamodb_event_source_mapping): an item holding ``binary_key`` = b"foobar" reaches
    the function as ``"NewImage": {"binary_key": {"B": "Zm9vYmFy"}, "my_partition_key": {"S": "hello
    world"}}``, ``"SizeBytes": 70``, ``"StreamViewType": "NEW_IMAGE"``."""
    events = run(sandbox, "NEW_IMAGE", {**HELLO, "binary_key": {"B": b"foobar"}})
    (record,) = events.records
    assert record["dynamodb"]["NewImage"] == {"binary_key": {"B": "Zm9vYmFy"}, **HELLO}
    assert record["dynamodb"]["Keys"] == HELLO
    assert record["dynamodb"]["SizeBytes"] == 70
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert (record["eventName"], record["eventVersion"], record["eventSource"]) == (
        "INSERT",
        "1.1",
        "aws:dynamodb",
    )


def test_binary_sets_and_nested_binaries_are_base64_text(sandbox: Any) -> None:
    """Recorded fact (AWS-NOTES.md): Lambda's event is JSON: ``B`` values are base64 text, ``BS`` a list
    of base64 texts, also nested inside ``M`` and ``L``."""
    item = {
        **HELLO,
        "bs": {"BS": [b"foo", b"bar"]},
        "doc": {"M": {"raw": {"B": b"foobar"}, "list": {"L": [{"B": b"\x00"}, {"BS": [b"\xff"]}]}}},
    }
    (record,) = run(sandbox, "NEW_IMAGE", item).records
    image = record["dynamodb"]["NewImage"]
    assert sorted(image["bs"]["BS"]) == sorted(["Zm9v", "YmFy"])
    assert image["doc"] == {"M": {"raw": {"B": "Zm9vYmFy"}, "list": {"L": [{"B": "AA=="}, {"BS": ["/w=="]}]}}}
    assert base64.b64decode(image["doc"]["M"]["raw"]["B"]) == b"foobar"


def test_approximate_creation_date_time_is_a_float(sandbox: Any) -> None:
    """Recorded fact (AWS-NOTES.md): ``ApproximateCreationDateTime`` is a float (epoch seconds), not an int;
    the recorded date_time_conversion filter matches it as a number."""
    (record,) = run(sandbox, "NEW_IMAGE", HELLO).records
    value = record["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(value, float) and value > 1_600_000_000


@pytest.mark.parametrize(
    ("view", "items", "name", "size"),
    [
        (
            "NEW_IMAGE",
            [HELLO],
            "INSERT",
            54,
        ),  # test_dynamodb_event_source_mapping_with_s3_on_failure_destination
        (
            "NEW_AND_OLD_IMAGES",
            [{"id": {"S": "id_value"}}, {"id": {"S": "id_value"}, "id2": {"S": "id2_new_value"}}],
            "MODIFY",
            46,
        ),  # test_dynamodb_event_filter[content_or_filter]
        ("NEW_AND_OLD_IMAGES", [{"id": {"S": "id_value_1"}, "numericFilter": {"N": "42"}}], "INSERT", 39),
        (
            "NEW_IMAGE",
            [{"my_partition_key": {"S": "testId0"}, "should_fail": {"BOOL": False}}],
            "INSERT",
            58,
        ),  # test_dynamodb_report_batch_item_failures
    ],
    ids=["keys-and-new-image-54", "modify-old-and-new-46", "number-39", "bool-58"],
)
def test_size_bytes_is_dynamodbs_item_size(
    sandbox: Any,
    view: str,
    items: list[dict[str, Any]],
    name: str,
    size: int,
) -> None:
    """Recorded: SizeBytes is DynamoDB's item size over Keys, NewImage and OldImage as present (e.g. Keys
    ``{"my_partition_key": "hello world"}`` + the same NewImage = 27 + 27 = 54; a MODIFY with OldImage
    ``id`` and NewImage ``id`` + ``id2: "id2_new_value"`` = 46); moto reports 220-290."""
    key = next(iter(items[0]))
    events = run(sandbox, view, *items, key=key)
    assert events.by_name(name)[-1]["dynamodb"]["SizeBytes"] == size


def test_a_record_that_cannot_be_encoded_fails_its_batch_not_the_poller(
    sandbox: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 12, Done when: no poller ever stops on a record; a record the sandbox cannot encode is a
    logged failure of that batch (retries, bisect, the on-failure destination), never a dead shard."""
    events = Events()
    stream = table(sandbox, "NEW_IMAGE")
    sandbox.register_handler("fn", events)
    url, dlq = make_queue(sandbox)
    ddb = sandbox.client("dynamodb")
    for i in range(3):
        ddb.put_item(TableName="t", Item={"my_partition_key": {"S": f"k{i}"}})
    (shard,) = next(s for s in sandbox.model.all_streams(_ddb_backend()) if s.arn == stream).shards
    shard.items[1].record["dynamodb"]["NewImage"]["bad"] = {"NOT_A_TYPE": object()}
    caplog.set_level(logging.ERROR, logger="ddbtrigger.sandbox")
    create_mapping(
        sandbox,
        stream,
        "fn",
        BatchSize=10,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    (pointer,) = wait_for(lambda: receive(sandbox, url), what="the unencodable record's pointer")
    info, bad_seq = pointer["DDBStreamBatchInfo"], shard.items[1].record["dynamodb"]["SequenceNumber"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == bad_seq and info["batchSize"] == 1
    assert pointer["requestContext"]["condition"] == "RetryAttemptsExhausted"
    wait_for(lambda: {"k0", "k2"} <= _delivered(events), what="the other records")
    ddb.put_item(TableName="t", Item={"my_partition_key": {"S": "later"}})
    wait_for(lambda: "later" in _delivered(events), what="a later record: the poller lives on")
    assert "k1" not in _delivered(events)
    assert any("cannot encode" in r.getMessage() for r in caplog.records)


def _delivered(events: Events) -> set[str]:
    return {r["dynamodb"]["Keys"]["my_partition_key"]["S"] for r in events.records}


def _ddb_backend() -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[ACCOUNT_ID]["us-east-1"]

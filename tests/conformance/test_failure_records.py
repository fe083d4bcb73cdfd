"""On-failure records and partial batch responses, as AWS recorded them.

Source: LocalStack's AWS-validated snapshots of DynamoDB-stream mappings
(``test_lambda_integration_dynamodbstreams.py`` and its ``.snapshot.json``), summarised in
../shared/AWS-NOTES.md, last section. Items use string attributes only (binary is another module's).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from ddbtrigger.core.failures import Failure, parse_failure
from tests.aws.conftest_sandbox import create_mapping, make_queue, make_table, receive, stays_false, wait_for

pytestmark = pytest.mark.xdist_group("sandbox")

RECORD_KEYS = ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"]
REQUEST_KEYS = ["requestId", "functionArn", "condition", "approximateInvokeCount"]
RESPONSE_KEYS = ["statusCode", "executedVersion", "functionError"]
BATCH_KEYS = [
    "shardId",
    "startSequenceNumber",
    "endSequenceNumber",
    "approximateArrivalOfFirstRecord",
    "approximateArrivalOfLastRecord",
    "batchSize",
    "streamArn",
]
MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


class Scripted:
    """A function that answers ``response`` (or raises, for ``RAISE``) and counts each record's deliveries."""

    RAISE = object()

    def __init__(self, response: Any = None, *, fail_key: str | None = None) -> None:
        self.response, self.fail_key = response, fail_key
        self.deliveries: Counter[str] = Counter()
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]
        with self.lock:
            self.deliveries.update(keys)
        if self.response is Scripted.RAISE:
            return 1 / 0
        if self.fail_key is not None:  # the recorded function: report the failing item by sequence number
            failing = [r for r in event["Records"] if r["dynamodb"]["Keys"]["pk"]["S"] == self.fail_key]
            return {
                "batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failing]
            }
        return self.response


def put_items(sb: Any, *keys: str) -> None:
    for key in keys:
        sb.client("dynamodb").put_item(
            TableName="orders", Item={"pk": {"S": key}, "data": {"S": "hello world"}}
        )


def assert_recorded_shape(record: dict[str, Any], *, function_arn: str, stream_arn: str) -> None:
    """Every field of the recorded invocation record, in AWS's order and with AWS's types and formats."""
    assert list(record) == RECORD_KEYS
    assert list(record["requestContext"]) == REQUEST_KEYS
    assert list(record["responseContext"]) == RESPONSE_KEYS
    assert list(record["DDBStreamBatchInfo"]) == BATCH_KEYS
    request, response, batch = (
        record["requestContext"],
        record["responseContext"],
        record["DDBStreamBatchInfo"],
    )
    assert re.fullmatch(r"[0-9a-f-]{36}", request["requestId"])
    assert request["functionArn"] == function_arn
    assert request["condition"] == "RetryAttemptsExhausted"
    assert response["statusCode"] == 200 and response["executedVersion"] == "$LATEST"
    assert record["version"] == "1.0" and MILLIS.match(record["timestamp"])
    assert batch["streamArn"] == stream_arn and batch["shardId"].startswith("shardId-")
    assert SECONDS.match(batch["approximateArrivalOfFirstRecord"])
    assert SECONDS.match(batch["approximateArrivalOfLastRecord"])
    assert int(batch["startSequenceNumber"]) <= int(batch["endSequenceNumber"])


def setup(sb: Any, handler: Any) -> tuple[str, str, str, str]:
    """Table, function and queue (URL and ARN); the items are written by the caller before ``start``."""
    stream = make_table(sb, view="NEW_IMAGE")
    assert stream
    sb.register_handler("fn", handler)
    url, arn = make_queue(sb, "dlq")
    fn_arn = sb.client("lambda").get_function(FunctionName="fn")["Configuration"]["FunctionArn"]
    return stream, url, arn, fn_arn


def start(sb: Any, stream: str, destination: str | None, **settings: Any) -> dict[str, Any]:
    if destination:
        settings["DestinationConfig"] = {"OnFailure": {"Destination": destination}}
    return create_mapping(sb, stream, "fn", **settings)


def one_message(sb: Any, url: str) -> dict[str, Any]:
    (body,) = wait_for(lambda: receive(sb, url), timeout=20, what="the invocation record")
    return body  # type: ignore[no-any-return]


def test_sqs_record_of_an_unhandled_error_is_field_by_field_the_recorded_one(sandbox: Any) -> None:
    """Recorded (on_failure_destination_config): BatchSize 1, MaximumRetryAttempts 1, a function that
    raises -> one SQS message whose body is requestContext {requestId, functionArn, condition
    "RetryAttemptsExhausted", approximateInvokeCount 2}, responseContext {statusCode 200, executedVersion
    "$LATEST", functionError "Unhandled"}, version "1.0", timestamp with milliseconds, and
    DDBStreamBatchInfo {shardId, start = end sequence number, arrival times in seconds, batchSize 1,
    streamArn}, in that order."""
    fn = Scripted(Scripted.RAISE)
    stream, url, arn, fn_arn = setup(sandbox, fn)
    put_items(sandbox, "hello world")
    start(sandbox, stream, arn, BatchSize=1, MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1)
    record = one_message(sandbox, url)
    assert_recorded_shape(record, function_arn=fn_arn, stream_arn=stream)
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    batch = record["DDBStreamBatchInfo"]
    assert batch["batchSize"] == 1 and batch["startSequenceNumber"] == batch["endSequenceNumber"]
    assert fn.deliveries == {"hello world": 2}
    parsed = parse_failure(json.dumps(record), id="m", source="sqs")
    assert isinstance(parsed, Failure) and parsed.function_error == "Unhandled"


def test_sns_envelope_is_signature_version_1_with_the_recorded_fields(sandbox: Any) -> None:
    """Recorded (sns_on_failure_destination_config): the SQS subscriber of the topic receives
    {Message, MessageId, Signature, SignatureVersion "1", SigningCertURL
    .../SimpleNotificationService-<file>, Timestamp, TopicArn, Type "Notification", UnsubscribeURL
    ...?Action=Unsubscribe&SubscriptionArn=<topic>:<subscription>}, Message the invocation record."""
    fn = Scripted(Scripted.RAISE)
    stream, url, queue_arn, fn_arn = setup(sandbox, fn)
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="failures")["TopicArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    put_items(sandbox, "hello world")
    start(sandbox, stream, topic, BatchSize=1, MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=1)
    envelope = one_message(sandbox, url)
    assert set(envelope) == {
        "Message", "MessageId", "Signature", "SignatureVersion", "SigningCertURL", "Timestamp",
        "TopicArn", "Type", "UnsubscribeURL",
    }  # fmt: skip
    assert envelope["SignatureVersion"] == "1" and envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic and MILLIS.match(envelope["Timestamp"])
    assert re.fullmatch(
        r"https://sns\.us-east-1\.amazonaws\.com/SimpleNotificationService-\w+\.pem",
        envelope["SigningCertURL"],
    )
    assert envelope["UnsubscribeURL"] == (
        f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}"
    )
    record = json.loads(envelope["Message"])
    assert_recorded_shape(record, function_arn=fn_arn, stream_arn=stream)
    assert record["requestContext"]["approximateInvokeCount"] == 2
    parsed = parse_failure(json.dumps(envelope), id="m", source="sns")
    assert isinstance(parsed, Failure) and parsed.function_error == "Unhandled"


def test_s3_object_holds_the_record_and_the_invocation_under_the_recorded_key(sandbox: Any) -> None:
    """Recorded (s3_on_failure_destination): the object is {DDBStreamBatchInfo, payload {Records: the
    event}, requestContext (approximateInvokeCount 2), responseContext (functionError "Unhandled"),
    timestamp, version}, under aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-..."""
    fn = Scripted(Scripted.RAISE)
    stream, _, _, _ = setup(sandbox, fn)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="failures")
    put_items(sandbox, "hello world")
    mapping = start(
        sandbox,
        stream,
        "arn:aws:s3:::failures",
        BatchSize=1,
        MaximumBatchingWindowInSeconds=1,
        MaximumRetryAttempts=1,
    )
    (key,) = wait_for(
        lambda: [o["Key"] for o in s3.list_objects_v2(Bucket="failures").get("Contents", [])],
        timeout=20,
        what="the S3 failure object",
    )
    record = json.loads(s3.get_object(Bucket="failures", Key=key)["Body"].read())
    assert set(record) == {*RECORD_KEYS, "payload"}
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"]["functionError"] == "Unhandled"
    payload = record["payload"] if isinstance(record["payload"], dict) else json.loads(record["payload"])
    (event_record,) = payload["Records"]
    assert event_record["dynamodb"]["Keys"] == {"pk": {"S": "hello world"}}
    moment = datetime.fromisoformat(record["timestamp"])
    shard = record["DDBStreamBatchInfo"]["shardId"]
    assert key.startswith(
        f"aws/lambda/{mapping['UUID']}/{shard}/{moment:%Y/%m/%d}/{moment:%Y-%m-%dT%H.%M.%S}"
    )


def test_partial_batch_failure_record_has_null_function_error_and_skips_the_first_report(
    sandbox: Any,
) -> None:
    """Recorded (report_batch_item_failures): BatchSize 3, MaximumRetryAttempts 3, six items of which the
    last is reported in batchItemFailures -> the other five delivered once, the failing one 5 times; one
    record with approximateInvokeCount 4, batchSize 1, start = end = the failing record, and
    responseContext.functionError present and null (the function returned normally)."""
    fn = Scripted(fail_key="testId5")
    stream, url, arn, fn_arn = setup(sandbox, fn)
    put_items(sandbox, *(f"testId{i}" for i in range(6)))
    start(
        sandbox, stream, arn, BatchSize=3, MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=3,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    record = one_message(sandbox, url)
    assert_recorded_shape(record, function_arn=fn_arn, stream_arn=stream)
    assert record["responseContext"]["functionError"] is None
    assert record["requestContext"]["approximateInvokeCount"] == 4
    batch = record["DDBStreamBatchInfo"]
    assert batch["batchSize"] == 1 and batch["startSequenceNumber"] == batch["endSequenceNumber"]
    assert fn.deliveries == {**{f"testId{i}": 1 for i in range(5)}, "testId5": 5}
    parsed = parse_failure(json.dumps(record), id="m", source="sqs")
    assert isinstance(parsed, Failure) and parsed.function_error is None
    assert parsed.approximate_invoke_count == 4


MALFORMED = {
    "item_identifier_not_present_failure": {"batchItemFailures": [{"itemIdentifier": 123}]},
    "empty_string_item_identifier_failure": {"batchItemFailures": [{"itemIdentifier": ""}]},
    "null_item_identifier_failure": {"batchItemFailures": [{"itemIdentifier": None}]},
    "invalid_key_foo_failure": {"batchItemFailures": [{"foo": 123}]},
    "invalid_key_foo_null_value_failure": {"batchItemFailures": [{"foo": None}]},
    "unhandled_exception_in_function": Scripted.RAISE,
}


@pytest.mark.parametrize("response", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_batch_item_failures_fail_the_whole_batch(sandbox: Any, response: Any) -> None:
    """Recorded (report_batch_item_failure_scenarios): BatchSize 3, MaximumRetryAttempts 3, one item,
    a function answering a malformed batchItemFailures (identifier 123, "", null, or missing) -> the item
    delivered 4 times, one record with approximateInvokeCount 4, batchSize 1 and functionError null;
    a function that raises -> the same with functionError "Unhandled"."""
    fn = Scripted(response)
    stream, url, arn, fn_arn = setup(sandbox, fn)
    put_items(sandbox, "hello world")
    start(
        sandbox, stream, arn, BatchSize=3, MaximumBatchingWindowInSeconds=1, MaximumRetryAttempts=3,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    record = one_message(sandbox, url)
    assert_recorded_shape(record, function_arn=fn_arn, stream_arn=stream)
    assert record["requestContext"]["approximateInvokeCount"] == 4
    assert record["DDBStreamBatchInfo"]["batchSize"] == 1
    expected = "Unhandled" if response is Scripted.RAISE else None
    assert record["responseContext"]["functionError"] == expected
    assert fn.deliveries == {"hello world": 4}


SUCCESSES = {
    "empty_list_success": [],
    "null_success": None,
    "empty_dict_success": {},
    "empty_batch_item_failure_success": {"batchItemFailures": []},
    "null_batch_item_failure_success": {"batchItemFailures": None},
}


@pytest.mark.parametrize("response", list(SUCCESSES.values()), ids=list(SUCCESSES))
def test_empty_responses_are_successes(sandbox: Any, response: Any) -> None:
    """Recorded (report_batch_item_success_scenarios): BatchSize 1, MaximumRetryAttempts 2,
    ReportBatchItemFailures, a function answering [], null, {}, {"batchItemFailures": []} or
    {"batchItemFailures": null} -> the record is delivered once and never retried."""
    fn = Scripted(response)
    stream, url, arn, _ = setup(sandbox, fn)
    put_items(sandbox, "hello world")
    mapping = start(
        sandbox, stream, arn, BatchSize=1, MaximumBatchingWindowInSeconds=0, MaximumRetryAttempts=2,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )  # fmt: skip
    lam = sandbox.client("lambda")
    wait_for(
        lambda: lam.get_event_source_mapping(UUID=mapping["UUID"]).get("LastProcessingResult") == "OK",
        what="the batch to succeed",
    )
    assert stays_false(lambda: sum(fn.deliveries.values()) > 1, sandbox)
    assert fn.deliveries == {"hello world": 1} and receive(sandbox, url) == []

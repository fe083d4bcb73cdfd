"""The failure-record parser over real-shaped records and every kind of junk a destination can hold."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ddbtrigger.core.failures import Failure, Malformed, iso, parse_failure

STREAM_ARN = "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388"

# As documented in the Lambda developer guide (services-dynamodb-errors).
# a failure's keys in its JSON document, in order (the product contract of ``inspect-dlq -o json``)
FAILURE_KEYS = [
    "id",
    "trigger",
    "shard_id",
    "start_sequence_number",
    "end_sequence_number",
    "batch_size",
    "condition",
    "approximate_invoke_count",
    "function_error",
    "approximate_arrival_of_first_record",
    "expires_at",
    "expired",
    "stream_arn",
]

RETRY_EXHAUSTED: dict[str, Any] = {
    "requestContext": {
        "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
        "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 1,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
    "version": "1.0",
    "timestamp": "2019-11-14T00:13:49.717Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
        "batchSize": 1,
        "streamArn": STREAM_ARN,
    },
}

# An age-out: the record got too old before the function succeeded. The condition name is not
# documented with certainty; it is shown as it comes.
AGE_OUT: dict[str, Any] = {
    "requestContext": {
        "requestId": "9a1f0c2e-0000-4f00-8000-0123456789ab",
        "functionArn": "arn:aws:lambda:eu-west-1:123456789012:function:orders-audit:live",
        "condition": "RecordAgeExceeded",
        "approximateInvokeCount": 7,
    },
    "responseContext": {"statusCode": 200, "executedVersion": "3", "functionError": "Handled"},
    "version": "1.0",
    "timestamp": "2025-06-05T18:22:26.479Z",
    "DDBStreamBatchInfo": {
        "shardId": "shardId-00000001749146509813-cc2e3ba4",
        "startSequenceNumber": "202328600001712385967261751",
        "endSequenceNumber": "202328600001712385967261999",
        "approximateArrivalOfFirstRecord": "2025-06-05T18:21:49Z",
        "approximateArrivalOfLastRecord": "2025-06-05T18:21:52Z",
        "batchSize": 4,
        "streamArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2025-04-23T13:37:16.991",
    },
}

RECORDS = [
    {
        "eventID": "1",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-2",
        "dynamodb": {
            "Keys": {"Id": {"N": "101"}},
            "NewImage": {"Id": {"N": "101"}, "Message": {"S": "hi"}},
            "SequenceNumber": "800000000003126276362",
            "SizeBytes": 26,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": 1573690399,
        },
        "eventSourceARN": STREAM_ARN,
    },
]


def sns_envelope(record: Any, **extra: Any) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": "arn:aws:sns:us-east-2:123456789012:orders-dlq",
            "Message": record if isinstance(record, str) else json.dumps(record),
            "Timestamp": "2019-11-14T00:13:50.000Z",
            "SignatureVersion": "1",
            **extra,
        }
    )


NOW = datetime(2019, 11, 14, 3, 13, 19, tzinfo=UTC)


def test_sqs_body_retry_exhausted() -> None:
    result = parse_failure(json.dumps(RETRY_EXHAUSTED), id="m-1", source="sqs", receipt_handle="rh-1")
    assert isinstance(result, Failure)
    assert result.id == "m-1"
    assert result.receipt_handle == "rh-1"
    assert result.shard_id == "shardId-00000001573689847184-864758bb"
    assert result.start_sequence_number == result.end_sequence_number == "800000000003126276362"
    assert result.batch_size == 1
    assert result.condition == "RetryAttemptsExhausted"
    assert result.approximate_invoke_count == 1
    assert result.function_error == "Unhandled"
    assert result.function_arn.endswith(":function:myfunction")
    assert result.request_id.startswith("316aa6d0")
    assert result.stream_arn == STREAM_ARN
    assert result.status_code == 200
    assert result.executed_version == "$LATEST"
    assert result.records is None
    assert result.approximate_arrival_of_first_record == datetime(2019, 11, 14, 0, 13, 19, tzinfo=UTC)
    assert result.expires_at == datetime(2019, 11, 15, 0, 13, 19, tzinfo=UTC)
    assert result.timestamp == datetime(2019, 11, 14, 0, 13, 49, 717000, tzinfo=UTC)


def test_bytes_body_and_expiry() -> None:
    result = parse_failure(json.dumps(RETRY_EXHAUSTED).encode(), id="m-1", source="sqs")
    assert isinstance(result, Failure)
    assert not result.expired(NOW)
    assert result.time_left(NOW) == timedelta(hours=21)
    assert result.expired(result.expires_at)
    assert result.expired(NOW + timedelta(days=1))


def test_age_out_condition_is_shown_as_it_comes() -> None:
    result = parse_failure(json.dumps(AGE_OUT), id="m-2", source="sqs")
    assert isinstance(result, Failure)
    assert result.condition == "RecordAgeExceeded"
    assert result.approximate_invoke_count == 7
    assert result.function_error == "Handled"
    assert result.batch_size == 4
    assert (
        result.approximate_arrival_of_last_record - result.approximate_arrival_of_first_record
        == timedelta(seconds=3)
    )


def test_age_out_without_response_context() -> None:
    """A batch that aged out before any invoke has no response to report."""
    body = copy.deepcopy(AGE_OUT)
    del body["responseContext"]
    body["requestContext"]["condition"] = "MaximumRecordAgeExceeded"
    body["requestContext"]["approximateInvokeCount"] = 0
    result = parse_failure(json.dumps(body), id="m-3", source="sqs")
    assert isinstance(result, Failure)
    assert result.function_error is None and result.status_code is None
    assert result.condition == "MaximumRecordAgeExceeded"


def test_sns_envelope() -> None:
    result = parse_failure(sns_envelope(RETRY_EXHAUSTED), id="sqs-msg-9", source="sns")
    assert isinstance(result, Failure)
    assert result.id == "sqs-msg-9"
    assert result.source == "sns"
    assert result.start_sequence_number == "800000000003126276362"


def test_sns_raw_delivery() -> None:
    """An inspect queue subscribed with RawMessageDelivery gets the bare record."""
    result = parse_failure(json.dumps(AGE_OUT), id="m", source="sns")
    assert isinstance(result, Failure)
    assert result.condition == "RecordAgeExceeded"


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps({"Records": RECORDS}),
        {"Records": RECORDS},
    ],
    ids=["payload-as-json-text", "payload-as-object"],
)
def test_s3_object_with_records(payload: Any) -> None:
    body = {**RETRY_EXHAUSTED, "payload": payload}
    key = "aws/lambda/0f0c9a7e-uuid/shardId-00000001573689847184-864758bb/2019/11/14/00/x.json"
    result = parse_failure(json.dumps(body), id=key, source="s3")
    assert isinstance(result, Failure)
    assert result.id == key
    assert result.has_records
    assert result.records == tuple(RECORDS)


def test_s3_object_without_records_still_a_failure() -> None:
    result = parse_failure(json.dumps(RETRY_EXHAUSTED), id="k", source="s3")
    assert isinstance(result, Failure)
    assert result.records is None


def test_json_shape_is_the_product_contract() -> None:
    result = parse_failure(json.dumps(RETRY_EXHAUSTED), id="m-1", source="sqs")
    assert isinstance(result, Failure)
    doc = result.as_json(trigger="orders-audit", now=NOW)
    assert list(doc) == FAILURE_KEYS
    assert doc["approximate_arrival_of_first_record"] == "2019-11-14T00:13:19Z"
    assert doc["expires_at"] == "2019-11-15T00:13:19Z"
    assert doc["expired"] is False
    assert json.loads(json.dumps(doc)) == doc


def test_sort_key_compares_sequence_numbers_as_integers() -> None:
    a, b = copy.deepcopy(RETRY_EXHAUSTED), copy.deepcopy(RETRY_EXHAUSTED)
    a["DDBStreamBatchInfo"].update(startSequenceNumber="900", endSequenceNumber="950")
    b["DDBStreamBatchInfo"].update(startSequenceNumber="1000", endSequenceNumber="1000")
    fa = parse_failure(json.dumps(a), id="a", source="sqs")
    fb = parse_failure(json.dumps(b), id="b", source="sqs")
    assert isinstance(fa, Failure) and isinstance(fb, Failure)
    assert sorted([fb, fa], key=lambda f: f.sort_key) == [fa, fb]


def test_timestamps_without_zone_are_utc() -> None:
    body = copy.deepcopy(RETRY_EXHAUSTED)
    body["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"] = "2019-11-14T00:13:19"
    result = parse_failure(json.dumps(body), id="m", source="sqs")
    assert isinstance(result, Failure)
    assert iso(result.approximate_arrival_of_first_record) == "2019-11-14T00:13:19Z"


def _mutate(path: tuple[str, ...], value: Any) -> str:
    body = copy.deepcopy(RETRY_EXHAUSTED)
    target = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(body)


_DELETE = object()
BATCH = "DDBStreamBatchInfo"

MALFORMED: list[tuple[str, str | bytes, str, str]] = [
    ("not-json", "hello from a test", "sqs", "not JSON"),
    ("empty", "", "sqs", "empty body"),
    ("whitespace", "  \n ", "sqs", "empty body"),
    ("json-array", "[1, 2, 3]", "sqs", "an array in JSON"),
    ("json-string", '"just text"', "sqs", "a string in JSON"),
    ("json-null", "null", "sqs", "null in JSON"),
    ("truncated", json.dumps(RETRY_EXHAUSTED)[:-20], "sqs", "not JSON"),
    ("not-utf8", b"\xff\xfe{\x00", "sqs", "not UTF-8"),
    ("other-shape", json.dumps({"orderId": 42, "status": "late"}), "sqs", "no DDBStreamBatchInfo"),
    (
        "kinesis-pointer",
        json.dumps(
            {
                **{k: v for k, v in RETRY_EXHAUSTED.items() if k != BATCH},
                "KinesisBatchInfo": {"shardId": "shardId-000000000000"},
            }
        ),
        "sqs",
        "Kinesis",
    ),
    ("batch-not-object", _mutate((BATCH,), "oops"), "sqs", "DDBStreamBatchInfo is a string"),
    ("missing-shard", _mutate((BATCH, "shardId"), _DELETE), "sqs", "missing DDBStreamBatchInfo.shardId"),
    ("missing-start", _mutate((BATCH, "startSequenceNumber"), _DELETE), "sqs", "startSequenceNumber"),
    (
        "numeric-sequence",
        _mutate((BATCH, "endSequenceNumber"), 800000000003126276362),
        "sqs",
        "endSequenceNumber is a number",
    ),
    ("non-digit-sequence", _mutate((BATCH, "startSequenceNumber"), "80x"), "sqs", "not a sequence number"),
    ("reversed-range", _mutate((BATCH, "startSequenceNumber"), "900000000003126276362"), "sqs", "reversed"),
    ("batch-size-string", _mutate((BATCH, "batchSize"), "1"), "sqs", "batchSize is a string"),
    ("batch-size-bool", _mutate((BATCH, "batchSize"), True), "sqs", "batchSize is a boolean"),
    ("batch-size-zero", _mutate((BATCH, "batchSize"), 0), "sqs", "below 1"),
    (
        "bad-arrival",
        _mutate((BATCH, "approximateArrivalOfFirstRecord"), "yesterday"),
        "sqs",
        "not an ISO-8601",
    ),
    (
        "arrival-number",
        _mutate((BATCH, "approximateArrivalOfFirstRecord"), 1573690399),
        "sqs",
        "not a timestamp string",
    ),
    (
        "kinesis-stream-arn",
        _mutate((BATCH, "streamArn"), "arn:aws:kinesis:us-east-1:1:stream/x"),
        "sqs",
        "not a DynamoDB stream ARN",
    ),
    ("missing-request-context", _mutate(("requestContext",), _DELETE), "sqs", "missing requestContext"),
    (
        "missing-condition",
        _mutate(("requestContext", "condition"), _DELETE),
        "sqs",
        "requestContext.condition",
    ),
    (
        "invoke-count-float",
        _mutate(("requestContext", "approximateInvokeCount"), 1.5),
        "sqs",
        "approximateInvokeCount is a number",
    ),
    ("response-context-list", _mutate(("responseContext",), []), "sqs", "responseContext is an array"),
    (
        "function-error-number",
        _mutate(("responseContext", "functionError"), 1),
        "sqs",
        "functionError is a number",
    ),
    ("oversized-sqs", json.dumps({**RETRY_EXHAUSTED, "pad": "x" * 300_000}), "sqs", "oversized"),
    (
        "sns-subscription-confirmation",
        json.dumps({"Type": "SubscriptionConfirmation", "Message": "hi"}),
        "sns",
        "not a Notification",
    ),
    ("sns-no-type", json.dumps({"Message": "{}"}), "sns", "no Type"),
    ("sns-message-not-json", sns_envelope("plain words"), "sns", "SNS Message is not JSON"),
    ("sns-message-object", json.dumps({"Type": "Notification", "Message": {"a": 1}}), "sns", "not a string"),
    ("sns-wrapping-junk", sns_envelope({"hello": "world"}), "sns", "no DDBStreamBatchInfo"),
    (
        "s3-payload-not-records",
        json.dumps({**RETRY_EXHAUSTED, "payload": {"Records": "nope"}}),
        "s3",
        "payload",
    ),
    (
        "s3-payload-bad-json",
        json.dumps({**RETRY_EXHAUSTED, "payload": "{not json"}),
        "s3",
        "payload is not JSON",
    ),
]


@pytest.mark.parametrize(
    ("body", "source", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed(body: str | bytes, source: Any, reason: str) -> None:
    result = parse_failure(body, id="bad-1", source=source, receipt_handle="rh")
    assert isinstance(result, Malformed), result
    assert result.id == "bad-1"
    assert result.receipt_handle == "rh"
    assert reason in result.reason
    assert result.as_json() == {"id": "bad-1", "reason": result.reason}


def test_at_least_twelve_kinds_of_malformed() -> None:
    assert len({m[0] for m in MALFORMED}) >= 12


def test_deeply_nested_json_is_malformed_not_a_crash() -> None:
    body = "[" * 100_000 + "]" * 100_000
    result = parse_failure(body, id="deep", source="sqs")
    assert isinstance(result, Malformed)


def test_s3_allows_larger_bodies_than_sqs() -> None:
    body = json.dumps({**RETRY_EXHAUSTED, "payload": {"Records": RECORDS * 2000}})
    assert len(body) > 256 * 1024
    assert isinstance(parse_failure(body, id="k", source="s3"), Failure)
    assert isinstance(parse_failure(body, id="k", source="sqs"), Malformed)


def test_sns_envelope_in_an_sqs_destination_queue_is_decoded() -> None:
    """A topic fanned out to an SQS destination's queue: the envelope is unwrapped there too (issue 13)."""
    result = parse_failure(sns_envelope(RETRY_EXHAUSTED), id="m-sns", source="sqs")
    assert isinstance(result, Failure), result
    assert result.source == "sqs"
    assert result.shard_id == "shardId-00000001573689847184-864758bb"


def test_sns_envelope_around_junk_in_an_sqs_queue_is_still_malformed() -> None:
    result = parse_failure(sns_envelope({"hello": "world"}), id="m", source="sqs")
    assert isinstance(result, Malformed)
    assert "no DDBStreamBatchInfo" in result.reason


def test_a_failure_that_carries_its_records_never_expires() -> None:
    """S3 failures carry their records: no countdown, never expired, ``expires_at: null`` in JSON."""
    body = {**RETRY_EXHAUSTED, "payload": json.dumps({"Records": RECORDS})}
    result = parse_failure(json.dumps(body), id="k", source="s3")
    assert isinstance(result, Failure)
    assert not result.can_expire
    assert not result.expired(NOW + timedelta(days=30))
    doc = result.as_json(trigger="t", now=NOW + timedelta(days=30))
    assert doc["expires_at"] is None and doc["expired"] is False


def test_held_counts_add_and_unknown_reappearance_wins() -> None:
    from ddbtrigger.core.failures import Held

    later = NOW + timedelta(minutes=5)
    assert (Held(2, NOW) + Held(1, later)) == Held(3, later)
    assert (Held(2, NOW) + Held(1, None)) == Held(3, None)
    assert (Held() + Held(1, later)) == Held(1, later)
    assert Held(3, later).as_json() == {"count": 3, "reappear_by": "2019-11-14T03:18:19Z"}

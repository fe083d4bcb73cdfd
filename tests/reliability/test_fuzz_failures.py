"""Fuzz the failure-record parser: whatever a destination holds, ``parse_failure`` returns a ``Failure``
or a ``Malformed``, never raises, and answers quickly.

Inputs: valid invocation records (SQS body, SNS envelope, S3 object with its payload) and mutations of
them: fields removed, replaced by values of the wrong type, huge numbers, unicode, deep nesting, big
bodies, non-JSON and non-UTF-8 bytes. A ``Failure`` must also be usable afterwards: its JSON view, its
expiry and its sequence numbers as integers.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ddbtrigger.core.failures import Failure, Malformed, parse_failure

EXAMPLES = 1200
TIME_BOUND = 0.5  # CPU seconds for one parse, far above the ~50 us a record takes
COUNTS: dict[str, int] = {"inputs": 0, "failure": 0, "malformed": 0, "slowest_ms": 0}

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"


def valid_record(**batch: Any) -> dict[str, Any]:
    info = {
        "shardId": "shardId-00000001573689847184-864758bb",
        "startSequenceNumber": "800000000003126276362",
        "endSequenceNumber": "800000000003126276362",
        "approximateArrivalOfFirstRecord": "2019-11-14T00:13:19Z",
        "approximateArrivalOfLastRecord": "2019-11-14T00:13:19Z",
        "batchSize": 1,
        "streamArn": ARN,
        **batch,
    }
    return {
        "requestContext": {
            "requestId": "316aa6d0-8154-xmpl-9af7-85d5f4a6bc81",
            "functionArn": "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 1,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": "2019-11-14T00:13:49.717Z",
        "DDBStreamBatchInfo": info,
    }


json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", "9" * 70, "-1", "0", "1e309", "\x00", "\ud800", "𝕯𝕯𝕭", "2019-13-45T99:99:99Z"])
)
json_value = st.recursive(
    json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)

FIELDS = [
    ("DDBStreamBatchInfo",),
    ("requestContext",),
    ("responseContext",),
    ("timestamp",),
    *[("DDBStreamBatchInfo", k) for k in valid_record()["DDBStreamBatchInfo"]],
    *[("requestContext", k) for k in valid_record()["requestContext"]],
    *[("responseContext", k) for k in valid_record()["responseContext"]],
]


@st.composite
def mutated_record(draw: Any) -> dict[str, Any]:
    record = valid_record()
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(FIELDS))
        parent = record
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent.get(key), dict) else {}
        if draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_value)
    return record


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def as_body(document: Any, wrap: str) -> str | bytes:
    text = json.dumps(document, ensure_ascii=False) if not isinstance(document, str) else document
    if wrap == "sns":
        return json.dumps({"Type": "Notification", "MessageId": "m", "Message": text})
    if wrap == "bytes":
        return text.encode("utf-8", "surrogatepass")
    return text


special_bodies = st.sampled_from(
    [
        b"",
        b"\xff\xfe\x00garbage",
        b"\x80" * 100,
        "   ",
        "null",
        "[]",
        "42",
        '"text"',
        "{",
        '{"DDBStreamBatchInfo": ' * 50,
        deep(100_000),
        '{"a":' * 5000 + "1" + "}" * 5000,
        "1" * 5000,
        '{"n": ' + "9" * 5000 + "}",
        '{"n": 1e99999}',
        json.dumps({"KinesisBatchInfo": {}}),
        json.dumps({"Type": "SubscriptionConfirmation"}),
        json.dumps({"Type": "Notification", "Message": {"not": "a string"}}),
        json.dumps({"Type": "Notification", "Message": deep(50_000)}),
        "x" * (300 * 1024),
        json.dumps(valid_record()) + " " * (300 * 1024),
        json.dumps({**valid_record(), "payload": "{" * 1000}),
        json.dumps({**valid_record(), "payload": {"Records": [1, 2]}}),
        json.dumps(valid_record(startSequenceNumber="9" * 64, endSequenceNumber="1")),
        json.dumps(valid_record(approximateArrivalOfFirstRecord="0001-01-01T00:00:00+14:00")),
        json.dumps(valid_record(batchSize=10**400)),
        json.dumps(valid_record(shardId="𝕯" * 10_000)),
    ]
)

inputs = st.one_of(
    st.tuples(st.just(valid_record()), st.sampled_from(["sqs", "sns", "s3", "bytes"])),
    st.tuples(mutated_record(), st.sampled_from(["sqs", "sns", "s3", "bytes"])),
    st.tuples(json_value, st.sampled_from(["sqs", "sns", "bytes"])),
    st.tuples(special_bodies, st.sampled_from(["sqs", "sns", "s3"])),
    st.tuples(st.binary(max_size=200), st.sampled_from(["sqs", "s3"])),
    st.tuples(st.text(max_size=200), st.sampled_from(["sqs", "sns"])),
)


def check_usable(result: Failure) -> None:
    """What inspect-dlq and redrive do with a parsed failure must not raise either."""
    assert int(result.start_sequence_number) <= int(result.end_sequence_number)
    assert result.batch_size >= 1
    now = datetime.now(UTC)
    result.expired(now)
    result.time_left(now)
    json.dumps(result.as_json(trigger=None, now=now))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(inputs)
def test_parse_failure_never_raises_and_answers_quickly(case: tuple[Any, str]) -> None:
    document, wrap = case
    if isinstance(document, bytes):
        body: str | bytes = document
        source = "s3" if wrap == "s3" else "sqs"
    elif isinstance(document, str) and wrap in ("sqs", "sns", "s3"):
        body, source = document, wrap
    else:
        source = "sns" if wrap == "sns" else ("s3" if wrap == "s3" else "sqs")
        body = as_body(document, wrap)
    began = time.thread_time()  # CPU time of this thread: other builds on the machine do not count
    result = parse_failure(body, id="m-1", source=source, receipt_handle="rh")  # type: ignore[arg-type]
    elapsed = time.thread_time() - began
    assert isinstance(result, Failure | Malformed)
    assert elapsed < TIME_BOUND, f"parse took {elapsed:.3f}s"
    assert result.id == "m-1" and result.receipt_handle == "rh"
    if isinstance(result, Failure):
        check_usable(result)
        COUNTS["failure"] += 1
    else:
        assert isinstance(result.reason, str) and result.reason and "\n" not in result.reason
        assert len(result.reason) < 500
        COUNTS["malformed"] += 1
    COUNTS["inputs"] += 1
    COUNTS["slowest_ms"] = max(COUNTS["slowest_ms"], round(elapsed * 1000, 2))


def test_valid_records_parse_in_every_wrapping() -> None:
    for wrap, source in (("sqs", "sqs"), ("sns", "sns"), ("bytes", "sqs"), ("sqs", "s3")):
        result = parse_failure(as_body(valid_record(), wrap), id="x", source=source)  # type: ignore[arg-type]
        assert isinstance(result, Failure), (wrap, result)
        assert result.end_sequence_number == "800000000003126276362"


@pytest.mark.parametrize("arrival", ["9999-12-31T23:59:59Z", "9999-12-31T12:00:00+00:00"])
def test_far_future_arrival_is_malformed_or_usable(arrival: str) -> None:
    body = json.dumps(valid_record(approximateArrivalOfFirstRecord=arrival))
    result = parse_failure(body, id="m-1", source="sqs")
    if isinstance(result, Failure):
        check_usable(result)


def test_zz_record_fuzz_figures(request: Any) -> None:
    """Runs after the fuzz test in this module (file order): keeps its figures for RELIABILITY.md."""
    from tests.reliability.world import record_figures

    if COUNTS["inputs"]:
        assert COUNTS["inputs"] >= 1000
        record_figures(request.config, "fuzz_failures", dict(COUNTS))

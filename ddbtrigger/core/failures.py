"""Parse what Lambda writes to a stream mapping's failure destination.

For a DynamoDB stream, Lambda sends an *invocation record*: the request and response context of the
last failed invoke and ``DDBStreamBatchInfo``, the shard and sequence range of the batch. SQS receives
it as the message body, SNS wraps it in a notification envelope (``Message`` holds it as a string),
and S3 also stores the records of the invocation. The destination can hold anything else too (a test
message, a Kinesis pointer, a truncated body), so the parser never raises: whatever is not a DynamoDB
invocation record becomes ``Malformed`` with a reason a person can act on, and is never deleted.

Repeated strings (stream ARN, shard id, function ARN, condition) are interned and the classes use
slots, so holding ten thousand failures for a sorted table stays cheap.

The stream keeps records 24 hours, so a pointer (SQS/SNS) carries ``expires_at``: after that, it leads
nowhere. An S3 failure carries its records and never expires (``can_expire`` is False).

A destination may also hold failures that cannot be read right now because another reader holds them
(an SQS message invisible during another scan, an S3 failure under another run's lease): ``Held``
counts them, so no listing ever calls a destination empty while it is not.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ddbtrigger.core.destinations import DestinationType
from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.timetext import iso

Source = DestinationType

STREAM_RETENTION = timedelta(hours=24)

_SEQUENCE = re.compile(r"^[0-9]{1,64}$")
_STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[^:]*:[0-9]*:table/[^/]+/stream/.+$")


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed batch: where its records are in the stream, and why Lambda gave up on it.

    ``id`` is the SQS message id (also for SNS, read through its inspect queue) or the S3 key.
    ``records`` holds the batch's records when the destination stored them (S3), else ``None``.
    """

    id: str
    source: Source
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    batch_size: int
    stream_arn: str
    approximate_arrival_of_first_record: datetime
    approximate_arrival_of_last_record: datetime
    condition: str
    approximate_invoke_count: int
    function_arn: str
    request_id: str
    function_error: str | None = None
    status_code: int | None = None
    executed_version: str | None = None
    timestamp: datetime | None = None
    received_at: datetime | None = None
    receipt_handle: str | None = field(default=None, compare=False)
    records: tuple[dict[str, Any], ...] | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def expires_at(self) -> datetime:
        """When the stream may trim the first record of the batch (24 h after it arrived)."""
        return self.approximate_arrival_of_first_record + STREAM_RETENTION

    @property
    def can_expire(self) -> bool:
        """Only a pointer expires; a failure that carries its records (an S3 object's payload) keeps them."""
        return self.records is None

    def expired(self, now: datetime) -> bool:
        return self.can_expire and now >= self.expires_at

    def time_left(self, now: datetime) -> timedelta:
        return self.expires_at - now

    @property
    def start_key(self) -> int:
        return int(self.start_sequence_number)

    @property
    def end_key(self) -> int:
        return int(self.end_sequence_number)

    @property
    def sort_key(self) -> tuple[str, str, int, int]:
        """Order of work and display: by stream, then shard, then start sequence number (as integers)."""
        return (self.stream_arn, self.shard_id, self.start_key, self.end_key)

    @property
    def has_records(self) -> bool:
        return self.records is not None

    def as_json(self, *, trigger: str | None, now: datetime) -> dict[str, Any]:
        """The PRODUCT.md shape of one failure in ``inspect-dlq --output json`` and ``--export``."""
        return {
            "id": self.id,
            "trigger": trigger,
            "shard_id": self.shard_id,
            "start_sequence_number": self.start_sequence_number,
            "end_sequence_number": self.end_sequence_number,
            "batch_size": self.batch_size,
            "condition": self.condition,
            "approximate_invoke_count": self.approximate_invoke_count,
            "function_error": self.function_error,
            "approximate_arrival_of_first_record": iso(self.approximate_arrival_of_first_record),
            "expires_at": iso(self.expires_at) if self.can_expire else None,
            "expired": self.expired(now),
            "stream_arn": self.stream_arn,
        }


@dataclass(frozen=True, slots=True)
class Malformed:
    """A message or object that is not a DynamoDB invocation record. Listed, counted, never deleted."""

    id: str
    reason: str
    source: Source = "sqs"
    received_at: datetime | None = None
    receipt_handle: str | None = field(default=None, compare=False)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Held:
    """Failures a destination holds that this read could not see: invisible SQS messages (another scan
    or a killed run's hold), S3 failures under another run's lease. ``reappear_by`` is when the last of
    them is readable again, where the destination tells it (an S3 lease's expiry), else ``None``."""

    count: int = 0
    reappear_by: datetime | None = None
    ids: frozenset[str] = frozenset()
    """The held failures' ids where the destination names them (S3 keys), so a scan can skip them."""

    def __add__(self, other: Held) -> Held:
        times = [t for t in (self.reappear_by, other.reappear_by) if t is not None]
        unknown = (self.count and self.reappear_by is None) or (other.count and other.reappear_by is None)
        reappear = None if unknown or not times else max(times)
        return Held(self.count + other.count, reappear, self.ids | other.ids)

    def as_json(self) -> dict[str, Any]:
        return {"count": self.count, "reappear_by": iso(self.reappear_by) if self.reappear_by else None}


class _Bad(Exception):
    """Internal: why a body is malformed. Never leaves this module."""


def parse_failure(
    body: str | bytes,
    *,
    id: str,
    source: Source,
    receipt_handle: str | None = None,
    received_at: datetime | None = None,
) -> Failure | Malformed:
    """Parse one destination message/object body. Never raises: anything unexpected is ``Malformed``."""
    try:
        document = _load(body, source)
        if destination_kind(source).enveloped or _is_sns_envelope(document):
            document = _unwrap_sns(document)
        failure = _failure(
            document, id=id, source=source, receipt_handle=receipt_handle, received_at=received_at
        )
    except _Bad as e:
        return Malformed(
            id=id, reason=str(e), source=source, received_at=received_at, receipt_handle=receipt_handle
        )
    except (ValueError, TypeError, OverflowError, RecursionError) as e:  # belt and braces
        return Malformed(
            id=id,
            reason=f"unreadable record: {type(e).__name__}",
            source=source,
            received_at=received_at,
            receipt_handle=receipt_handle,
        )
    return failure


def _load(body: str | bytes, source: Source) -> dict[str, Any]:
    limit = destination_kind(source).max_failure_bytes
    if not isinstance(body, str | bytes):
        raise _Bad(f"body is a {type(body).__name__}, not text")
    size = len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise _Bad(f"oversized body: {size} bytes (a {source} failure record is at most {limit})")
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise _Bad(f"not UTF-8 text (byte {e.start})") from None
    if not body.strip():
        raise _Bad("empty body")
    return _json_object(body, "body")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise _Bad(f"{what} is not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(value, dict):
        raise _Bad(f"{what} is {_kind(value)} in JSON, not an object")
    return value


def _is_sns_envelope(document: dict[str, Any]) -> bool:
    """An SNS notification in a queue that is not the SNS destination's own tap (a topic fanned out to
    an SQS destination's queue): decoded the same way, whatever queue it sits in."""
    return document.get("Type") == "Notification" and "TopicArn" in document and "Message" in document


def _unwrap_sns(document: dict[str, Any]) -> dict[str, Any]:
    """An SNS notification envelope, or the bare record when the subscription uses raw delivery."""
    if "Type" not in document and "DDBStreamBatchInfo" in document:
        return document
    kind = document.get("Type")
    if kind != "Notification":
        raise _Bad(
            f"SNS message of type {kind!r}, not a Notification"
            if kind is not None
            else "not an SNS notification (no Type) and not an invocation record"
        )
    message = document.get("Message")
    if not isinstance(message, str):
        raise _Bad(f"SNS notification's Message is {_kind(message)}, not a string")
    return _json_object(message, "SNS Message")


def _failure(
    doc: dict[str, Any],
    *,
    id: str,
    source: Source,
    receipt_handle: str | None,
    received_at: datetime | None,
) -> Failure:
    """The record's fields, checked; ``receipt_handle``/``received_at`` go straight in (a
    ``dataclasses.replace`` after was a fifth of the parse, per message)."""
    if "KinesisBatchInfo" in doc:
        raise _Bad("a Kinesis stream pointer (KinesisBatchInfo), not a DynamoDB stream one")
    if "DDBStreamBatchInfo" not in doc:
        raise _Bad("not a Lambda invocation record: no DDBStreamBatchInfo")
    batch = _obj(doc, "DDBStreamBatchInfo")
    request = _obj(doc, "requestContext")
    response = doc.get("responseContext")
    if response is not None and not isinstance(response, dict):
        raise _Bad(f"responseContext is {_kind(response)}, not an object")
    response = response or {}
    start, end = _seq(batch, "startSequenceNumber"), _seq(batch, "endSequenceNumber")
    if int(start) > int(end):
        raise _Bad(f"DDBStreamBatchInfo range is reversed: start {start} > end {end}")
    first = _time(batch, "approximateArrivalOfFirstRecord", "DDBStreamBatchInfo")
    last = _time(batch, "approximateArrivalOfLastRecord", "DDBStreamBatchInfo", default=first)
    timestamp = _time(doc, "timestamp", "record", default=None) if "timestamp" in doc else None
    return Failure(
        id=id,
        source=source,
        shard_id=sys.intern(_str(batch, "shardId", "DDBStreamBatchInfo")),
        start_sequence_number=start,
        end_sequence_number=end,
        batch_size=_int(batch, "batchSize", "DDBStreamBatchInfo", minimum=1),
        stream_arn=_stream_arn(batch),
        approximate_arrival_of_first_record=first,
        approximate_arrival_of_last_record=last,
        condition=sys.intern(_str(request, "condition", "requestContext")),
        approximate_invoke_count=_int(request, "approximateInvokeCount", "requestContext", minimum=0),
        function_arn=sys.intern(_opt_str(request, "functionArn", "requestContext") or ""),
        request_id=_opt_str(request, "requestId", "requestContext") or "",
        function_error=_opt_str(response, "functionError", "responseContext"),
        status_code=_opt_int(response, "statusCode", "responseContext"),
        executed_version=_opt_str(response, "executedVersion", "responseContext"),
        timestamp=timestamp,
        records=None if destination_kind(source).holds_pointers else _records(doc),
        received_at=received_at,
        receipt_handle=receipt_handle,
    )


def _records(doc: dict[str, Any]) -> tuple[dict[str, Any], ...] | None:
    """The records an S3 failure carries: ``payload`` (the invoke's event, as JSON text or an object)."""
    payload = doc.get("payload", doc.get("Records"))
    if payload is None:
        return None
    if isinstance(payload, str):
        payload = _json_object(payload, "payload")
    if isinstance(payload, dict):
        payload = payload.get("Records")
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise _Bad("payload holds no list of Records objects")
    return tuple(payload)


def _obj(doc: dict[str, Any], key: str) -> dict[str, Any]:
    value = doc.get(key)
    if value is None:
        raise _Bad(f"missing {key}")
    if not isinstance(value, dict):
        raise _Bad(f"{key} is {_kind(value)}, not an object")
    return value


def _str(doc: dict[str, Any], key: str, where: str) -> str:
    value = _opt_str(doc, key, where)
    if value is None:
        raise _Bad(f"missing {where}.{key}")
    if not value:
        raise _Bad(f"{where}.{key} is empty")
    return value


def _opt_str(doc: dict[str, Any], key: str, where: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise _Bad(f"{where}.{key} is {_kind(value)}, not a string")
    return value


def _int(doc: dict[str, Any], key: str, where: str, *, minimum: int) -> int:
    value = doc.get(key)
    if value is None:
        raise _Bad(f"missing {where}.{key}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{where}.{key} is {_kind(value)}, not an integer")
    if value < minimum:
        raise _Bad(f"{where}.{key} is {value}, below {minimum}")
    return value


def _opt_int(doc: dict[str, Any], key: str, where: str) -> int | None:
    return _int(doc, key, where, minimum=0) if doc.get(key) is not None else None


def _seq(batch: dict[str, Any], key: str) -> str:
    value = _str(batch, key, "DDBStreamBatchInfo")
    if not _SEQUENCE.match(value):
        raise _Bad(f"DDBStreamBatchInfo.{key} is not a sequence number: {value[:40]!r}")
    return value


def _stream_arn(batch: dict[str, Any]) -> str:
    value = _str(batch, "streamArn", "DDBStreamBatchInfo")
    if not _STREAM_ARN.match(value):
        raise _Bad(f"DDBStreamBatchInfo.streamArn is not a DynamoDB stream ARN: {value[:120]!r}")
    return sys.intern(value)


_MISSING: Any = object()
MIN_YEAR, MAX_YEAR = 1970, 9000


def _time(doc: dict[str, Any], key: str, where: str, *, default: Any = _MISSING) -> Any:
    value = doc.get(key)
    if value is None:
        if default is _MISSING:
            raise _Bad(f"missing {where}.{key}")
        return default
    if not isinstance(value, str):
        raise _Bad(f"{where}.{key} is {_kind(value)}, not a timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise _Bad(f"{where}.{key} is not an ISO-8601 timestamp: {value[:40]!r}") from None
    # Lambda writes real times; a year outside this window is hostile or broken, and would overflow
    # the 24 h arithmetic of expires_at.
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _Bad(f"{where}.{key} is out of range: {value[:40]!r}")
    return parsed


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__

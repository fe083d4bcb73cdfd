"""Rebuild the event Lambda sends for DynamoDB stream records.

GetRecords returns records almost in Lambda's shape; the differences are that boto3 parses
``ApproximateCreationDateTime`` into a datetime (Lambda sends epoch seconds as a float, e.g.
``1700000000.0``) and ``B``/``BS`` values into bytes (Lambda sends base64 text, ``core.attributes``),
and that Lambda adds ``eventSourceARN``. Both the sandbox's mapping emulator and ``redrive`` build
events here, so a redriven record reaches the function exactly as the original invoke did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from ddbtrigger.core.attributes import image_to_wire

RECORD_FIELDS = ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion")
IMAGES = ("Keys", "NewImage", "OldImage")


def sequence_key(sequence_number: str) -> int:
    """Sequence numbers are decimal strings of varying length: compare them as integers."""
    return int(sequence_number)


def epoch_seconds(value: Any) -> float:
    """``ApproximateCreationDateTime`` as Lambda sends it: epoch seconds, always a float."""
    if isinstance(value, datetime):
        value = value.timestamp()
    return float(value)


def lambda_record(record: Mapping[str, Any], *, stream_arn: str, region: str | None = None) -> dict[str, Any]:
    """One stream record (GetRecords shape, or an already-rebuilt record) in Lambda's event shape.

    Raises ``AttributeEncodingError`` (a ``ValueError``) when an image holds something that is not a
    DynamoDB attribute value: the caller fails that batch rather than sending half a record.
    """
    out: dict[str, Any] = {key: record[key] for key in RECORD_FIELDS if key in record}
    out.setdefault("eventVersion", "1.1")
    out.setdefault("eventSource", "aws:dynamodb")
    if region is not None:
        out.setdefault("awsRegion", region)
    dynamodb = dict(record.get("dynamodb", {}))
    if "ApproximateCreationDateTime" in dynamodb:
        dynamodb["ApproximateCreationDateTime"] = epoch_seconds(dynamodb["ApproximateCreationDateTime"])
    for image in IMAGES:
        if image in dynamodb:
            dynamodb[image] = image_to_wire(dynamodb[image])
    out["dynamodb"] = dynamodb
    if "userIdentity" in record:
        out["userIdentity"] = dict(record["userIdentity"])
    out["eventSourceARN"] = stream_arn
    return out


def lambda_event(
    records: Iterable[Mapping[str, Any]], *, stream_arn: str, region: str | None = None
) -> dict[str, Any]:
    """The ``{"Records": [...]}`` payload of one invoke."""
    return {"Records": [lambda_record(r, stream_arn=stream_arn, region=region) for r in records]}


def region_of(arn: str) -> str:
    """The region field of an ARN (``arn:aws:dynamodb:REGION:…``)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""

"""Test helpers written once: a table with a stream, its first shard's records, Lambda's failure record,
a queue's depth, polling with a deadline, injected time, and golden renderings.

Plain functions over boto3 clients (moto in-process, a moto server or the sandbox alike), so every tier of
tests builds the same world the same way.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
GOLDEN = Path(__file__).parent / "unit" / "golden"


def create_table(
    ddb: Any, name: str = "orders", *, view: str | None = "NEW_AND_OLD_IMAGES"
) -> dict[str, Any]:
    """An on-demand table keyed by the string ``pk``, with a stream of ``view`` (none when ``None``);
    returns its ``TableDescription``."""
    kwargs: dict[str, Any] = {}
    if view:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    return ddb.create_table(  # type: ignore[no-any-return]
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **kwargs,
    )["TableDescription"]


def first_shard(streams: Any, stream_arn: str) -> str:
    """The id of the stream's first shard (moto's streams have exactly one until a split)."""
    return str(streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"])


def shard_records(streams: Any, stream_arn: str, shard_id: str) -> list[dict[str, Any]]:
    """One GetRecords page from the shard's trim horizon: every record of the small shards tests write."""
    it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")
    return list(streams.get_records(ShardIterator=it["ShardIterator"])["Records"])


def utc_now_z() -> str:
    """Now, as Lambda stamps its failure records (ISO 8601, ``Z``)."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def failure_record(
    *,
    stream_arn: str,
    shard_id: str,
    start: str,
    end: str,
    batch_size: int,
    function: str = "orders-fn",
    invoke_count: int = 1,
    arrival: str | None = None,
    request_id: str = "r",
) -> dict[str, Any]:
    """Lambda's invocation record for a failed stream batch, as it lands in an on-failure destination
    (``arrival`` stamps both the record and its batch; now by default)."""
    stamp = arrival or utc_now_z()
    return {
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": stamp,
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": stamp,
            "approximateArrivalOfLastRecord": stamp,
            "batchSize": batch_size,
            "streamArn": stream_arn,
        },
    }


def wait_until(predicate: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Poll ``predicate`` until it is true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class FakeTime:
    """Time that only sleeping moves: inject ``clock`` and ``sleep`` where code waits, paces or retries,
    then assert on ``sleeps``."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of an SQS queue, as SQS approximates them."""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def drawn_text(draw: Callable[[Any], object], width: int) -> str:
    """What ``draw(console)`` prints on a ``width``-column console without color, as plain text without
    trailing spaces: the form golden files keep."""
    from rich.console import Console

    with open(os.devnull, "w") as sink:
        console = Console(
            width=width, record=True, no_color=True, color_system=None, force_terminal=False, file=sink
        )
        draw(console)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def check_golden(name: str, text: str) -> None:
    """``text`` equals tests/unit/golden/``name``; ``DDBT_UPDATE_GOLDEN=1`` (or a missing file) writes it."""
    path = GOLDEN / name
    if os.environ.get("DDBT_UPDATE_GOLDEN") or not path.exists():
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")

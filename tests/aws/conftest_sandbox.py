"""Helpers for the sandbox's tests: a fake clock, polling with a deadline, and small AWS shortcuts.

The ``sandbox`` and ``clock`` fixtures that use them are in ``tests/conftest.py`` (every test tree
sees them without importing anything)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.helpers import create_table

POLL = 0.02


class FakeClock:
    """Real time plus an offset the test can move forward (record age, trimming, iterator expiry)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Recorder:
    """A handler that fails on a poison pill and logs the records of the batches it completed."""

    def __init__(self, *, partial: bool = False, response: Any = None) -> None:
        self.partial = partial
        self.response = response
        self.delivered: list[str] = []  # sequence numbers of records processed successfully
        self.batches: list[list[str]] = []  # every invoke's sequence numbers
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        records = event["Records"]
        seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        poison = [r["dynamodb"]["SequenceNumber"] for r in records if is_poison(r)]
        with self.lock:
            self.batches.append(seqs)
            if self.response is not None:
                return self.response
            if poison and not self.partial:
                raise ValueError(f"poison pill {poison[0]}")
            self.delivered.extend(s for s in seqs if s not in poison)
        if poison:
            return {"batchItemFailures": [{"itemIdentifier": s} for s in poison]}
        return None


def is_poison(record: dict[str, Any]) -> bool:
    return bool(record["dynamodb"].get("NewImage", {}).get("poison", {}).get("BOOL"))


def wait_for(predicate: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(POLL)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stays_false(predicate: Callable[[], Any], sb: Any, *, looks: int = 3, timeout: float = 10.0) -> bool:
    """A negative check that tells the truth under any load: ``predicate`` stays false while the
    sandbox's mapping emulator scans its mappings ``looks`` times and every poller running by then
    looks at its shard ``looks`` times. Not a wall-clock window: a slow machine makes it wait longer, a
    fast one shorter. An emulator that makes no progress for ``timeout`` seconds fails the test."""
    scans_before, before = sb.mapping_progress()
    deadline = time.monotonic() + timeout
    while not predicate():
        scans, now = sb.mapping_progress()
        if scans - scans_before >= looks and all(n - before.get(k, 0) >= looks for k, n in now.items()):
            return not predicate()
        if time.monotonic() > deadline:
            raise AssertionError(f"the mapping emulator did not look {looks} times within {timeout}s")
        time.sleep(POLL)
    return False


def sandbox_factory(sb: Any) -> Any:
    """A ClientFactory aimed at the sandbox, on a boto3 session of its own with the sandbox's credentials
    (as a command run against it would have)."""
    import boto3

    from ddbtrigger.aws.clients import AwsTarget, ClientFactory
    from ddbtrigger.sandbox.server import ACCESS_KEY_ID, SECRET_ACCESS_KEY

    session = boto3.Session(
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY, region_name="us-east-1"
    )
    return ClientFactory(AwsTarget(region="us-east-1", endpoint_url=sb.endpoint_url), session=session)


def make_table(sb: Any, name: str = "orders", view: str | None = "NEW_AND_OLD_IMAGES") -> str | None:
    ddb = sb.client("dynamodb")
    create_table(ddb, name, view=view)
    return ddb.describe_table(TableName=name)["Table"].get("LatestStreamArn")


def put(sb: Any, key: str, *, table: str = "orders", poison: bool = False, **attrs: str) -> None:
    item: dict[str, Any] = {"pk": {"S": key}, **{k: {"S": v} for k, v in attrs.items()}}
    if poison:
        item["poison"] = {"BOOL": True}
    sb.client("dynamodb").put_item(TableName=table, Item=item)


def make_queue(sb: Any, name: str = "dlq") -> tuple[str, str]:
    sqs = sb.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sb: Any, url: str) -> list[dict[str, Any]]:
    messages = sb.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def stream_sequence_numbers(sb: Any, stream_arn: str) -> list[str]:
    streams = sb.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return [r["dynamodb"]["SequenceNumber"] for r in records]


def create_mapping(sb: Any, stream_arn: str, function: str, **settings: Any) -> dict[str, Any]:
    settings.setdefault("StartingPosition", "TRIM_HORIZON")
    return dict(
        sb.client("lambda").create_event_source_mapping(
            EventSourceArn=stream_arn, FunctionName=function, **settings
        )
    )

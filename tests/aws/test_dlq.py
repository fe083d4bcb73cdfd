"""Destination scans against moto: nothing consumed, everything released, limits, deletes, SNS and S3."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

import pytest

from ddbtrigger.aws.destinations import DestinationRef, open_scan
from ddbtrigger.aws.dlq import Heartbeat, S3Scan, SqsScan, check_limit
from ddbtrigger.core.failures import Failure, Malformed
from ddbtrigger.errors import UsageError
from tests.helpers import queue_counts
from tests.unit.test_failures import RECORDS, RETRY_EXHAUSTED


def pointer(n: int) -> str:
    body = copy.deepcopy(RETRY_EXHAUSTED)
    seq = str(800000000003126276362 + n * 10)
    body["DDBStreamBatchInfo"].update(startSequenceNumber=seq, endSequenceNumber=seq)
    return json.dumps(body)


def make_queue(factory: Any, name: str = "dlq", *, good: int = 20, bad: int = 5) -> str:
    sqs = factory.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    for i in range(good):
        sqs.send_message(QueueUrl=url, MessageBody=pointer(i))
    for i in range(bad):
        sqs.send_message(QueueUrl=url, MessageBody=f"not a pointer {i}")
    return url


def depth(factory: Any, url: str) -> tuple[int, int]:
    return queue_counts(factory.client("sqs"), url)


def scan(factory: Any, url: str, **kwargs: Any) -> SqsScan:
    return SqsScan(factory.client("sqs"), url, wait_seconds=0, **kwargs)


def test_scan_reads_everything_once_and_releases_it(moto_aws: Any) -> None:
    url = make_queue(moto_aws)
    with scan(moto_aws, url) as s:
        results = list(s)
        assert depth(moto_aws, url) == (0, 25)
        assert s.in_flight == 25
    assert len({r.id for r in results}) == 25
    assert sum(isinstance(r, Failure) for r in results) == 20
    assert sum(isinstance(r, Malformed) for r in results) == 5
    assert all(r.receipt_handle for r in results)
    assert all(r.received_at is not None for r in results)
    assert depth(moto_aws, url) == (25, 0)


def test_limit(moto_aws: Any) -> None:
    url = make_queue(moto_aws)
    with scan(moto_aws, url, limit=7) as s:
        assert len(list(s)) == 7
    assert depth(moto_aws, url) == (25, 0)


def test_released_on_error(moto_aws: Any) -> None:
    url = make_queue(moto_aws)
    with pytest.raises(KeyboardInterrupt), scan(moto_aws, url) as s:
        for n, _ in enumerate(s):
            if n == 12:
                raise KeyboardInterrupt
    assert depth(moto_aws, url) == (25, 0)


def test_limit_above_in_flight_cap_is_refused() -> None:
    with pytest.raises(UsageError, match="in-flight cap of 120,000"):
        check_limit(120_001)
    with pytest.raises(UsageError):
        check_limit(0)
    check_limit(120_000)


def test_delete_and_extend(moto_aws: Any) -> None:
    url = make_queue(moto_aws, good=3, bad=0)
    with scan(moto_aws, url) as s:
        first, second, third = list(s)
        s.delete(first)
        s.extend(second, 600)
        s.release(third)
        assert s.in_flight == 1
    assert depth(moto_aws, url) == (2, 0)


def test_heartbeat_extends_while_work_runs(moto_aws: Any) -> None:
    url = make_queue(moto_aws, good=3, bad=0)
    ticks = threading.Semaphore(0)
    done = threading.Event()

    def wait(stop: threading.Event, seconds: float) -> bool:
        if stop.is_set() or done.is_set():
            return True
        ticks.release()
        return False

    with scan(moto_aws, url) as s:
        list(s)
        with Heartbeat(s, every=1, hold=120, wait=wait) as beat:
            assert ticks.acquire(timeout=10)
            assert ticks.acquire(timeout=10)
            done.set()
        assert beat.beats >= 1 and beat.error is None
    assert depth(moto_aws, url) == (3, 0)


def test_sns_through_its_inspect_queue(moto_aws: Any) -> None:
    sns, sqs = moto_aws.client("sns"), moto_aws.client("sqs")
    topic = sns.create_topic(Name="orders-dlq-topic")["TopicArn"]
    url = sqs.create_queue(QueueName="orders-dlq-tap")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    sns.publish(TopicArn=topic, Message=pointer(1))
    sns.publish(TopicArn=topic, Message="junk")
    ref = DestinationRef(type="sns", arn=topic, name="orders-dlq-topic", inspect_queue_url=url)
    with open_scan(moto_aws, ref, wait_seconds=0) as s:
        results = list(s)
    kinds = sorted(type(r).__name__ for r in results)
    assert kinds == ["Failure", "Malformed"]
    assert all(r.source == "sns" for r in results)
    assert depth(moto_aws, url) == (2, 0)


def test_sns_without_inspect_queue_is_a_usage_error(moto_aws: Any) -> None:
    ref = DestinationRef(type="sns", arn="arn:aws:sns:us-east-1:123456789012:t", name="t")
    with pytest.raises(UsageError, match="inspect queue"):
        open_scan(moto_aws, ref)


def test_s3_scan(moto_aws: Any) -> None:
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="failures")
    body = json.loads(pointer(2))
    body["payload"] = json.dumps({"Records": RECORDS})
    s3.put_object(Bucket="failures", Key="f/aws/lambda/u/shard/2026/01/01/a.json", Body=json.dumps(body))
    s3.put_object(Bucket="failures", Key="f/aws/lambda/u/shard/2026/01/01/b.json", Body=b"\x00junk")
    s3.put_object(Bucket="failures", Key="elsewhere.json", Body=pointer(3))
    ref = DestinationRef(
        type="s3", arn="arn:aws:s3:::failures", name="failures", bucket="failures", prefix="f/"
    )
    with open_scan(moto_aws, ref) as s:
        results = list(s)
    assert {r.id for r in results} == {
        "f/aws/lambda/u/shard/2026/01/01/a.json",
        "f/aws/lambda/u/shard/2026/01/01/b.json",
    }
    failure = next(r for r in results if isinstance(r, Failure))
    assert failure.records == tuple(RECORDS)
    limited = list(S3Scan(s3, "failures", "f/", limit=1))
    assert len(limited) == 1
    S3Scan(s3, "failures", "f/").delete(failure)
    assert len(list(S3Scan(s3, "failures", "f/"))) == 1


class FlakySqs:
    """Short polls sometimes come back empty although messages wait (SQS samples servers)."""

    def __init__(self, bodies: list[str], script: list[str]) -> None:
        self.bodies = list(enumerate(bodies))
        self.script = script  # per receive: "empty" (a false-empty short poll) or "ok"
        self.waits: list[int] = []

    def receive_message(self, **kwargs: Any) -> dict[str, Any]:
        self.waits.append(kwargs["WaitTimeSeconds"])
        if self.script and self.script.pop(0) == "empty" and kwargs["WaitTimeSeconds"] == 0:
            return {}
        batch, self.bodies = (
            self.bodies[: kwargs["MaxNumberOfMessages"]],
            self.bodies[kwargs["MaxNumberOfMessages"] :],
        )
        return {"Messages": [{"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": b} for n, b in batch]}

    def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]]}


def test_false_empty_short_poll_is_confirmed_by_a_long_poll() -> None:
    client = FlakySqs([pointer(i) for i in range(25)], ["ok", "empty", "ok", "ok"])
    with SqsScan(client, "q", wait_seconds=1) as s:
        assert len(list(s)) == 25
    assert client.waits[:4] == [1, 0, 1, 0]
    assert client.waits[-1] == 1  # the scan ends on an empty long poll


def test_messages_back_from_a_long_scan_are_not_yielded_twice() -> None:
    client = FlakySqs([pointer(i) for i in range(10)], [])
    again = [{"MessageId": "m3", "ReceiptHandle": "r3-new", "Body": pointer(3)}]
    original = client.receive_message
    calls = {"n": 0}

    def receive(**kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        return {"Messages": again} if calls["n"] in (2, 3) else original(**kwargs)

    client.receive_message = receive  # type: ignore[method-assign]
    with SqsScan(client, "q", wait_seconds=0) as s:
        ids = [r.id for r in s]
        assert s._held["m3"] == "r3-new"
    assert sorted(ids) == sorted(f"m{i}" for i in range(10))


def test_s3_scan_is_newest_first_and_skips_folders() -> None:
    from datetime import UTC, datetime

    class FakeS3:
        def get_paginator(self, name: str) -> Any:
            assert name == "list_objects_v2"
            return self

        def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
            assert kwargs == {"Bucket": "b", "Prefix": "p/"}
            stamp = lambda h: datetime(2026, 1, 1, h, tzinfo=UTC)  # noqa: E731
            return [
                {
                    "Contents": [
                        {"Key": "p/old", "LastModified": stamp(1), "Size": 10},
                        {"Key": "p/dir/", "LastModified": stamp(5), "Size": 0},
                    ]
                },
                {
                    "Contents": [
                        {"Key": "p/new", "LastModified": stamp(3), "Size": 10},
                        {"Key": "p/huge", "LastModified": stamp(2), "Size": 10**9},
                    ]
                },
            ]

        def get_object(self, **kwargs: Any) -> dict[str, Any]:
            import io

            return {"Body": io.BytesIO(pointer(1).encode())}

    results = list(S3Scan(FakeS3(), "b", "p/"))
    assert [r.id for r in results] == ["p/new", "p/huge", "p/old"]
    assert isinstance(results[1], Malformed) and "oversized" in results[1].reason


def test_release_tries_every_batch_and_raises_the_first_error_after() -> None:
    """Batches go several at a time; one failing does not leave the others' messages invisible."""

    class BrokenBatch(FlakySqs):
        def __init__(self) -> None:
            super().__init__([pointer(i) for i in range(35)], [])
            self.released: list[str] = []
            self.lock = threading.Lock()

        def change_message_visibility_batch(self, **kwargs: Any) -> dict[str, Any]:
            handles = [e["ReceiptHandle"] for e in kwargs["Entries"]]
            if "r10" in handles:
                raise RuntimeError("batch of r10 refused")
            with self.lock:
                self.released += handles
            return super().change_message_visibility_batch(**kwargs)

    client = BrokenBatch()
    with pytest.raises(RuntimeError, match="r10"), SqsScan(client, "q", wait_seconds=0) as s:
        assert len(list(s)) == 35
    assert sorted(client.released) == sorted(f"r{n}" for n in [*range(10), *range(20, 35)])

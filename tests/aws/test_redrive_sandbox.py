"""Redrive against the sandbox, where the mapping really runs and really fails on chosen records.

The mapping isolates each poison pill (bisect) and sends its pointer to the queue; then the function is
"fixed" (or not) and redrive runs: every failure whose records the handler accepts is deleted, a
failure that still fails keeps itself and the later failures of its shard, expired records are kept
unless ``drop_expired``, and a dry run changes nothing.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest

from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.redrive import Status
from ddbtrigger.usecases.redrive import RedriveOptions, open_redrive
from tests.aws.conftest_sandbox import (
    FakeClock,
    create_mapping,
    make_queue,
    make_table,
    put,
    sandbox_factory,
    wait_for,
)
from tests.aws.test_redrive_moto import AWS_DOCS_EVENT, json_type
from tests.helpers import queue_counts

pytestmark = pytest.mark.xdist_group("sandbox")

SPEC = """
version: 1
triggers:
  - name: orders-audit
    table: orders
    function: orders-fn
    on_failure: {type: sqs, name: dlq}
"""
PILLS = (3, 7)


class Switchable:
    """The function: fails on poison pills while ``mode`` is "poison", reports them as batch item
    failures in "partial" mode, accepts everything once "fixed". Logs every event it is given."""

    def __init__(self) -> None:
        self.mode = "poison"
        self.events: list[dict[str, Any]] = []
        self.accepted: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        pills = [
            r["dynamodb"]["SequenceNumber"]
            for r in event["Records"]
            if r["dynamodb"].get("NewImage", {}).get("poison")
        ]
        with self.lock:
            self.events.append(copy.deepcopy(event))
            if pills and self.mode == "poison":
                raise ValueError(f"poison pill {pills[0]}")
            if pills and self.mode == "partial":
                return {"batchItemFailures": [{"itemIdentifier": s} for s in pills]}
            self.accepted.extend(seqs)
        return None


class World:
    def __init__(self, sb: Any) -> None:
        self.sb = sb
        self.fn = Switchable()
        self.stream = make_table(sb)
        sb.register_handler("orders-fn", self.fn)
        self.url, arn = make_queue(sb, "dlq")
        for i in range(10):
            put(sb, f"k{i}", poison=i in PILLS)
        create_mapping(
            sb,
            self.stream,
            "orders-fn",
            BatchSize=10,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": arn}},
        )
        wait_for(
            lambda: self.depth() == len(PILLS) and len(self.fn.accepted) == 10 - len(PILLS),
            timeout=20,
            what="the mapping to isolate both pills",
        )
        self.factory = sandbox_factory(sb)
        self.triggers = load_spec(SPEC, "ddbtrigger.yaml").triggers

    def depth(self) -> int:
        return sum(queue_counts(self.sb.client("sqs"), self.url))

    def visible(self) -> int:
        attrs = self.sb.client("sqs").get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])

    def redrive(self, **options: Any) -> Any:
        with open_redrive(self.factory, self.triggers, RedriveOptions(**options)) as session:
            return session.run()

    def pill_records(self) -> dict[str, dict[str, Any]]:
        """The pills' records as the mapping itself delivered them (from the failing invokes)."""
        return {
            r["dynamodb"]["SequenceNumber"]: r
            for e in self.fn.events
            for r in e["Records"]
            if r["dynamodb"]["NewImage"].get("poison")
        }


@pytest.fixture
def world(sandbox: Any) -> World:
    return World(sandbox)


def test_fixed_function_gets_every_failure_redriven_and_deleted(world: World) -> None:
    originals = world.pill_records()
    world.fn.mode = "fixed"
    world.fn.events.clear()
    report = world.redrive()
    assert [r.status for r in report.results] == [Status.REDRIVEN, Status.REDRIVEN]
    assert report.as_json()["records"] == 2 and not report.left_failing
    assert world.depth() == 0
    redriven = [r for e in world.fn.events for r in e["Records"]]
    assert sorted(r["dynamodb"]["SequenceNumber"] for r in redriven) == sorted(originals)
    for record in redriven:
        # exactly what the mapping sent the first time ...
        assert record == originals[record["dynamodb"]["SequenceNumber"]]
        # ... and field by field the shape of the example event in AWS's documentation
        (sample,) = AWS_DOCS_EVENT["Records"]
        assert set(record) == set(sample)
        assert {k: json_type(v) for k, v in record.items()} == {k: json_type(v) for k, v in sample.items()}
        assert {k: json_type(record["dynamodb"][k]) for k in sample["dynamodb"]} == {
            k: json_type(v) for k, v in sample["dynamodb"].items()
        }
        assert record["eventSourceARN"] == world.stream
    assert world.redrive().results == ()  # a second run finds nothing left


def test_still_failing_keeps_the_failure_and_the_later_ones_of_the_shard(world: World) -> None:
    world.fn.events.clear()
    report = world.redrive()
    first, second = report.results
    assert first.status is Status.FAILED and "poison pill" in (first.error or "")
    assert second.status is Status.NOT_ATTEMPTED and "not attempted" in (second.error or "")
    assert report.left_failing and (report.as_json()["failed"], report.as_json()["not_attempted"]) == (1, 1)
    assert len(world.fn.events) == 1  # only the first failure was tried
    assert world.depth() == 2 and world.visible() == 2  # kept, and released for the next run


def test_batch_item_failures_keep_the_failure(world: World) -> None:
    world.fn.mode = "partial"
    report = world.redrive(keep_going=True)
    assert [r.status for r in report.results] == [Status.FAILED, Status.FAILED]
    assert all("batchItemFailures" in (r.error or "") for r in report.results)
    assert world.depth() == 2


def test_dry_run_changes_nothing(world: World) -> None:
    world.fn.mode = "fixed"
    before = (world.depth(), len(world.fn.events))
    report = world.redrive(dry_run=True)
    assert [r.status for r in report.results] == [Status.DRY_RUN, Status.DRY_RUN]
    assert (world.depth(), len(world.fn.events)) == before and world.visible() == 2


def test_expired_records_are_kept_then_dropped_on_request(world: World, clock: FakeClock) -> None:
    world.fn.mode = "fixed"
    clock.advance(86400 + 60)
    report = world.redrive()
    assert [r.status for r in report.results] == [Status.EXPIRED, Status.EXPIRED]
    assert report.left_failing and world.depth() == 2
    report = world.redrive(drop_expired=True)
    assert [r.status for r in report.results] == [Status.EXPIRED, Status.EXPIRED]
    assert not report.left_failing and world.depth() == 0

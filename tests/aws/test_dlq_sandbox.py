"""inspect-dlq against the sandbox, where a real poison pill lands in SQS and S3 destinations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ddbtrigger.core.spec import TriggerSpec
from ddbtrigger.usecases import inspect as uc
from tests.aws.conftest_sandbox import (
    Recorder,
    create_mapping,
    make_queue,
    make_table,
    put,
    sandbox_factory,
    stream_sequence_numbers,
    wait_for,
)

pytestmark = pytest.mark.xdist_group("sandbox")


def trigger(on_failure: dict[str, Any]) -> TriggerSpec:
    return TriggerSpec.model_validate(
        {"name": "orders-audit", "table": "orders", "function": "orders-audit", "on_failure": on_failure}
    )


def poisoned(sb: Any, destination: str) -> tuple[str, list[str]]:
    stream = make_table(sb)
    assert stream
    sb.register_handler("orders-audit", Recorder())
    for i in range(8):
        put(sb, f"k{i}", poison=i == 5, note=f"n{i}")
    seqs = stream_sequence_numbers(sb, stream)
    create_mapping(
        sb,
        stream,
        "orders-audit",
        BatchSize=8,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": destination}},
    )
    return stream, seqs


def test_sqs_pointer_hydrates_then_expires(sandbox: Any, clock: Any) -> None:
    url, arn = make_queue(sandbox, "orders-dlq")
    _, seqs = poisoned(sandbox, arn)
    factory = sandbox_factory(sandbox)
    spec = trigger({"type": "sqs", "name": "orders-dlq"})

    def read() -> uc.InspectReport:
        return uc.inspect(
            factory, [spec], now=datetime.now(UTC), hydrate=True, show_images=True, wait_seconds=0
        )

    report = wait_for(lambda: (r := read()).failures and r, what="the pointer", timeout=20)
    (entry,) = report.failures
    assert entry.item.start_sequence_number == seqs[5] and entry.trigger == "orders-audit"
    assert entry.hydration is not None and not entry.hydration.expired
    (record,) = entry.hydration.records
    assert record["keys"] == {"pk": "k5"} and record["new_image"]["note"] == "n5"
    assert record["new_image"]["poison"] is True
    clock.advance(86_400 + 60)
    later = read()
    assert later.failures[0].hydration is not None and later.failures[0].hydration.expired
    attrs = sandbox.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attrs["ApproximateNumberOfMessages"] == "1" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def test_s3_failure_carries_its_records(sandbox: Any) -> None:
    sandbox.client("s3").create_bucket(Bucket="orders-failures")
    poisoned(sandbox, "arn:aws:s3:::orders-failures")
    factory = sandbox_factory(sandbox)
    spec = trigger({"type": "s3", "name": "orders-failures"})

    def read() -> uc.InspectReport:
        return uc.inspect(factory, [spec], now=datetime.now(UTC), hydrate=True)

    report = wait_for(lambda: (r := read()).failures and r, what="the failure object", timeout=20)
    (entry,) = report.failures
    assert entry.item.id.startswith("aws/lambda/")
    assert entry.hydration is not None and entry.hydration.origin == "s3"
    assert [r["keys"] for r in entry.hydration.records] == [{"pk": "k5"}]
    assert report.malformed == []

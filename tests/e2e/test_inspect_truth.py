"""issue 13: inspect-dlq decodes an SNS envelope in any queue, and "expires" only counts down where
records can still expire (a pointer --hydrate found trimmed is "expired", never a countdown)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.aws.test_dlq_inspect import real_pointer
from tests.e2e.test_inspect_dlq import world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.e2e

GONE = "arn:aws:dynamodb:us-east-1:123456789012:table/gone/stream/2026-12-01T00:00:00.000"


def inspect(run_cli: Any, w: dict[str, Any], *extra: str, env: dict[str, str] | None = None) -> Any:
    args = ("inspect-dlq", "-f", str(w["spec"]), "--endpoint-url", w["url"], "--trigger", "orders-audit")
    return run_cli(*args, *extra, env=env)


def test_sns_envelope_in_an_sqs_destination_queue_is_a_failure(world: dict[str, Any], run_cli: Any) -> None:  # noqa: F811
    """A topic fanned out to the SQS destination's queue: its envelope is decoded, not "malformed"."""
    import boto3

    session = boto3.Session(region_name="us-east-1")
    sns = session.client("sns", endpoint_url=world["url"])
    sqs = world["sqs"]
    topic = sns.create_topic(Name="fan-out")["TopicArn"]
    arn = sqs.get_queue_attributes(QueueUrl=world["queue"], AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    records = world["records"]
    arrival = datetime.now(UTC)
    sns.publish(TopicArn=topic, Message=real_pointer(GONE, records[3:4], arrival=arrival))

    result = inspect(run_cli, world, "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert len(doc["failures"]) == 2, doc["malformed"]
    assert len(doc["malformed"]) == 1  # only the "junk" body
    starts = {f["start_sequence_number"] for f in doc["failures"]}
    assert records[3]["dynamodb"]["SequenceNumber"] in starts


def test_hydrate_that_finds_records_trimmed_says_expired(world: dict[str, Any], run_cli: Any) -> None:  # noqa: F811
    sqs = world["sqs"]
    sqs.purge_queue(QueueUrl=world["queue"])
    sqs.send_message(
        QueueUrl=world["queue"],
        MessageBody=real_pointer(GONE, world["records"][0:1], arrival=datetime.now(UTC)),
    )
    doc = json.loads(inspect(run_cli, world, "--hydrate", "-o", "json").stdout)
    (failure,) = doc["failures"]
    assert failure["hydrated"]["expired"] is True
    assert failure["expired"] is True and doc["counts"]["expired"] == 1

    table = inspect(run_cli, world, "--hydrate", env={"COLUMNS": "80"})
    assert table.returncode == 0, table.stderr
    assert "expires: expired" in table.stdout and "expires: in" not in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80

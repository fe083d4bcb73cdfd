"""``ddbtrigger inspect-dlq`` as a subprocess against a moto server: SQS, SNS (inspect queue), --follow."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.aws.test_dlq import pointer
from tests.aws.test_dlq_inspect import real_pointer
from tests.conftest import ddbtrigger_executable
from tests.helpers import create_table, first_shard, queue_counts, shard_records
from tests.unit.test_failures import FAILURE_KEYS

pytestmark = pytest.mark.e2e

SPEC = """\
version: 1
region: us-east-1
triggers:
  - name: orders-audit
    table: orders
    function: orders-audit
    on_failure: {type: sqs, name: orders-dlq}
  - name: users-sync
    table: users
    function: users-sync
    on_failure: {type: sns, name: users-dlq, inspect_queue: users-dlq-tap}
"""


def clients(url: str) -> Any:
    import boto3

    session = boto3.Session(region_name="us-east-1")
    return lambda service: session.client(service, endpoint_url=url)


@pytest.fixture
def world(moto_server: str, tmp_path: Path) -> dict[str, Any]:
    from datetime import UTC, datetime

    client = clients(moto_server)
    ddb, streams, sqs, sns = client("dynamodb"), client("dynamodbstreams"), client("sqs"), client("sns")
    arn = create_table(ddb)["LatestStreamArn"]
    for i in range(5):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"o{i}"}})
    records = shard_records(streams, arn, first_shard(streams, arn))
    url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=real_pointer(arn, records[1:3], arrival=datetime.now(UTC)))
    sqs.send_message(QueueUrl=url, MessageBody="junk")
    topic = sns.create_topic(Name="users-dlq")["TopicArn"]
    tap = sqs.create_queue(QueueName="users-dlq-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn)
    sns.publish(TopicArn=topic, Message=pointer(7))
    spec = tmp_path / "ddbtrigger.yaml"
    spec.write_text(SPEC)
    return {"url": moto_server, "sqs": sqs, "queue": url, "tap": tap, "spec": spec, "records": records}


def inspect_args(world: dict[str, Any], *extra: str) -> list[str]:
    """``inspect-dlq`` on the world's spec and server, then ``extra``."""
    return ["inspect-dlq", "-f", str(world["spec"]), "--endpoint-url", world["url"], *extra]


def test_json_hydrate_and_nothing_consumed(world: dict[str, Any], run_cli: Any) -> None:
    result = run_cli(*inspect_args(world, "--hydrate", "-o", "json"))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert sorted(f["trigger"] for f in doc["failures"]) == ["orders-audit", "users-sync"]
    assert [m["id"] for m in doc["malformed"]] and list(doc["malformed"][0]) == ["id", "reason"]
    orders = next(f for f in doc["failures"] if f["trigger"] == "orders-audit")
    assert list(orders)[:13] == FAILURE_KEYS
    assert [r["keys"] for r in orders["hydrated"]["records"]] == [{"pk": "o1"}, {"pk": "o2"}]
    users = next(f for f in doc["failures"] if f["trigger"] == "users-sync")
    assert users["hydrated"]["expired"] is True  # its stream does not exist
    assert queue_counts(world["sqs"], world["queue"]) == (2, 0)
    assert queue_counts(world["sqs"], world["tap"]) == (1, 0)


def test_table_limit_and_export(world: dict[str, Any], run_cli: Any, tmp_path: Path) -> None:
    result = run_cli(*inspect_args(world, "--trigger", "orders-audit", "--limit", "1"))
    assert result.returncode == 0, result.stderr
    assert "failure(s)" in result.stdout
    out = tmp_path / "f.jsonl"
    result = run_cli(*inspect_args(world, "--export", str(out)))
    assert result.returncode == 0, result.stderr
    assert len(out.read_text().splitlines()) == 2
    assert "next: ddbtrigger redrive" in result.stdout
    assert queue_counts(world["sqs"], world["queue"]) == (2, 0)


def test_follow_exits_zero_on_ctrl_c(world: dict[str, Any], tmp_path: Path) -> None:
    args = [
        *ddbtrigger_executable(),
        *inspect_args(world, "--trigger", "orders-audit"),
        "--follow",
        "--interval",
        "0.5",
        "-o",
        "json",
    ]
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert json.loads(first)
        world["sqs"].send_message(QueueUrl=world["queue"], MessageBody=pointer(99))
        deadline, lines = time.monotonic() + 30, [first]
        while time.monotonic() < deadline and len(lines) < 3:
            lines.append(proc.stdout.readline())
        assert len(lines) == 3
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert queue_counts(world["sqs"], world["queue"]) == (3, 0)

"""``inspect-dlq`` in-process against moto: nothing consumed, --limit, --hydrate, --export, JSON shape."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.events import lambda_event
from ddbtrigger.core.spec import TriggerSpec
from ddbtrigger.usecases import inspect as uc
from tests.aws.test_dlq import depth, pointer
from tests.helpers import create_table, first_shard, shard_records
from tests.unit.test_failures import FAILURE_KEYS, RETRY_EXHAUSTED

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
    on_failure: {type: s3, name: users-failures, prefix: failures/}
  - name: quiet
    table: quiet
    function: quiet
"""


def make_table(factory: Any, name: str = "orders", items: int = 12) -> tuple[str, list[dict[str, Any]]]:
    """A stream-enabled table with ``items`` writes; returns its stream ARN and the records as read."""
    ddb = factory.client("dynamodb")
    arn = create_table(ddb, name)["LatestStreamArn"]
    for i in range(items):
        ddb.put_item(
            TableName=name, Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}, "secret": {"S": f"pii-{i}"}}
        )
    streams = factory.client("dynamodbstreams")
    return arn, shard_records(streams, arn, first_shard(streams, arn))


def real_pointer(stream_arn: str, records: list[dict[str, Any]], *, arrival: datetime) -> str:
    body = copy.deepcopy(RETRY_EXHAUSTED)
    shard = "shardId-00000001541626099285-f35f62ef"  # moto's one shard id
    stamp = arrival.strftime("%Y-%m-%dT%H:%M:%SZ")
    body["DDBStreamBatchInfo"].update(
        shardId=shard,
        streamArn=stream_arn,
        batchSize=len(records),
        startSequenceNumber=records[0]["dynamodb"]["SequenceNumber"],
        endSequenceNumber=records[-1]["dynamodb"]["SequenceNumber"],
        approximateArrivalOfFirstRecord=stamp,
        approximateArrivalOfLastRecord=stamp,
    )
    return json.dumps(body)


@pytest.fixture
def world(moto_aws: Any, tmp_path: Path) -> dict[str, Any]:
    """orders (SQS: 2 real pointers, 1 old one, 2 junk), users (S3: 1 record with payload)."""
    arn, records = make_table(moto_aws)
    now = datetime.now(UTC)
    sqs = moto_aws.client("sqs")
    url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=real_pointer(arn, records[6:9], arrival=now))
    sqs.send_message(QueueUrl=url, MessageBody=real_pointer(arn, records[2:4], arrival=now))
    sqs.send_message(
        QueueUrl=url, MessageBody=real_pointer(arn, records[0:1], arrival=now - timedelta(days=2))
    )
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"KinesisBatchInfo": {}}))
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="users-failures")
    body = json.loads(pointer(4))
    body["payload"] = json.dumps(lambda_event(records[10:12], stream_arn=arn))
    s3.put_object(
        Bucket="users-failures", Key="failures/aws/lambda/x/shard/1.json", Body=json.dumps(body, default=str)
    )
    spec = tmp_path / "ddbtrigger.yaml"
    spec.write_text(SPEC)
    return {"factory": moto_aws, "url": url, "records": records, "spec": spec, "arn": arn}


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["inspect-dlq", *args])


def test_json_shape_and_nothing_consumed(world: dict[str, Any]) -> None:
    result = cli("-f", str(world["spec"]), "--output", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc) == ["failures", "malformed", "held", "counts"]
    assert doc["held"] == {"count": 0, "reappear_by": None}
    assert doc["counts"] == {"failures": 4, "expired": 1, "malformed": 2, "held": 0}
    s3 = next(f for f in doc["failures"] if f["trigger"] == "users-sync")
    assert s3["expires_at"] is None and s3["expired"] is False  # it carries its records (issue 13)
    assert len(doc["failures"]) == 4 and len(doc["malformed"]) == 2
    for failure in doc["failures"]:
        assert list(failure) == FAILURE_KEYS
    orders = [f for f in doc["failures"] if f["trigger"] == "orders-audit"]
    starts = [int(f["start_sequence_number"]) for f in orders]
    assert starts == sorted(starts)
    assert [f["expired"] for f in orders] == [True, False, False]
    assert {m["id"] for m in doc["malformed"]} and all(list(m) == ["id", "reason"] for m in doc["malformed"])
    assert depth(world["factory"], world["url"]) == (5, 0)


def test_table_mode(world: dict[str, Any]) -> None:
    result = cli("-f", str(world["spec"]))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "RetryAttemptsExhausted" in text and " in 2" in text and "expired" in text
    assert "4 failure(s) (1 expired), 2 malformed" in text  # the old S3 one carries its records
    assert "never (in S3)" in text
    assert "next: ddbtrigger redrive -f" in text and "--trigger orders-audit --trigger users-sync" in text
    assert "Kinesis" in text
    assert "quiet has no failure destination" in result.stderr
    assert depth(world["factory"], world["url"]) == (5, 0)


def test_limit(world: dict[str, Any]) -> None:
    result = cli("-f", str(world["spec"]), "--trigger", "orders-audit", "--limit", "2", "-o", "json")
    doc = json.loads(result.stdout)
    assert len(doc["failures"]) + len(doc["malformed"]) == 2
    assert depth(world["factory"], world["url"]) == (5, 0)


def test_limit_above_cap_is_a_usage_error(world: dict[str, Any]) -> None:
    result = cli("-f", str(world["spec"]), "--limit", "200000")
    assert result.exit_code == 2
    assert "in-flight cap" in result.stderr


def test_hydrate_matches_what_was_written(world: dict[str, Any]) -> None:
    result = cli("-f", str(world["spec"]), "--hydrate", "-o", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    by_start = {f["start_sequence_number"]: f for f in doc["failures"]}
    records = world["records"]
    hydrated = by_start[records[6]["dynamodb"]["SequenceNumber"]]["hydrated"]
    assert [r["keys"] for r in hydrated["records"]] == [{"pk": "k6"}, {"pk": "k7"}, {"pk": "k8"}]
    assert [r["event_name"] for r in hydrated["records"]] == ["INSERT"] * 3
    assert [r["sequence_number"] for r in hydrated["records"]] == [
        r["dynamodb"]["SequenceNumber"] for r in records[6:9]
    ]
    assert "new_image" not in hydrated["records"][0]
    s3 = next(f for f in doc["failures"] if f["trigger"] == "users-sync")["hydrated"]
    assert s3["from"] == "s3" and [r["keys"] for r in s3["records"]] == [{"pk": "k10"}, {"pk": "k11"}]


def test_show_images(world: dict[str, Any]) -> None:
    result = cli("-f", str(world["spec"]), "--trigger", "orders-audit", "--hydrate", "--show-images")
    assert result.exit_code == 0, result.output
    assert "pii-7" in result.stdout and "new_image" in result.stdout
    hidden = cli("-f", str(world["spec"]), "--trigger", "orders-audit", "--hydrate")
    assert "pii-7" not in hidden.stdout and "k7" in hidden.stdout


def test_export_streams_jsonl(world: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = cli("-f", str(world["spec"]), "--export", str(target), "-o", "json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(lines) == 4 and all(list(line) == FAILURE_KEYS for line in lines)
    summary = json.loads(result.stdout)
    assert summary["failures"] == 4 and len(summary["malformed"]) == 2 and summary["expired"] == 1
    assert depth(world["factory"], world["url"]) == (5, 0)


def test_missing_destination_is_not_found(moto_aws: Any, tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC)
    result = cli("-f", str(spec), "--trigger", "orders-audit")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_follow_appends_only_new(world: dict[str, Any]) -> None:
    batches: list[list[Any]] = []
    sqs = world["factory"].client("sqs")
    trigger = TriggerSpec.model_validate(
        {
            "name": "orders-audit",
            "table": "orders",
            "function": "f",
            "on_failure": {"type": "sqs", "name": "orders-dlq"},
        }
    )

    def pause(_: float) -> None:
        sqs.send_message(QueueUrl=world["url"], MessageBody=pointer(len(batches) + 50))

    uc.follow(
        world["factory"],
        [trigger],
        on_new=batches.append,
        clock=lambda: datetime.now(UTC),
        interval=0,
        sleep=pause,
        rounds=3,
        wait_seconds=0,
    )
    assert [len(b) for b in batches] == [5, 1, 1]
    assert depth(world["factory"], world["url"]) == (7, 0)


def test_redrive_command_and_texts() -> None:
    assert (
        uc.redrive_command(file="ddbtrigger.yaml", triggers=["b", "a", "a"])
        == "ddbtrigger redrive --trigger a --trigger b"
    )
    assert (
        uc.redrive_command(file="my spec.yaml", triggers=["a"], endpoint_url="http://127.0.0.1:4566")
        == "ddbtrigger redrive -f 'my spec.yaml' --trigger a --endpoint-url http://127.0.0.1:4566"
    )
    assert uc.age_text(timedelta(hours=3, minutes=12, seconds=5)) == "3h12m"
    assert uc.age_text(timedelta(days=2, hours=4)) == "2d4h"
    assert uc.short_sequence("800000000003126276362") == "800000…276362"
    assert uc.plain_item({"n": {"N": "1.5"}, "s": {"SS": ["b", "a"]}, "b": {"B": b"\x01"}}) == {
        "n": 1.5,
        "s": ["a", "b"],
        "b": "AQ==",
    }


def test_now_can_be_pinned(world: dict[str, Any]) -> None:
    result = cli(
        "-f", str(world["spec"]), "--trigger", "orders-audit", "--now", "2100-01-01T00:00:00Z", "-o", "json"
    )
    assert result.exit_code == 0, result.output
    assert all(f["expired"] for f in json.loads(result.stdout)["failures"])
    bad = cli("-f", str(world["spec"]), "--now", "tomorrow")
    assert bad.exit_code == 2 and "ISO-8601" in bad.stderr

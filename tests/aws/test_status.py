"""``status`` against moto in-process: healthy, missing mapping, disabled, non-empty destination, drift,
the JSON document's exact shape, and the number of AWS calls per trigger.

The live state is built with boto3 directly; the healthy mapping and queue take their settings from the
planner's own desired values (``core.desired``), so "healthy" means exactly "the planner sees no change".
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ddbtrigger.core.desired import ArnContext, create_params, desired_destination_attributes, desired_mapping
from ddbtrigger.core.live import MANAGED_TAG
from ddbtrigger.core.spec import TriggerSpec
from ddbtrigger.usecases.spec_file import read_spec
from ddbtrigger.usecases.status import read_status
from tests.helpers import create_table

REGION = "us-east-1"
ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def write_spec(tmp_path: Path, *triggers: dict[str, Any]) -> Path:
    path = tmp_path / "ddbtrigger.yaml"
    path.write_text(
        yaml.safe_dump({"version": 1, "region": REGION, "triggers": list(triggers)}, sort_keys=False)
    )
    return path


def trigger_doc(
    name: str, *, table: str, function: str, dest: str | None = "sqs", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "table": table, "function": function}
    if dest == "sqs":
        body["on_failure"] = {"type": "sqs", "name": f"{name}-dlq"}
    elif dest == "s3":
        body["on_failure"] = {"type": "s3", "name": f"{name}-failures", "prefix": "failures/"}
    body.update(extra)
    return body


def make_function(factory: Any, name: str) -> str:
    import io
    import zipfile

    iam = factory.client("iam")
    try:
        role = iam.get_role(RoleName="ddbt-status-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="ddbt-status-role", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))[
            "Role"
        ]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    created = factory.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    return str(created["FunctionArn"])


def make_table(factory: Any, name: str) -> dict[str, Any]:
    return create_table(factory.client("dynamodb"), name)


def make_queue(factory: Any, spec: TriggerSpec) -> str:
    assert spec.on_failure is not None and spec.on_failure.name
    attrs = desired_destination_attributes(spec.on_failure)
    return str(
        factory.client("sqs").create_queue(
            QueueName=spec.on_failure.name, Attributes=attrs, tags={MANAGED_TAG: spec.name}
        )["QueueUrl"]
    )


def make_mapping(factory: Any, spec: TriggerSpec, table: dict[str, Any], **override: Any) -> str:
    """A mapping exactly as the planner wants it (``override`` changes fields to create drift)."""
    ctx = ArnContext.from_arn(table["TableArn"], region=REGION)
    params = create_params(desired_mapping(spec, ctx))
    params.update(override)
    created = factory.client("lambda").create_event_source_mapping(
        EventSourceArn=table["LatestStreamArn"], FunctionName=spec.function, **params
    )
    return str(created["UUID"])


def healthy(factory: Any, tmp_path: Path, name: str = "orders-audit", **override: Any) -> tuple[Path, str]:
    path = write_spec(tmp_path, trigger_doc(name, table=f"{name}-table", function=f"{name}-fn"))
    spec = read_spec(path).triggers[0]
    table = make_table(factory, spec.table_name)
    make_function(factory, spec.function)
    make_queue(factory, spec)
    return path, make_mapping(factory, spec, table, **override)


def status_of(factory: Any, path: Path, *, shards: bool = True, metrics: bool = False) -> Any:
    spec = read_spec(path)
    return read_status(factory, spec.triggers, shards=shards, metrics=metrics, clock=lambda: NOW)


def test_healthy_trigger(moto_aws: Any, tmp_path: Path) -> None:
    path, uuid = healthy(moto_aws, tmp_path)
    (status,) = status_of(moto_aws, path).triggers
    assert status.mapping is not None and status.mapping.uuid == uuid
    assert status.mapping.state == "Enabled"
    assert status.stream_status == "ENABLED" and status.view_type == "NEW_AND_OLD_IMAGES"
    assert status.destination is not None and status.destination.depth is not None
    assert status.destination.depth.total == 0
    assert status.drift is False
    assert status.readers == 1
    assert status.shards and all(s.open for s in status.shards)
    assert status.hints == ()


def test_missing_mapping(moto_aws: Any, tmp_path: Path) -> None:
    path = write_spec(tmp_path, trigger_doc("no-mapping", table="lonely", function="lonely-fn"))
    spec = read_spec(path).triggers[0]
    make_table(moto_aws, "lonely")
    make_function(moto_aws, "lonely-fn")
    make_queue(moto_aws, spec)
    (status,) = status_of(moto_aws, path).triggers
    assert status.mapping is None
    assert status.drift is True
    assert [h.code for h in status.hints] == ["mapping-missing"]
    assert status.as_json()["mapping"] is None


def test_disabled_mapping(moto_aws: Any, tmp_path: Path) -> None:
    path, _ = healthy(moto_aws, tmp_path, Enabled=False)
    (status,) = status_of(moto_aws, path).triggers
    assert status.mapping is not None and status.mapping.state == "Disabled"
    assert "mapping-disabled" in [h.code for h in status.hints]
    assert status.drift is True  # the spec says enabled: true
    assert status.readers == 0


def test_non_empty_destination_counts_visible_and_in_flight(moto_aws: Any, tmp_path: Path) -> None:
    path, _ = healthy(moto_aws, tmp_path)
    sqs = moto_aws.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": i}))
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
    (status,) = status_of(moto_aws, path).triggers
    depth = status.destination.depth
    assert (depth.visible, depth.in_flight, depth.total) == (2, 1, 3)
    (hint,) = status.hints
    assert hint.code == "destination-not-empty" and "3 failures" in hint.message
    # status never receives: the counts are unchanged after it ran
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "2"


def test_s3_destination_depth_under_prefix_with_oldest(moto_aws: Any, tmp_path: Path) -> None:
    path = write_spec(tmp_path, trigger_doc("to-s3", table="s3-table", function="s3-fn", dest="s3"))
    spec = read_spec(path).triggers[0]
    table = make_table(moto_aws, "s3-table")
    make_function(moto_aws, "s3-fn")
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="to-s3-failures")
    for key in ("failures/aws/lambda/u/s/1", "failures/aws/lambda/u/s/2", "elsewhere/x"):
        s3.put_object(Bucket="to-s3-failures", Key=key, Body=b"{}")
    make_mapping(moto_aws, spec, table)
    (status,) = read_status(moto_aws, [spec], shards=False, metrics=False).triggers
    assert status.destination.type == "s3"
    assert status.destination.depth.total == 2
    assert status.destination.oldest_at is not None
    assert "destination-not-empty" in [h.code for h in status.hints]


def test_drift_when_a_setting_differs(moto_aws: Any, tmp_path: Path) -> None:
    path, _ = healthy(moto_aws, tmp_path, BatchSize=7)
    (status,) = status_of(moto_aws, path).triggers
    assert status.drift is True
    assert status.mapping.batch_size == 7
    assert "drift" in [h.code for h in status.hints]


@pytest.mark.parametrize("others", [0, 4])
def test_more_than_two_readers(moto_aws: Any, tmp_path: Path, others: int) -> None:
    """Counted per stream for one trigger, and from the region-wide listing when there are many."""
    path, _ = healthy(moto_aws, tmp_path)
    doc = yaml.safe_load(path.read_text())
    for i in range(others):
        doc["triggers"].append(trigger_doc(f"other{i}", table=f"other{i}-table", function=f"other{i}-fn"))
        make_table(moto_aws, f"other{i}-table")
    path.write_text(yaml.safe_dump(doc))
    stream = moto_aws.client("dynamodb").describe_table(TableName="orders-audit-table")["Table"][
        "LatestStreamArn"
    ]
    for extra in ("reader-2", "reader-3"):
        make_function(moto_aws, extra)
        moto_aws.client("lambda").create_event_source_mapping(
            EventSourceArn=stream, FunctionName=extra, StartingPosition="LATEST"
        )
    (status, *rest) = status_of(moto_aws, path, shards=False).triggers
    assert status.readers == 3
    assert "too-many-readers" in [h.code for h in status.hints]
    assert all(t.readers == 0 for t in rest)


def test_metrics_missing_are_unknown_and_present_are_read(moto_aws: Any, tmp_path: Path) -> None:
    path, uuid = healthy(moto_aws, tmp_path)
    (status,) = status_of(moto_aws, path, metrics=True).triggers
    assert status.iterator_age_ms is None
    now = datetime.now(UTC)
    moto_aws.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "EventSourceMappingUUID", "Value": uuid}],
                "Value": 7_200_000.0,
                "Unit": "Milliseconds",
                "Timestamp": now - timedelta(minutes=2),
            }
        ],
    )
    spec = read_spec(path)
    (status,) = read_status(moto_aws, spec.triggers, shards=False, metrics=True).triggers
    assert status.iterator_age_ms == 7_200_000.0
    assert "iterator-age" in [h.code for h in status.hints]


# --- the command ------------------------------------------------------------------------------------

MAPPING_KEYS = {
    "uuid",
    "state",
    "state_transition_reason",
    "last_processing_result",
    "batch_size",
    "maximum_retry_attempts",
    "maximum_record_age_in_seconds",
    "bisect_batch_on_function_error",
}
SHARD_KEYS = {"shard_id", "parent_shard_id", "open", "starting_sequence_number", "ending_sequence_number"}


def run(*args: str) -> Any:
    from ddbtrigger.cli.app import app

    return CliRunner().invoke(app, ["status", *args], env={"COLUMNS": "120", "NO_COLOR": "1"})


def test_json_output_matches_product_shape(moto_aws: Any, tmp_path: Path) -> None:
    path, uuid = healthy(moto_aws, tmp_path)
    missing = trigger_doc("second", table="second-table", function="second-fn")
    spec_doc = yaml.safe_load(path.read_text())
    spec_doc["triggers"].append(missing)
    path.write_text(yaml.safe_dump(spec_doc))
    make_table(moto_aws, "second-table")
    make_function(moto_aws, "second-fn")

    result = run("-f", str(path), "--output", "json")
    assert result.exit_code == 3, result.output  # the second trigger has no mapping: attention needed
    doc = json.loads(result.stdout)
    assert set(doc) == {"triggers", "attention"} and doc["attention"] is True
    first, second = doc["triggers"]
    assert set(first) >= {"name", "table", "stream", "mapping", "on_failure", "drift", "shards"}
    assert (first["name"], first["table"], first["drift"]) == ("orders-audit", "orders-audit-table", False)
    assert set(first["stream"]) == {"arn", "status", "view_type"}
    assert first["stream"]["status"] == "ENABLED" and first["stream"]["arn"].startswith("arn:aws:dynamodb:")
    assert set(first["mapping"]) >= MAPPING_KEYS
    assert first["mapping"]["uuid"] == uuid and first["mapping"]["batch_size"] == 100
    assert first["mapping"]["bisect_batch_on_function_error"] is True
    assert {"type", "arn", "depth"} <= set(first["on_failure"])
    assert first["on_failure"]["type"] == "sqs" and first["on_failure"]["depth"] == 0
    assert isinstance(first["shards"], list)  # two triggers: shards off by default
    assert second["mapping"] is None and second["drift"] is True
    assert second["on_failure"]["depth"] is None  # the managed queue was never created

    shards = json.loads(run("-f", str(path), "-o", "json", "--trigger", "orders-audit").stdout)
    (only,) = shards["triggers"]
    assert only["shards"] and all(set(s) == SHARD_KEYS for s in only["shards"])
    assert only["shards"][0]["open"] is True


def test_table_output_and_usage_errors(moto_aws: Any, tmp_path: Path) -> None:
    path, _ = healthy(moto_aws, tmp_path)
    result = run("-f", str(path))
    assert result.exit_code == 0, result.output
    assert "orders-audit" in result.stdout and "Enabled" in result.stdout
    assert "shards (1)" in result.stdout  # one trigger: shards on by default
    assert "shards (" not in run("-f", str(path), "--no-shards").stdout
    bad = run("-f", str(path), "5")
    assert bad.exit_code == 2
    assert run("-f", str(path), "--watch", "-o", "json").exit_code == 2


@pytest.mark.parametrize(("count", "limit"), [(3, 7), (6, 6.2)])
def test_calls_per_trigger_stay_low(moto_aws: Any, tmp_path: Path, count: int, limit: float) -> None:
    """7 calls per trigger for a few (read_live's 6 + the stream's readers; the queue's depth comes from
    read_live's own GetQueueAttributes); with many, readers come from one listing of every mapping."""
    docs = []
    for i in range(count):
        name = f"t{i}"
        docs.append(trigger_doc(name, table=f"{name}-table", function=f"{name}-fn"))
    path = write_spec(tmp_path, *docs)
    for spec in read_spec(path).triggers:
        table = make_table(moto_aws, spec.table_name)
        make_function(moto_aws, spec.function)
        make_queue(moto_aws, spec)
        make_mapping(moto_aws, spec, table)
    import boto3

    from ddbtrigger.aws.clients import AwsTarget, ClientFactory

    session = boto3.Session(region_name=REGION)
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(model.name))
    counted = ClientFactory(AwsTarget(region=REGION), session=session)
    (first, *_) = status_of(counted, path, shards=False).triggers
    assert first.drift is False
    per_trigger = len(calls) / count
    assert 3 <= per_trigger <= limit, sorted(calls)
    assert calls.count("GetQueueAttributes") == count
    listings = calls.count("ListEventSourceMappings")
    assert listings == (2 * count if count <= 3 else count + 1)


def test_sns_destination_depth_reads_its_inspect_queue(moto_aws: Any, tmp_path: Path) -> None:
    on_failure = {"type": "sns", "name": "fanout-failures", "inspect_queue": "fanout-tap"}
    path = write_spec(
        tmp_path,
        trigger_doc("fanout", table="fanout-table", function="fanout-fn", dest=None, on_failure=on_failure),
    )
    spec = read_spec(path).triggers[0]
    table = make_table(moto_aws, "fanout-table")
    make_function(moto_aws, "fanout-fn")
    topic = moto_aws.client("sns").create_topic(Name="fanout-failures")["TopicArn"]
    sqs = moto_aws.client("sqs")
    tap = sqs.create_queue(QueueName="fanout-tap")["QueueUrl"]
    tap_arn = sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    moto_aws.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=tap_arn)
    moto_aws.client("sns").publish(TopicArn=topic, Message=json.dumps({"requestContext": {}}))
    make_mapping(moto_aws, spec, table)
    (status,) = read_status(moto_aws, [spec], shards=False, metrics=False).triggers
    assert status.destination.type == "sns" and status.destination.arn == topic
    assert status.destination.depth.total == 1
    assert "destination-not-empty" in [h.code for h in status.hints]


def test_missing_table_is_reported_not_raised(moto_aws: Any, tmp_path: Path) -> None:
    path = write_spec(tmp_path, trigger_doc("ghost", table="no-such-table", function="ghost-fn"))
    (status,) = status_of(moto_aws, path).triggers
    assert status.stream_status is None and status.mapping is None
    assert status.drift is True
    assert [h.code for h in status.hints] == ["table-missing"]


def test_mapping_on_a_stale_stream_arn(moto_aws: Any, tmp_path: Path) -> None:
    """moto cannot re-enable a stream, so the table's stream label is moved on after the mapping exists."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    path = write_spec(tmp_path, trigger_doc("stale", table="stale-table", function="stale-fn"))
    spec = read_spec(path).triggers[0]
    table = make_table(moto_aws, "stale-table")
    make_function(moto_aws, "stale-fn")
    make_queue(moto_aws, spec)
    make_mapping(moto_aws, spec, table)
    dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables[
        "stale-table"
    ].latest_stream_label = "2030-01-01T00:00:00"
    (status,) = status_of(moto_aws, path, shards=False).triggers
    assert status.mapping is not None and status.mapping_is_stale
    assert status.mapping.event_source_arn == table["LatestStreamArn"]
    assert "stale-stream" in [h.code for h in status.hints]
    assert status.drift is True
    assert status.as_json()["mapping"]["stale_stream"] is True


def test_metrics_give_the_age_of_the_oldest_sqs_failure(moto_aws: Any, tmp_path: Path) -> None:
    import re

    path, _ = healthy(moto_aws, tmp_path)
    sqs = moto_aws.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    now = datetime.now(UTC)
    cloudwatch = moto_aws.client("cloudwatch")
    for minutes, age in ((10, 3000.0), (2, 3600.0)):  # the latest point counts, not the largest
        cloudwatch.put_metric_data(
            Namespace="AWS/SQS",
            MetricData=[
                {
                    "MetricName": "ApproximateAgeOfOldestMessage",
                    "Value": age,
                    "Unit": "Seconds",
                    "Dimensions": [{"Name": "QueueName", "Value": "orders-audit-dlq"}],
                    "Timestamp": now - timedelta(minutes=minutes),
                }
            ],
        )
    without = status_of(moto_aws, path, shards=False).triggers[0]
    assert without.destination.oldest_at is None
    spec = read_spec(path)
    (status,) = read_status(moto_aws, spec.triggers, shards=False, metrics=True).triggers
    oldest = status.destination.oldest_at
    assert oldest is not None and abs((datetime.now(UTC) - oldest) - timedelta(hours=1)) < timedelta(
        minutes=1
    )
    (hint,) = [h for h in status.hints if h.code == "destination-not-empty"]
    assert "1h old" in hint.message and re.search(r"within 2[23]h", hint.message), hint.message


def test_sns_destination_without_its_inspect_queue_has_unknown_depth(moto_aws: Any, tmp_path: Path) -> None:
    on_failure = {"type": "sns", "name": "bare-failures", "inspect_queue": "bare-tap"}
    path = write_spec(
        tmp_path,
        trigger_doc("bare", table="bare-table", function="bare-fn", dest=None, on_failure=on_failure),
    )
    spec = read_spec(path).triggers[0]
    make_table(moto_aws, "bare-table")
    make_function(moto_aws, "bare-fn")
    moto_aws.client("sns").create_topic(Name="bare-failures")
    (status,) = read_status(moto_aws, [spec], shards=False, metrics=False).triggers
    assert status.destination is not None and status.destination.exists
    assert status.destination.depth is None
    assert status.as_json()["on_failure"]["depth"] is None

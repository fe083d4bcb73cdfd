"""``ddbtrigger audit`` against moto in-process: an account seeded with every kind of risk, two regions."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.usecases.audit import run_audit
from tests.helpers import create_table

EAST, WEST = "us-east-1", "eu-west-1"
ROLE_POLICY = {"Version": "2012-10-17", "Statement": []}


def factory(region: str, session: Any = None) -> ClientFactory:
    return ClientFactory(AwsTarget(region=region, max_attempts=2), session=session)


def function(f: ClientFactory, name: str, timeout: int = 30) -> None:
    iam = f.client("iam")
    try:
        role = iam.get_role(RoleName="audit-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="audit-role", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY))
        role = role["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("h.py", "def handler(event, context):\n    return {}\n")
    f.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": code.getvalue()},
        Timeout=timeout,
    )


def table(f: ClientFactory, name: str) -> str:
    return str(create_table(f.client("dynamodb"), name)["LatestStreamArn"])


def queue(f: ClientFactory, name: str) -> tuple[str, str]:
    url = f.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    arn = f.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return str(url), str(arn["QueueArn"])


SAFE = {
    "MaximumRetryAttempts": 2,
    "MaximumRecordAgeInSeconds": 3600,
    "BisectBatchOnFunctionError": True,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "BatchSize": 10,
}


def mapping(f: ClientFactory, name: str, *, dest: str | None = None, **settings: Any) -> str:
    """A table, a function and the mapping between them (``settings`` override the safe ones)."""
    stream = table(f, name)
    function(f, f"{name}-fn")
    params: dict[str, Any] = {**SAFE, **settings}
    if dest:
        params["DestinationConfig"] = {"OnFailure": {"Destination": dest}}
    created = f.client("lambda").create_event_source_mapping(
        EventSourceArn=stream, FunctionName=f"{name}-fn", StartingPosition="LATEST", **params
    )
    return str(created["UUID"])


def seed_healthy(f: ClientFactory) -> str:
    _, arn = queue(f, "healthy-dlq")
    return mapping(f, "healthy", dest=arn)


def seed_risky(east: ClientFactory, west: ClientFactory) -> dict[str, str]:
    """Every kind of risk, split over two regions; returns ``{kind: mapping uuid}``."""
    uuids = {"healthy": seed_healthy(east)}
    _, east_dlq = queue(east, "east-dlq")
    uuids["unbounded"] = mapping(east, "unbounded", MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=-1)
    uuids["age-7d"] = mapping(
        east, "age-7d", dest=east_dlq, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=604800
    )
    uuids["no-bisect"] = mapping(
        east, "no-bisect", dest=east_dlq, BatchSize=100, BisectBatchOnFunctionError=False
    )
    uuids["deleted-fn"] = mapping(west, "deleted-fn", dest=queue(west, "west-dlq")[1])
    west.client("lambda").delete_function(FunctionName="deleted-fn-fn")
    uuids["no-stream"] = mapping(west, "no-stream", dest=queue(west, "west-dlq")[1])
    west.client("dynamodb").update_table(TableName="no-stream", StreamSpecification={"StreamEnabled": False})
    full_url, full_arn = queue(west, "full-dlq")
    uuids["full-dlq"] = mapping(west, "full-dlq", dest=full_arn)
    for _ in range(3):
        west.client("sqs").send_message(QueueUrl=full_url, MessageBody="{}")
    gone_url, gone_arn = queue(west, "gone-dlq")
    uuids["gone-dlq"] = mapping(west, "gone-dlq", dest=gone_arn)
    west.client("sqs").delete_queue(QueueUrl=gone_url)
    uuids["lagging"] = mapping(west, "lagging", dest=full_arn)
    west.client("cloudwatch").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "EventSourceMappingUUID", "Value": uuids["lagging"]}],
                "Value": 2 * 3600 * 1000.0,
                "Unit": "Milliseconds",
                "Timestamp": datetime.now(UTC) - timedelta(minutes=2),
            }
        ],
    )
    return uuids


EXPECTED = {
    "unbounded": ("DDBT001", "error"),
    "age-7d": ("DDBT002", "warning"),
    "no-bisect": ("DDBT004", "warning"),
    "deleted-fn": ("DDBT101", "error"),
    "no-stream": ("DDBT103", "error"),
    "full-dlq": ("DDBT106", "warning"),
    "gone-dlq": ("DDBT105", "error"),
    "lagging": ("DDBT109", "warning"),
}


def cli(*args: str, columns: int = 120) -> Any:
    from ddbtrigger.cli.app import app

    return CliRunner().invoke(app, ["audit", *args], env={"COLUMNS": str(columns), "NO_COLOR": "1"})


def test_every_risk_is_found_with_its_code_and_level(moto_aws: Any) -> None:
    uuids = seed_risky(factory(EAST), factory(WEST))
    result = cli("--region", EAST, "--region", WEST, "-o", "json")
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout)
    by_uuid = {m["uuid"]: m for m in doc["mappings"]}
    assert set(by_uuid) == set(uuids.values())
    for kind, (code, level) in EXPECTED.items():
        found = {(f["code"], f["level"]) for f in by_uuid[uuids[kind]]["findings"]}
        assert (code, level) in found, (kind, found)
    healthy = by_uuid[uuids["healthy"]]
    assert [f["level"] for f in healthy["findings"]] == ["info"]  # DDBT006: an SQS destination holds pointers
    assert by_uuid[uuids["full-dlq"]]["failures_waiting"] == 3
    assert by_uuid[uuids["unbounded"]]["impact"] == {
        "max_block_seconds": 86400,
        "max_invocations": None,
        "reaches": "dropped",
    }
    assert by_uuid[uuids["no-bisect"]]["impact"]["max_invocations"] == 4  # 3 tries, report-failures path
    assert {m["region"] for m in doc["mappings"]} == {EAST, WEST}
    assert doc["summary"]["mappings"] == len(uuids) and doc["unreadable"] == []


def test_sorted_worst_first(moto_aws: Any) -> None:
    seed_risky(factory(EAST), factory(WEST))
    doc = json.loads(cli("--region", EAST, "--region", WEST, "-o", "json").stdout)
    rank = {"error": 0, "warning": 1, "info": 2}
    worst = [min(rank[f["level"]] for f in m["findings"]) for m in doc["mappings"]]
    assert worst == sorted(worst) and worst[0] == 0 and worst[-1] == 2


def test_fail_on_levels(moto_aws: Any) -> None:
    seed_healthy(factory(EAST))
    assert cli("--region", EAST).exit_code == 0
    assert cli("--region", EAST, "--fail-on", "warning").exit_code == 0  # only infos remain
    assert cli("--region", EAST, "--fail-on", "info").exit_code == 3
    mapping(
        factory(EAST),
        "no-bisect",
        dest=queue(factory(EAST), "d")[1],
        BatchSize=100,
        BisectBatchOnFunctionError=False,
    )
    assert cli("--region", EAST).exit_code == 0  # warnings only, default --fail-on error
    assert cli("--region", EAST, "--fail-on", "warning").exit_code == 3


def test_table_reads_at_80_columns(moto_aws: Any) -> None:
    seed_risky(factory(EAST), factory(WEST))
    result = cli("--region", EAST, "--region", WEST, columns=80)
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = set(" ".join(lines).split())
    for message_word in ("unbounded", "destination:", "DDBT001", "DDBT103", "trimmed"):
        assert message_word in words  # never broken across lines
    assert lines[0].startswith("ERROR")
    assert "9 mapping(s) in 2 region(s)" in result.stdout


def test_cloudwatch_is_one_call_per_region_not_per_mapping(moto_aws: Any) -> None:
    import boto3

    east = factory(EAST)
    for i in range(12):
        mapping(east, f"many-{i:02d}")
    seed_risky(east, factory(WEST))
    calls: Counter[str] = Counter()
    lock = threading.Lock()

    def count(model: Any, **_: Any) -> None:
        with lock:
            calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def factory_for(profile: str | None, region: str | None) -> ClientFactory:
        session = boto3.Session()
        session.events.register("before-call", count)
        return factory(region or EAST, session)

    report = run_audit(factory_for, profiles=[None], regions=[EAST, WEST], all_regions=False)
    assert len(report.mappings) == 21, calls
    assert calls["cloudwatch.GetMetricData"] == 2, calls
    assert calls["lambda.ListEventSourceMappings"] == 2
    assert calls["lambda.ListFunctions"] == 2
    assert calls["lambda.GetFunction"] == 0


def test_unreadable_region_is_reported_and_the_rest_completes(moto_aws: Any) -> None:
    seed_healthy(factory(EAST))

    def factory_for(profile: str | None, region: str | None) -> ClientFactory:
        if region == WEST:
            return ClientFactory(
                AwsTarget(region=WEST, endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=0.5)
            )
        return factory(region or EAST)

    report = run_audit(factory_for, profiles=[None], regions=[EAST, WEST], all_regions=False)
    assert [m.observed.region for m in report.mappings] == [EAST]
    assert [(u.region, bool(u.reason)) for u in report.unreadable] == [(WEST, True)]
    assert report.regions == (EAST,)


def test_all_regions_lists_the_enabled_ones(moto_aws: Any) -> None:
    seed_healthy(factory(WEST))
    result = cli("--all-regions", "-o", "json")
    doc = json.loads(result.stdout)
    assert [m["region"] for m in doc["mappings"]] == [WEST]
    assert doc["summary"]["regions"] > 10  # every enabled region was read, none opt-in-only
    assert "ap-east-1" not in result.stderr  # an opt-in region moto marks not-opted-in is skipped


@pytest.mark.parametrize("profile", ["nope"])
def test_profile_without_credentials_is_a_clear_failure(moto_aws: Any, profile: str) -> None:
    result = cli("--profile", profile, "--region", EAST)
    assert result.exit_code == 1
    assert "nothing could be audited" in result.stderr and "Traceback" not in result.output

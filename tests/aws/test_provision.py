"""plan / apply / destroy / export against moto in-process (the ``moto_aws`` fixture)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.cli.app import app
from ddbtrigger.core.loader import load_spec
from ddbtrigger.usecases.provision import execute, make_plan
from tests.aws.conftest_provision import CallCounter, make_function, make_table, spec_text, trigger

REGION = "us-east-1"


@pytest.fixture
def world(moto_aws: Any, tmp_path: Path) -> dict[str, Any]:
    """A table with a stream and a function; the spec file path; a call-counting factory."""
    table = make_table(moto_aws, "orders")
    make_function(moto_aws, "orders-fn")
    session = boto3.Session(region_name=REGION)
    counter = CallCounter(session)
    return {
        "factory": moto_aws,
        "table": table,
        "spec": tmp_path / "ddbtrigger.yaml",
        "counted": ClientFactory(AwsTarget(region=REGION, max_attempts=2), session=session),
        "counter": counter,
    }


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def write(world: dict[str, Any], *triggers: dict[str, Any]) -> Path:
    path: Path = world["spec"]
    path.write_text(spec_text(*(triggers or (trigger(),))))
    return path


def plan_json(path: Path, *extra: str) -> dict[str, Any]:
    result = cli("plan", "-f", str(path), "-o", "json", *extra)
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout)


def actions(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {(c["resource"], c["action"]): c for c in doc["changes"]}  # type: ignore[misc]


def the_mapping(factory: Any) -> dict[str, Any]:
    (mapping,) = factory.client("lambda").list_event_source_mappings(FunctionName="orders-fn")[
        "EventSourceMappings"
    ]
    return mapping  # type: ignore[no-any-return]


def queue_url(factory: Any, name: str = "orders-audit-dlq") -> str:
    return str(factory.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def test_apply_creates_everything_then_plan_is_no_op_and_reapply_mutates_nothing(
    world: dict[str, Any],
) -> None:
    path = write(
        world, trigger(mapping={"filters": [{"eventName": ["INSERT"]}], "tags": {"team": "payments"}})
    )
    first = cli("apply", "-f", str(path), "--yes")
    assert first.exit_code == 0, first.output
    factory = world["factory"]
    mapping = the_mapping(factory)
    assert mapping["EventSourceArn"] == world["table"]["LatestStreamArn"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert json.loads(mapping["FilterCriteria"]["Filters"][0]["Pattern"]) == {"eventName": ["INSERT"]}
    url = queue_url(factory)
    attrs = factory.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == attrs["QueueArn"]
    assert attrs["SqsManagedSseEnabled"] == "true"
    assert attrs["MessageRetentionPeriod"] == "1209600"
    assert factory.client("sqs").list_queue_tags(QueueUrl=url)["Tags"] == {
        "ddbtrigger:trigger": "orders-audit"
    }
    assert factory.client("lambda").list_tags(Resource=mapping["EventSourceMappingArn"])["Tags"] == {
        "team": "payments"
    }

    doc = plan_json(path, "--detailed-exitcode")
    assert {c["action"] for c in doc["changes"]} == {"no-op"}
    assert doc["summary"] == {"create": 0, "update": 0, "replace": 0, "delete": 0, "no-op": 3}

    counted, counter = world["counted"], world["counter"]
    spec = load_spec(path.read_text(), str(path))
    result = make_plan(counted, spec, list(spec.triggers))
    reads = list(counter.calls)
    assert execute(counted, result.plan) == []
    assert counter.mutating() == []
    # A no-op plan reads 4 times per trigger, plus ListTags because this spec manages the mapping's tags,
    # plus one DescribeAlarms for every trigger's alarms.
    assert sorted(reads) == sorted(
        [
            "DescribeTable",
            "ListEventSourceMappings",
            "ListTags",
            "GetQueueAttributes",
            "ListQueueTags",
            "DescribeAlarms",
        ]
    )


def test_plan_shows_pending_changes_with_detailed_exitcode(world: dict[str, Any]) -> None:
    path = write(world)
    result = cli("plan", "-f", str(path), "-o", "json", "--detailed-exitcode")
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert doc["summary"]["create"] == 2
    table = cli("plan", "-f", str(path))
    assert table.exit_code == 0
    assert "defaults filled in" in table.stdout
    assert "DDBT006" in table.stdout
    assert "Plan: 2 to create" in table.stdout


def apply_ok(path: Path, *extra: str) -> None:
    result = cli("apply", "-f", str(path), "--yes", *extra)
    assert result.exit_code == 0, result.output


def uc_plan(world: dict[str, Any]) -> Any:
    """The use case directly, on the fixture's factory (its clients are built once: fast)."""
    path: Path = world["spec"]
    spec = load_spec(path.read_text(), str(path))
    return make_plan(world["factory"], spec, list(spec.triggers))


def uc_apply(world: dict[str, Any]) -> None:
    execute(world["factory"], uc_plan(world).plan, sleep=lambda s: None)


def _drift_batch(f: Any, uuid: str) -> None:
    f.client("lambda").update_event_source_mapping(UUID=uuid, BatchSize=7)


def _drift_retries(f: Any, uuid: str) -> None:
    f.client("lambda").update_event_source_mapping(
        UUID=uuid, MaximumRetryAttempts=-1, MaximumRecordAgeInSeconds=-1
    )


def _drift_destination(f: Any, uuid: str) -> None:
    url = f.client("sqs").create_queue(QueueName="elsewhere")["QueueUrl"]
    arn = f.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    f.client("lambda").update_event_source_mapping(
        UUID=uuid, DestinationConfig={"OnFailure": {"Destination": arn}}
    )


def _drift_filters(f: Any, uuid: str) -> None:
    f.client("lambda").update_event_source_mapping(
        UUID=uuid, FilterCriteria={"Filters": [{"Pattern": '{"eventName":["REMOVE"]}'}]}
    )


def _drift_disabled(f: Any, uuid: str) -> None:
    f.client("lambda").update_event_source_mapping(UUID=uuid, Enabled=False)


def _drift_queue_deleted(f: Any, uuid: str) -> None:
    f.client("sqs").delete_queue(QueueUrl=queue_url(f))


def _drift_queue_retention(f: Any, uuid: str) -> None:
    f.client("sqs").set_queue_attributes(QueueUrl=queue_url(f), Attributes={"MessageRetentionPeriod": "60"})


@pytest.mark.parametrize(
    ("drift", "resource", "action", "field"),
    [
        (_drift_batch, "mapping", "update", "batch_size"),
        (_drift_retries, "mapping", "update", "maximum_retry_attempts"),
        (_drift_destination, "mapping", "update", "destination"),
        (_drift_filters, "mapping", "update", "filters"),
        (_drift_disabled, "mapping", "update", "enabled"),
        (_drift_queue_deleted, "on_failure", "create", "name"),
        (_drift_queue_retention, "on_failure", "update", "MessageRetentionPeriod"),
    ],
    ids=["batch-size", "retries", "destination", "filters", "disabled", "queue-deleted", "queue-retention"],
)
def test_out_of_band_drift_is_shown_and_fixed(
    world: dict[str, Any], drift: Any, resource: str, action: str, field: str
) -> None:
    write(world)
    uc_apply(world)
    factory = world["factory"]
    drift(factory, the_mapping(factory)["UUID"])
    doc = uc_plan(world).as_json()
    change = actions(doc)[(resource, action)]
    assert field in change["diff"]
    uc_apply(world)
    assert {c["action"] for c in uc_plan(world).as_json()["changes"]} == {"no-op"}


def test_starting_position_change_needs_allow_replace_and_deletes_first(world: dict[str, Any]) -> None:
    path = write(world)
    uc_apply(world)
    factory = world["factory"]
    old_uuid = the_mapping(factory)["UUID"]
    path.write_text(spec_text(trigger(mapping={"starting_position": "LATEST"})))
    refused = cli("apply", "-f", str(path), "--yes")
    assert refused.exit_code == 2
    assert "--allow-replace" in refused.stderr
    assert the_mapping(factory)["UUID"] == old_uuid  # nothing changed

    counted, counter = world["counted"], world["counter"]
    spec = load_spec(path.read_text(), str(path))
    result = make_plan(counted, spec, list(spec.triggers))
    counter.reset()
    execute(counted, result.plan, sleep=lambda s: None)
    mutating = counter.mutating()
    assert mutating.index("DeleteEventSourceMapping") < mutating.index("CreateEventSourceMapping")
    mapping = the_mapping(factory)
    assert mapping["UUID"] != old_uuid
    assert mapping["StartingPosition"] == "LATEST"
    assert {c["action"] for c in uc_plan(world).as_json()["changes"]} == {"no-op"}


def test_allow_replace_flag_runs_the_replace_through_the_cli(world: dict[str, Any]) -> None:
    path = write(world)
    uc_apply(world)
    path.write_text(spec_text(trigger(mapping={"starting_position": "LATEST"})))
    apply_ok(path, "--allow-replace")
    assert the_mapping(world["factory"])["StartingPosition"] == "LATEST"


def test_apply_without_terminal_or_yes_refuses_before_changing(world: dict[str, Any]) -> None:
    path = write(world)
    result = cli("apply", "-f", str(path))
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert world["factory"].client("lambda").list_event_source_mappings()["EventSourceMappings"] == []


def test_missing_function_is_one_clear_line(world: dict[str, Any]) -> None:
    path = write(world, trigger(function="not-deployed"))
    result = cli("apply", "-f", str(path), "--yes")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == ["error: function not-deployed does not exist: deploy it first (trigger orders-audit)"]


def test_missing_table_is_one_clear_line(world: dict[str, Any]) -> None:
    path = write(world, trigger(table="no-such-table"))
    result = cli("plan", "-f", str(path), "-o", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "not_found"
    assert "table no-such-table does not exist" in result.stderr


class InjectingSession(boto3.Session):
    """A session whose ``operation`` answers with an AWS error (no network, no retries)."""

    inject: tuple[str, str, str] = ("", "", "")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        operation, code, status = self.inject
        self.events.register(f"before-call.*.{operation}", self._fail(code, int(status)))

    @staticmethod
    def _fail(code: str, status: int) -> Any:
        def handler(**_: Any) -> Any:
            from botocore.awsrequest import AWSResponse

            body = {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {}}
            return AWSResponse("https://example.invalid", status, {}, None), body

        return handler


@pytest.mark.parametrize(
    ("operation", "code", "status", "expected"),
    [
        ("ListEventSourceMappings", "AccessDeniedException", "403", "access denied"),
        ("CreateEventSourceMapping", "TooManyRequestsException", "429", "throttled"),
        ("DescribeTable", "ThrottlingException", "400", "throttled"),
    ],
)
def test_aws_errors_are_one_line_exit_1(
    world: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    operation: str,
    code: str,
    status: str,
    expected: str,
) -> None:
    path = write(world)
    monkeypatch.setattr(InjectingSession, "inject", (operation, code, status))
    monkeypatch.setattr(boto3, "Session", InjectingSession)
    result = cli("apply", "-f", str(path), "--yes")
    assert result.exit_code == 1, result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert expected in error_lines[0]
    assert "Traceback" not in result.output


def test_failed_apply_says_what_was_done_and_the_next_apply_finishes(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(world)
    with monkeypatch.context() as patch:
        patch.setattr(InjectingSession, "inject", ("CreateEventSourceMapping", "ServiceException", "500"))
        patch.setattr(boto3, "Session", InjectingSession)
        failed = cli("apply", "-f", str(path), "--yes")
    assert failed.exit_code == 1
    assert "done: orders-audit: create on_failure" in failed.stderr
    assert "not done: orders-audit: create mapping" in failed.stderr
    doc = uc_plan(world).as_json()
    assert actions(doc)[("on_failure", "no-op")]
    assert actions(doc)[("mapping", "create")]
    uc_apply(world)
    assert {c["action"] for c in uc_plan(world).as_json()["changes"]} == {"no-op"}


def test_destroy_deletes_mapping_keeps_full_queue_unless_forced(world: dict[str, Any]) -> None:
    path = write(world)
    uc_apply(world)
    factory = world["factory"]
    factory.client("sqs").send_message(QueueUrl=queue_url(factory), MessageBody="{}")
    kept = cli("destroy", "-f", str(path), "--yes")
    assert kept.exit_code == 0, kept.output
    assert factory.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert queue_url(factory)  # still there: it holds a failure
    assert "1 failure" in kept.stdout
    forced = cli("destroy", "-f", str(path), "--yes", "--force", "-o", "json")
    assert forced.exit_code == 0, forced.output
    assert [c["resource"] for c in json.loads(forced.stdout)["destroyed"]] == ["on_failure"]
    queues = factory.client("sqs").list_queues().get("QueueUrls", [])
    assert not any(q.endswith("/orders-audit-dlq") for q in queues)
    stream = factory.client("dynamodb").describe_table(TableName="orders")["Table"]["StreamSpecification"]
    assert stream["StreamEnabled"] is True  # never without --disable-stream


def test_destroy_never_deletes_an_arn_destination(world: dict[str, Any]) -> None:
    factory = world["factory"]
    url = factory.client("sqs").create_queue(QueueName="theirs")["QueueUrl"]
    arn = factory.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    path = write(world, trigger(on_failure={"type": "sqs", "arn": arn}))
    uc_apply(world)
    result = cli("destroy", "-f", str(path), "--yes", "--force")
    assert result.exit_code == 0, result.output
    assert factory.client("sqs").get_queue_url(QueueName="theirs")["QueueUrl"] == url


def test_export_round_trips_to_a_no_op_plan(world: dict[str, Any]) -> None:
    factory = world["factory"]
    url = factory.client("sqs").create_queue(QueueName="legacy-dlq")["QueueUrl"]
    arn = factory.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    factory.client("lambda").create_event_source_mapping(
        EventSourceArn=world["table"]["LatestStreamArn"],
        FunctionName="orders-fn",
        StartingPosition="LATEST",
        BatchSize=250,
        MaximumRetryAttempts=10000,
        BisectBatchOnFunctionError=True,
        FilterCriteria={"Filters": [{"Pattern": '{"eventName":["INSERT"]}'}]},
        DestinationConfig={"OnFailure": {"Destination": arn}},
        Tags={"owner": "legacy"},
    )
    exported = cli("export", "--table", "orders", "--function", "orders-fn")
    assert exported.exit_code == 0, exported.output
    doc = yaml.safe_load(exported.stdout)
    (t,) = doc["triggers"]
    assert t["mapping"]["batch_size"] == 250
    assert t["mapping"]["maximum_retry_attempts"] == -1
    assert t["mapping"]["starting_position"] == "LATEST"
    assert t["on_failure"] == {"type": "sqs", "arn": arn}
    path: Path = world["spec"]
    path.write_text(exported.stdout)
    result = cli("plan", "-f", str(path), "--detailed-exitcode", "-o", "json")
    assert result.exit_code == 0, result.output
    assert {c["action"] for c in json.loads(result.stdout)["changes"]} == {"no-op"}


def test_export_of_a_table_without_mappings_is_not_found(world: dict[str, Any]) -> None:
    result = cli("export", "--table", "orders")
    assert result.exit_code == 1
    assert "no event source mapping" in result.stderr


def test_destroy_disable_stream_turns_the_stream_off(world: dict[str, Any]) -> None:
    path = write(world)
    uc_apply(world)
    result = cli("destroy", "-f", str(path), "--yes", "--disable-stream", "-o", "json")
    assert result.exit_code == 0, result.output
    destroyed = {c["resource"] for c in json.loads(result.stdout)["destroyed"]}
    assert destroyed == {"mapping", "on_failure", "stream"}
    table = world["factory"].client("dynamodb").describe_table(TableName="orders")["Table"]
    assert not table.get("StreamSpecification", {}).get("StreamEnabled")


def test_lint_error_refuses_plan_and_apply(world: dict[str, Any]) -> None:
    unbounded = {"maximum_retry_attempts": -1, "maximum_record_age_in_seconds": -1}
    path = write(world, trigger(on_failure=None, mapping=unbounded))
    planned = cli("plan", "-f", str(path), "-o", "json")
    assert planned.exit_code == 2
    assert json.loads(planned.stdout)["error"]["code"] == "lint_failed"
    applied = cli("apply", "-f", str(path), "--yes")
    assert applied.exit_code == 2
    assert "DDBT001" in applied.stderr
    assert world["factory"].client("lambda").list_event_source_mappings()["EventSourceMappings"] == []


def test_apply_enables_a_missing_stream_before_mapping_it(moto_aws: Any, tmp_path: Path) -> None:
    make_table(moto_aws, "plain", view_type=None)
    make_function(moto_aws, "orders-fn")
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(trigger(table="plain", stream={"view_type": "KEYS_ONLY"})))
    spec = load_spec(path.read_text(), str(path))
    result = make_plan(moto_aws, spec, list(spec.triggers))
    assert [(c.resource, c.action) for c in result.plan.pending] == [
        ("on_failure", "create"),
        ("stream", "create"),
        ("mapping", "create"),
    ]
    execute(moto_aws, result.plan, sleep=lambda s: None)
    table = moto_aws.client("dynamodb").describe_table(TableName="plain")["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    (mapping,) = moto_aws.client("lambda").list_event_source_mappings(FunctionName="orders-fn")[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    assert make_plan(moto_aws, spec, list(spec.triggers)).plan.pending == ()

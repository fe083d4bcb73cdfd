"""Alarms planned, applied, drift-checked and destroyed with their triggers, against the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.core.loader import load_spec
from ddbtrigger.usecases.provision import PlanResult, execute, make_destroy_plan, make_plan
from tests.aws.conftest_provision import CallCounter, spec_text, trigger
from tests.aws.conftest_sandbox import make_table

TOPIC = "oncall"


def factory_for(sb: Any, session: Any = None) -> ClientFactory:
    target = AwsTarget(region=sb.region, endpoint_url=sb.endpoint_url, max_attempts=3)
    return ClientFactory(target, session=session) if session is not None else ClientFactory(target)


def planned(factory: ClientFactory, path: Path) -> PlanResult:
    spec = load_spec(path.read_text(), str(path))
    return make_plan(factory, spec, list(spec.triggers))


def alarms(sb: Any) -> dict[str, dict[str, Any]]:
    found = sb.client("cloudwatch").describe_alarms(AlarmNamePrefix="ddbtrigger-")["MetricAlarms"]
    return {a["AlarmName"]: a for a in found}


@pytest.fixture
def two_triggers(sandbox: Any, tmp_path: Path) -> tuple[Any, ClientFactory, Path]:
    make_table(sandbox, "orders")
    make_table(sandbox, "orders-audit-log")
    for fn in ("orders-fn", "audit-fn"):
        sandbox.register_handler(fn, lambda event, context: None)
    topic = sandbox.client("sns").create_topic(Name=TOPIC)["TopicArn"]
    path = tmp_path / "s.yaml"
    path.write_text(
        spec_text(
            trigger("orders", alarms={"iterator_age_seconds": 300, "notify": topic}),
            trigger(
                "orders-audit",
                table="orders-audit-log",
                function="audit-fn",
                alarms={
                    "iterator_age_seconds": {"threshold": 60, "evaluation_periods": 3},
                    "failures_waiting": 1,
                    "function_errors": 5,
                    "notify": [topic],
                },
            ),
            region=sandbox.region,
        )
    )
    return sandbox, factory_for(sandbox), path


def test_alarms_apply_plan_as_no_op_show_drift_and_are_destroyed(
    two_triggers: tuple[Any, ClientFactory, Path],
) -> None:
    sb, factory, path = two_triggers
    first = planned(factory, path)
    created = [c.name for c in first.plan.pending if c.resource == "alarm"]
    assert created == [
        "ddbtrigger-orders-iterator-age",
        "ddbtrigger-orders-audit-iterator-age",
        "ddbtrigger-orders-audit-failures-waiting",
        "ddbtrigger-orders-audit-function-errors",
    ]
    execute(factory, first.plan, sleep=lambda s: None)
    live = alarms(sb)
    age = live["ddbtrigger-orders-audit-iterator-age"]
    assert (age["MetricName"], age["Statistic"], age["Threshold"], age["EvaluationPeriods"]) == (
        "IteratorAge",
        "Maximum",
        60000.0,
        3,
    )
    assert age["Dimensions"] == [{"Name": "FunctionName", "Value": "audit-fn"}]
    assert age["TreatMissingData"] == "notBreaching"
    assert age["AlarmActions"] == age["OKActions"] == [f"arn:aws:sns:{sb.region}:123456789012:{TOPIC}"]
    waiting = live["ddbtrigger-orders-audit-failures-waiting"]
    assert waiting["Dimensions"] == [{"Name": "QueueName", "Value": "orders-audit-dlq"}]

    assert planned(factory, path).plan.pending == ()

    params = {k: v for k, v in age.items() if k in PUT_KEYS}
    sb.client("cloudwatch").put_metric_alarm(**{**params, "Threshold": 999000.0})
    drift = planned(factory, path).plan.pending
    assert [(c.name, c.action, dict(c.diff)) for c in drift] == [
        ("ddbtrigger-orders-audit-iterator-age", "update", {"threshold": (999, 60)})
    ]
    execute(factory, planned(factory, path).plan, sleep=lambda s: None)
    assert alarms(sb)["ddbtrigger-orders-audit-iterator-age"]["Threshold"] == 60000.0

    spec = load_spec(path.read_text(), str(path))
    doomed, _ = make_destroy_plan(factory, list(spec.triggers), force=True, disable_stream=False)
    execute(factory, doomed, sleep=lambda s: None)
    assert alarms(sb) == {}


PUT_KEYS = {
    "AlarmName",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "ComparisonOperator",
    "TreatMissingData",
    "AlarmActions",
    "OKActions",
}


def test_an_alarm_dropped_from_the_spec_is_deleted_and_a_no_op_plan_reads_alarms_once(
    two_triggers: tuple[Any, ClientFactory, Path],
) -> None:
    sb, factory, path = two_triggers
    execute(factory, planned(factory, path).plan, sleep=lambda s: None)
    session = boto3.Session()
    counter = CallCounter(session)
    assert planned(factory_for(sb, session), path).plan.pending == ()
    assert counter.calls.count("DescribeAlarms") == 1

    path.write_text(path.read_text().replace("function_errors: 5", "function_errors: false"))
    (change,) = planned(factory, path).plan.pending
    assert (change.name, change.action) == ("ddbtrigger-orders-audit-function-errors", "delete")
    execute(factory, planned(factory, path).plan, sleep=lambda s: None)
    assert "ddbtrigger-orders-audit-function-errors" not in alarms(sb)
    assert "ddbtrigger-orders-iterator-age" in alarms(sb)

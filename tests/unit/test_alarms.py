"""Alarms in the spec and the planner (pure): forms, refusals, names, field diffs, destroy, parameters."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import Stubber

from ddbtrigger.core.alarms import METRICS, alarm_name, desired_alarms, owner, put_params
from ddbtrigger.core.live import LiveAlarm, LiveTable, LiveTrigger
from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.plan import DeleteAlarms, PutAlarm, plan_alarms, plan_destroy
from ddbtrigger.core.spec import Spec, TriggerSpec
from ddbtrigger.errors import SpecError

TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"
SQS = {"type": "sqs", "name": "orders-dlq"}


def spec_of(*triggers: dict[str, Any], defaults: dict[str, Any] | None = None) -> Spec:
    doc: dict[str, Any] = {"version": 1, "triggers": list(triggers)}
    if defaults:
        doc["defaults"] = defaults
    return load_spec(yaml.safe_dump(doc, sort_keys=False), "spec.yaml")


def trigger(name: str = "orders", **extra: Any) -> dict[str, Any]:
    return {"name": name, "table": "orders", "function": "orders-fn", "on_failure": SQS, **extra}


def one(**extra: Any) -> TriggerSpec:
    return spec_of(trigger(**extra)).triggers[0]


def live_alarm(name: str, **fields: Any) -> LiveAlarm:
    base: dict[str, Any] = dict(
        name=name,
        key="iterator_age_seconds",
        namespace="AWS/Lambda",
        metric_name="IteratorAge",
        dimensions=(("FunctionName", "orders-fn"),),
        statistic="Maximum",
        comparison="GreaterThanThreshold",
        threshold=300_000.0,
        period=60,
        evaluation_periods=1,
        state="OK",
        datapoints_to_alarm=1,
        treat_missing_data="notBreaching",
        alarm_actions=(TOPIC,),
        ok_actions=(TOPIC,),
    )
    base.update(fields)
    return LiveAlarm(**base)


def test_short_and_long_forms_defaults_and_false() -> None:
    spec = spec_of(
        trigger("a", alarms={"function_errors": {"threshold": 5, "period": 120}}),
        trigger(
            "b", alarms={"iterator_age_seconds": False, "notify": [TOPIC, TOPIC.replace("oncall", "ops")]}
        ),
        defaults={"alarms": {"iterator_age_seconds": 300, "notify": TOPIC}},
    )
    a, b = spec.triggers
    assert {k: v.threshold for k, v in a.alarms.settings().items()} == {
        "iterator_age_seconds": 300,
        "function_errors": 5,
    }
    assert a.alarms.topics == (TOPIC,)
    assert b.alarms.settings() == {} and len(b.alarms.topics) == 2


@pytest.mark.parametrize(
    ("alarms", "on_failure", "says"),
    [
        ({"failures_waiting": 1}, {"type": "s3", "name": "b"}, "CloudWatch has no count of the objects"),
        ({"oldest_failure_age_seconds": 60}, {"type": "sns", "name": "t", "inspect_queue": "q"}, "SQS"),
        ({"failures_waiting": 1}, {"type": "sns", "name": "t"}, "counts its inspect_queue"),
        ({"function_errors": {"threshold": 1, "period": 45}}, SQS, "multiple of 60"),
        (
            {"function_errors": {"threshold": 1, "evaluation_periods": 2, "datapoints_to_alarm": 3}},
            SQS,
            "exceed",
        ),
        ({"notify": "arn:aws:sqs:us-east-1:123456789012:q"}, SQS, "notify[0]"),
        ({"iterator_age": 3}, SQS, "did you mean 'iterator_age_seconds'"),
    ],
)
def test_refused_with_the_reason(alarms: dict[str, Any], on_failure: dict[str, Any], says: str) -> None:
    with pytest.raises(SpecError) as caught:
        spec_of(trigger(alarms=alarms, on_failure=on_failure))
    assert says in " ".join(caught.value.details)


def test_names_belong_to_exactly_one_trigger_even_with_hyphens() -> None:
    triggers = {"orders", "orders-audit", "x-function"}
    assert owner("ddbtrigger-orders-audit-iterator-age", triggers) == ("orders-audit", "iterator_age_seconds")
    assert owner("ddbtrigger-orders-iterator-age", triggers) == ("orders", "iterator_age_seconds")
    assert (
        owner("ddbtrigger-x-function-errors", triggers) is None
    )  # not x-function's "errors": no such metric
    assert owner("ddbtrigger-other-iterator-age", triggers) is None
    assert owner("ddbtrigger-orders-hand-made", triggers) is None


def test_defaults_per_metric_and_destination_dimension() -> None:
    t = one(
        alarms={"iterator_age_seconds": 300, "failures_waiting": 1, "function_errors": 5, "notify": TOPIC}
    )
    want = desired_alarms(t)
    age = want["ddbtrigger-orders-iterator-age"]
    assert (age["period"], age["evaluation_periods"], age["treat_missing_data"]) == (60, 1, "notBreaching")
    assert want["ddbtrigger-orders-function-errors"]["period"] == 300
    assert want["ddbtrigger-orders-failures-waiting"]["metric"] == (
        "AWS/SQS ApproximateNumberOfMessagesVisible QueueName=orders-dlq"
    )
    params = put_params(t, "ddbtrigger-orders-iterator-age", "iterator_age_seconds", age)
    assert params["Threshold"] == 300_000.0  # IteratorAge is in milliseconds
    assert params["Tags"] == [{"Key": "ddbtrigger:trigger", "Value": "orders"}]


def test_plan_creates_keeps_updates_with_a_field_diff_and_deletes() -> None:
    t = one(alarms={"iterator_age_seconds": 300, "function_errors": 5, "notify": TOPIC})
    assert [(c.action, c.name) for c in plan_alarms(t, [])] == [
        ("create", "ddbtrigger-orders-iterator-age"),
        ("create", "ddbtrigger-orders-function-errors"),
    ]
    same = live_alarm("ddbtrigger-orders-iterator-age")
    changed = live_alarm("ddbtrigger-orders-iterator-age", threshold=900_000.0, ok_actions=())
    orphan = live_alarm("ddbtrigger-orders-function-throttles", key="function_throttles")
    t2 = one(alarms={"iterator_age_seconds": 300, "notify": TOPIC})
    assert [c.action for c in plan_alarms(t2, [same])] == ["no-op"]
    update, delete = plan_alarms(t2, [changed, orphan])
    assert update.action == "update" and dict(update.diff) == {
        "threshold": (900, 300),
        "ok_actions": ([], [TOPIC]),
    }
    assert isinstance(update.steps[0], PutAlarm) and update.steps[0].params["Threshold"] == 300_000.0
    assert delete.action == "delete" and delete.steps == (
        DeleteAlarms(("ddbtrigger-orders-function-throttles",)),
    )
    assert update.as_json()["name"] == "ddbtrigger-orders-iterator-age"


def test_destroy_deletes_the_triggers_alarms_first() -> None:
    t = one(alarms={"iterator_age_seconds": 300})
    table = LiveTable(
        "orders", "arn:aws:dynamodb:us-east-1:123456789012:table/orders", "ACTIVE", True, "NEW_IMAGE", None
    )
    live = LiveTrigger("orders", "arn:fn", table, alarms=(live_alarm("ddbtrigger-orders-iterator-age"),))
    first = plan_destroy([t], [live], depths={}).changes[0]
    assert (first.resource, first.action, first.name) == ("alarm", "delete", "ddbtrigger-orders-iterator-age")


def test_put_parameters_are_valid_for_cloudwatchs_model() -> None:
    t = one(alarms={**dict.fromkeys(METRICS, 1), "notify": TOPIC})
    wants = desired_alarms(t)
    client = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(client) as stub:
        for key in METRICS:
            name = alarm_name(t.name, key)
            params = put_params(t, name, key, wants[name])
            stub.add_response("put_metric_alarm", {}, params)  # Stubber checks them against the model
            client.put_metric_alarm(**params)
        stub.assert_no_pending_responses()

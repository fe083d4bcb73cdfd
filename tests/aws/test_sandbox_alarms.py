"""The sandbox publishes Lambda's and SQS's CloudWatch metrics and evaluates metric alarms as AWS does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from ddbtrigger.sandbox.alarms import Datapoint, decide, period_starts
from tests.aws.conftest_sandbox import (
    FakeClock,
    Recorder,
    create_mapping,
    make_queue,
    make_table,
    put,
    wait_for,
)

FUNCTION = "orders-audit"
THRESHOLD_MS = 5000.0


@pytest.fixture
def sandbox(metered_sandbox: Any) -> Any:
    """Every sandbox here publishes metrics (tests/conftest.py)."""
    return metered_sandbox


def _statistics(
    sb: Any, clock: FakeClock, namespace: str, name: str, dims: dict[str, str], stat: str
) -> list[Any]:
    now = datetime.fromtimestamp(clock(), UTC)
    points = sb.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=[{"Name": k, "Value": v} for k, v in dims.items()],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=1),
        Period=60,
        Statistics=[stat],
    )["Datapoints"]
    return sorted(points, key=lambda p: p["Timestamp"])


def _total(sb: Any, clock: FakeClock, name: str, stat: str = "Sum") -> float:
    return sum(p[stat] for p in _statistics(sb, clock, "AWS/Lambda", name, {"FunctionName": FUNCTION}, stat))


def _topic_with_queue(sb: Any) -> tuple[str, str]:
    """An SNS topic whose notifications land (raw) in an SQS queue the test reads."""
    url, queue_arn = make_queue(sb, "oncall")
    sns = sb.client("sns")
    topic = sns.create_topic(Name="oncall")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
    )
    return topic, url


def _notifications(sb: Any, url: str, seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    sqs = sb.client("sqs")
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        seen.append(json.loads(message["Body"]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def _state(sb: Any, name: str) -> str:
    return str(sb.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def _iterator_age_alarm(sb: Any, topic: str, name: str = "ddbtrigger-orders-audit-iterator-age") -> str:
    sb.client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/Lambda",
        MetricName="IteratorAge",
        Dimensions=[{"Name": "FunctionName", "Value": FUNCTION}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=THRESHOLD_MS,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
    )
    return name


def test_a_blocked_shard_fires_the_iterator_age_alarm_and_a_fixed_handler_clears_it(
    sandbox: Any, clock: FakeClock
) -> None:
    stream = make_table(sandbox)
    assert stream
    recorder = Recorder()
    sandbox.register_handler(FUNCTION, recorder)
    topic, url = _topic_with_queue(sandbox)
    alarm = _iterator_age_alarm(sandbox, topic)
    put(sandbox, "k0")
    put(sandbox, "k1", poison=True)
    put(sandbox, "k2")
    mapping = create_mapping(sandbox, stream, FUNCTION, BatchSize=1)  # unbounded retries (-1)

    wait_for(lambda: len(recorder.batches) >= 3, what="the poison pill retried")
    clock.advance(30)  # the pill blocks the shard for 30 s: every retry is a batch 30 s old
    wait_for(lambda: _state(sandbox, alarm) == "ALARM", what="the alarm in ALARM")
    seen: list[dict[str, Any]] = []
    fired = wait_for(
        lambda: [n for n in _notifications(sandbox, url, seen) if n["NewStateValue"] == "ALARM"],
        what="the ALARM notification in the queue",
    )[0]
    assert fired["AlarmName"] == alarm
    assert fired["OldStateValue"] in ("OK", "INSUFFICIENT_DATA")
    assert fired["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
    assert "greater than or equal to the threshold (5000.0)" in fired["NewStateReason"]
    assert fired["Region"] == "US East (N. Virginia)"
    assert fired["AlarmActions"] == [topic]
    assert fired["StateChangeTime"].endswith("+0000")
    assert fired["Trigger"] == {
        "MetricName": "IteratorAge",
        "Namespace": "AWS/Lambda",
        "StatisticType": "Statistic",
        "Statistic": "MAXIMUM",
        "Unit": None,
        "Dimensions": [{"value": FUNCTION, "name": "FunctionName"}],
        "Period": 60,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": THRESHOLD_MS,
        "TreatMissingData": "notBreaching",
        "EvaluateLowSampleCountPercentile": "",
    }
    blocked = _statistics(sandbox, clock, "AWS/Lambda", "IteratorAge", {"FunctionName": FUNCTION}, "Maximum")
    assert blocked[-1]["Maximum"] >= 30000
    by_mapping = {"FunctionName": FUNCTION, "EventSourceMappingUUID": mapping["UUID"]}
    assert (
        _statistics(sandbox, clock, "AWS/Lambda", "IteratorAge", by_mapping, "Maximum")[-1]["Maximum"]
        >= 30000
    )

    fixed = Recorder(response={})  # the fix: every record succeeds
    sandbox.register_handler(FUNCTION, fixed)
    wait_for(lambda: len(fixed.batches) == 2, what="the shard moving on past k1 and k2")
    sandbox.monitoring.tick()  # the old batches' ages are written before the clock moves on
    clock.advance(60)
    put(sandbox, "k3")  # a fresh record: the iterator age falls back
    wait_for(lambda: _state(sandbox, alarm) == "OK", what="the alarm back to OK")
    cleared = wait_for(
        lambda: [
            n
            for n in _notifications(sandbox, url, seen)
            if n["NewStateValue"] == "OK" and n["OldStateValue"] == "ALARM"
        ],
        what="the OK notification in the queue",
    )[0]
    assert "was not greater than or equal to the threshold (5000.0)" in cleared["NewStateReason"]
    ages = wait_for(
        lambda: [
            p
            for p in _statistics(
                sandbox, clock, "AWS/Lambda", "IteratorAge", {"FunctionName": FUNCTION}, "Maximum"
            )
            if p["Maximum"] < THRESHOLD_MS
        ],
        what="a low iterator age after the fix",
    )
    assert ages[-1]["Maximum"] < THRESHOLD_MS


def test_invocations_and_errors_are_counted_per_invoke(sandbox: Any, clock: FakeClock) -> None:
    def handler(event: dict[str, Any], context: Any) -> None:
        if event.get("fail"):
            raise ValueError("bad")

    sandbox.register_handler(FUNCTION, handler)
    lam = sandbox.client("lambda")
    for body in ({}, {"fail": True}, {}):
        lam.invoke(FunctionName=FUNCTION, Payload=json.dumps(body).encode())
    wait_for(lambda: _total(sandbox, clock, "Invocations") == 3, what="3 invocations")
    wait_for(lambda: _total(sandbox, clock, "Errors") == 1, what="1 error")
    assert _total(sandbox, clock, "Errors", "SampleCount") == 3  # Errors is 0 or 1 per invoke


def test_queue_depth_and_oldest_message_age_are_published(sandbox: Any, clock: FakeClock) -> None:
    url, _ = make_queue(sandbox, "failures")
    for body in ("a", "b"):
        sandbox.client("sqs").send_message(QueueUrl=url, MessageBody=body)
    clock.advance(120)
    dims = {"QueueName": "failures"}

    def latest(name: str) -> float | None:
        points = _statistics(sandbox, clock, "AWS/SQS", name, dims, "Maximum")
        return points[-1]["Maximum"] if points else None

    wait_for(lambda: (latest("ApproximateAgeOfOldestMessage") or 0) >= 120, what="the oldest message's age")
    assert latest("ApproximateNumberOfMessagesVisible") == 2


def test_a_new_alarm_starts_insufficient_and_missing_data_keeps_it_there(sandbox: Any) -> None:
    topic, _ = _topic_with_queue(sandbox)
    cw = sandbox.client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="errors",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": FUNCTION}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )
    alarm = cw.describe_alarms(AlarmNames=["errors"])["MetricAlarms"][0]
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    sandbox.monitoring.tick()
    assert _state(sandbox, "errors") == "INSUFFICIENT_DATA"  # TreatMissingData missing, no datapoint


def test_alarm_history_and_an_update_that_keeps_the_state(sandbox: Any, clock: FakeClock) -> None:
    def handler(event: dict[str, Any], context: Any) -> None:
        raise ValueError("always")

    sandbox.register_handler(FUNCTION, handler)
    topic, _ = _topic_with_queue(sandbox)
    cw = sandbox.client("cloudwatch")
    settings: dict[str, Any] = {
        "AlarmName": "errors",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": FUNCTION}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 2,  # the error's period stays in range across a minute boundary
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [topic],
    }
    cw.put_metric_alarm(Threshold=1, **settings)
    sandbox.client("lambda").invoke(FunctionName=FUNCTION, Payload=b"{}")
    wait_for(lambda: _state(sandbox, "errors") == "ALARM", what="the errors alarm in ALARM")

    def by_type() -> dict[str, Any]:
        history = cw.describe_alarm_history(AlarmName="errors")["AlarmHistoryItems"]
        return {item["HistoryItemType"]: item for item in history}

    kinds = wait_for(lambda: len(by_type()) == 2 and by_type(), what="the state update and the action")
    assert kinds["StateUpdate"]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert kinds["Action"]["HistorySummary"] == f"Successfully executed action {topic}"
    cw.put_metric_alarm(Threshold=1, AlarmDescription="errors of orders-audit", **settings)
    sandbox.monitoring.tick()
    assert _state(sandbox, "errors") == "ALARM"  # an update keeps the state, as in AWS: no new change
    updates = cw.describe_alarm_history(AlarmName="errors", HistoryItemType="StateUpdate")
    assert len(updates["AlarmHistoryItems"]) == 1


def _alarm(**kw: Any) -> Any:
    base = {
        "comparison_operator": "GreaterThanThreshold",
        "threshold": 10.0,
        "treat_missing_data": None,
        "datapoints_to_alarm": None,
        "evaluation_periods": 3,
    }
    return SimpleNamespace(**{**base, **kw})


def _points(*values: float | None) -> list[Datapoint]:
    return [Datapoint(60.0 * i, v, 1.0 if v is not None else 0.0) for i, v in enumerate(values)]


def test_m_of_n_and_missing_data_decide_the_state() -> None:
    assert decide(_alarm(), _points(11, 12, 13), "OK").state == "ALARM"
    assert decide(_alarm(), _points(11, 5, 13), "ALARM").state == "OK"
    assert decide(_alarm(datapoints_to_alarm=2), _points(11, 5, 13), "OK").state == "ALARM"
    assert decide(_alarm(), _points(None, None, None), "OK").state == "INSUFFICIENT_DATA"
    assert decide(_alarm(treat_missing_data="ignore"), _points(None, None, None), "ALARM").state == "ALARM"
    assert decide(_alarm(treat_missing_data="notBreaching"), _points(None, None, None), "ALARM").state == "OK"
    assert decide(_alarm(treat_missing_data="breaching"), _points(11, None, None), "OK").state == "ALARM"
    reason = decide(_alarm(evaluation_periods=1), _points(5), "ALARM").reason
    assert reason.startswith("Threshold Crossed: 1 out of the last 1 datapoints [5 (01/01/70 00:00:00)]")


def test_the_evaluation_range_is_aligned_and_ends_with_the_current_period() -> None:
    assert period_starts(130.0, 60, 3) == [120, 60, 0]

"""A trigger's CloudWatch alarms: what each spec key means in CloudWatch, and spec <-> AWS in one shape.

Each alarm is named ``ddbtrigger-<trigger>-<metric>`` (``METRICS[key].suffix``), so one
DescribeAlarms by the prefix ``ddbtrigger-`` reads every trigger's alarms at once; no suffix ends with
``-<another suffix>``, so a name belongs to exactly one (trigger, metric) even when trigger names hold
hyphens. Defaults, and why:

- ``iterator_age_seconds``: IteratorAge Maximum > threshold over 1 period of 60 s. The age itself
  integrates time (a shard blocked for 5 min has an age of 5 min), so one period is enough and
  recovery is quick. ``notBreaching`` when missing: Lambda emits IteratorAge only while it invokes, so a
  healthy idle trigger has no data and would otherwise sit in INSUFFICIENT_DATA.
- ``failures_waiting`` / ``oldest_failure_age_seconds``: the SQS queue's visible messages (>=) and
  oldest message age (>), Maximum over 60 s; ``notBreaching`` (SQS stops emitting for idle queues).
- ``function_errors`` / ``function_throttles``: Errors / Throttles Sum >= threshold over 5 min.

Thresholds are in spec units (seconds, counts); IteratorAge is published in milliseconds, so its
CloudWatch threshold is ``seconds * 1000`` and a read-back is converted back before any diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddbtrigger.core.live import MANAGED_TAG, LiveAlarm, function_ref
from ddbtrigger.core.spec import ALARM_KEYS, AlarmSetting, TriggerSpec

ALARM_PREFIX = "ddbtrigger-"


@dataclass(frozen=True)
class Metric:
    """How a spec key is measured, and its evaluation defaults."""

    suffix: str
    namespace: str
    metric_name: str
    statistic: str
    comparison: str
    period: int
    scale: int = 1  # CloudWatch units per spec unit
    on: str = "function"  # "function": FunctionName dimension; "queue": QueueName


METRICS: dict[str, Metric] = {
    "iterator_age_seconds": Metric(
        "iterator-age", "AWS/Lambda", "IteratorAge", "Maximum", "GreaterThanThreshold", 60, 1000
    ),
    "failures_waiting": Metric(
        "failures-waiting",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        "GreaterThanOrEqualToThreshold",
        60,
        on="queue",
    ),
    "oldest_failure_age_seconds": Metric(
        "oldest-failure-age",
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "Maximum",
        "GreaterThanThreshold",
        60,
        on="queue",
    ),
    "function_errors": Metric(
        "function-errors", "AWS/Lambda", "Errors", "Sum", "GreaterThanOrEqualToThreshold", 300
    ),
    "function_throttles": Metric(
        "function-throttles", "AWS/Lambda", "Throttles", "Sum", "GreaterThanOrEqualToThreshold", 300
    ),
}
assert tuple(METRICS) == ALARM_KEYS
BY_SUFFIX = {m.suffix: key for key, m in METRICS.items()}
# Fields compared between spec and live, in the order a plan shows them.
FIELDS = (
    "metric",
    "statistic",
    "comparison",
    "threshold",
    "period",
    "evaluation_periods",
    "datapoints_to_alarm",
    "treat_missing_data",
    "alarm_actions",
    "ok_actions",
)


def alarm_name(trigger: str, key: str) -> str:
    return f"{ALARM_PREFIX}{trigger}-{METRICS[key].suffix}"


def owner(name: str, triggers: set[str]) -> tuple[str, str] | None:
    """(trigger, spec key) of a managed alarm name, for one of ``triggers``; None when not ours."""
    for suffix, key in BY_SUFFIX.items():
        trigger = name.removeprefix(ALARM_PREFIX).removesuffix(f"-{suffix}")
        if name.startswith(ALARM_PREFIX) and name.endswith(f"-{suffix}") and trigger in triggers:
            return trigger, key
    return None


def queue_name(trigger: TriggerSpec) -> str | None:
    """The SQS queue a destination alarm measures (the queue, or an SNS topic's inspect queue)."""
    dest = trigger.on_failure
    if dest is None:
        return None
    if dest.type == "sns":
        return dest.inspect_queue
    return dest.name or (dest.arn or "").rsplit(":", 1)[-1]


def dimensions(trigger: TriggerSpec, key: str) -> tuple[tuple[str, str], ...]:
    if METRICS[key].on == "queue":
        return (("QueueName", queue_name(trigger) or ""),)
    return (("FunctionName", function_ref(trigger.function)[0]),)


def metric_label(namespace: str, metric_name: str, dims: tuple[tuple[str, str], ...]) -> str:
    """One comparable string for what an alarm watches (``AWS/Lambda IteratorAge FunctionName=f``)."""
    return " ".join([namespace, metric_name, *(f"{k}={v}" for k, v in sorted(dims))])


def desired_alarm(trigger: TriggerSpec, key: str, setting: AlarmSetting) -> dict[str, Any]:
    """What the spec asks of one alarm, in the terms ``observed_alarm`` reads back (``FIELDS``)."""
    m = METRICS[key]
    periods = setting.evaluation_periods or 1
    topics = sorted(trigger.alarms.topics)
    return {
        "metric": metric_label(m.namespace, m.metric_name, dimensions(trigger, key)),
        "statistic": m.statistic,
        "comparison": m.comparison,
        "threshold": setting.threshold,
        "period": setting.period or m.period,
        "evaluation_periods": periods,
        "datapoints_to_alarm": setting.datapoints_to_alarm or periods,
        "treat_missing_data": setting.treat_missing_data or "notBreaching",
        "alarm_actions": topics,
        "ok_actions": topics,
    }


def desired_alarms(trigger: TriggerSpec) -> dict[str, dict[str, Any]]:
    """Alarm name -> desired fields, for every alarm the trigger asks for."""
    return {
        alarm_name(trigger.name, key): desired_alarm(trigger, key, setting)
        for key, setting in trigger.alarms.settings().items()
    }


def observed_alarm(live: LiveAlarm) -> dict[str, Any]:
    """A live alarm in ``FIELDS`` terms (threshold back in spec units; a missing
    DatapointsToAlarm is EvaluationPeriods, as CloudWatch treats it)."""
    key = live.key
    scale = METRICS[key].scale if key else 1
    threshold = live.threshold / scale
    return {
        "metric": metric_label(live.namespace, live.metric_name, live.dimensions),
        "statistic": live.statistic,
        "comparison": live.comparison,
        "threshold": int(threshold) if threshold == int(threshold) else threshold,
        "period": live.period,
        "evaluation_periods": live.evaluation_periods,
        "datapoints_to_alarm": live.datapoints_to_alarm or live.evaluation_periods,
        "treat_missing_data": live.treat_missing_data or "missing",
        "alarm_actions": sorted(live.alarm_actions),
        "ok_actions": sorted(live.ok_actions),
    }


def alarm_diff(want: Mapping[str, Any], live: LiveAlarm) -> dict[str, tuple[Any, Any]]:
    have = observed_alarm(live)
    return {f: (have[f], want[f]) for f in FIELDS if have[f] != want[f]}


def put_params(trigger: TriggerSpec, name: str, key: str, want: Mapping[str, Any]) -> dict[str, Any]:
    """PutMetricAlarm parameters (a full definition: PutMetricAlarm replaces the alarm)."""
    m = METRICS[key]
    return {
        "AlarmName": name,
        "AlarmDescription": f"ddbtrigger: {key} of trigger {trigger.name} (managed; edits are undone)",
        "Namespace": m.namespace,
        "MetricName": m.metric_name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions(trigger, key)],
        "Statistic": m.statistic,
        "Period": want["period"],
        "EvaluationPeriods": want["evaluation_periods"],
        "DatapointsToAlarm": want["datapoints_to_alarm"],
        "Threshold": float(want["threshold"] * m.scale),
        "ComparisonOperator": m.comparison,
        "TreatMissingData": want["treat_missing_data"],
        "ActionsEnabled": True,
        "AlarmActions": list(want["alarm_actions"]),
        "OKActions": list(want["ok_actions"]),
        "Tags": [{"Key": MANAGED_TAG, "Value": trigger.name}],
    }

"""What CloudWatch writes when an alarm changes state: the SNS notification and the history items.

The notification is the JSON document CloudWatch publishes to an alarm's SNS actions, with the subject
``ALARM: "<name>" in <region's long name>`` (at most 100 characters, SNS's limit):
``AlarmName``, ``AlarmDescription``, ``AWSAccountId``, ``AlarmConfigurationUpdatedTimestamp``,
``NewStateValue``, ``NewStateReason``, ``StateChangeTime``, ``Region``, ``AlarmArn``, ``OldStateValue``,
``OKActions``, ``AlarmActions``, ``InsufficientDataActions`` and ``Trigger`` (``MetricName``,
``Namespace``, ``StatisticType``, ``Statistic`` in capitals, ``Unit``, ``Dimensions`` as
``[{"value", "name"}]``, ``Period``, ``EvaluationPeriods``, ``DatapointsToAlarm``, ``ComparisonOperator``,
``Threshold``, ``TreatMissingData``, ``EvaluateLowSampleCountPercentile``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any


@functools.cache
def region_name(region: str) -> str:
    """``us-east-1`` -> ``US East (N. Virginia)``, from botocore's endpoint data."""
    import botocore.session

    data = botocore.session.get_session().get_data("endpoints")
    for partition in data.get("partitions", []):
        described = partition.get("regions", {}).get(region)
        if described and described.get("description"):
            return str(described["description"])
    return region


def cloudwatch_time(value: datetime) -> str:
    """CloudWatch's ``2026-12-02T05:31:27.263+0000``."""
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def subject(alarm: Any, state: str) -> str:
    return f'{state}: "{alarm.name}" in {region_name(alarm.region_name)}'[:100]


def notification(alarm: Any, *, old_state: str, account: str) -> dict[str, Any]:
    """The alarm notification, after the alarm took its new state."""
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description or None,
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": cloudwatch_time(alarm.configuration_updated_timestamp),
        "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason,
        "StateChangeTime": cloudwatch_time(alarm.state_updated_timestamp),
        "Region": region_name(alarm.region_name),
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": old_state,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": trigger(alarm),
    }


def trigger(alarm: Any) -> dict[str, Any]:
    return {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "Statistic",
        "Statistic": str(alarm.statistic).upper(),
        "Unit": alarm.unit or None,
        "Dimensions": [{"value": d.value, "name": d.name} for d in alarm.dimensions],
        "Period": int(alarm.period),
        "EvaluationPeriods": int(alarm.evaluation_periods),
        "DatapointsToAlarm": int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
        "ComparisonOperator": alarm.comparison_operator,
        "Threshold": float(alarm.threshold),
        "TreatMissingData": alarm.treat_missing_data or "missing",
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile or "",
    }


def actions_for(alarm: Any, state: str) -> Sequence[str]:
    if state == "ALARM":
        return list(alarm.alarm_actions or [])
    if state == "OK":
        return list(alarm.ok_actions or [])
    return list(alarm.insufficient_data_actions or [])


def history_item(alarm: Any, kind: str, summary: str, data: dict[str, Any], when: datetime) -> dict[str, Any]:
    """One DescribeAlarmHistory item (``StateUpdate`` or ``Action``)."""
    return {
        "AlarmName": alarm.name,
        "AlarmType": "MetricAlarm",
        "Timestamp": when,
        "HistoryItemType": kind,
        "HistorySummary": summary,
        "HistoryData": json.dumps(data),
    }


def record(alarm: Any, item: dict[str, Any]) -> None:
    """Newest first, as DescribeAlarmHistory returns them; kept on moto's alarm object."""
    items: list[dict[str, Any]] = getattr(alarm, "sandbox_history", [])
    items.insert(0, item)
    alarm.sandbox_history = items

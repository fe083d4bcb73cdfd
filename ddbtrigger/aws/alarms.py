"""Read the triggers' CloudWatch alarms: one paginated DescribeAlarms by name prefix for them all.

Every managed alarm is named ``ddbtrigger-<trigger>-<metric>`` (``core.alarms``), so the prefix
``ddbtrigger-`` finds all of them in one call (100 alarms a page), whatever the number of triggers: a
no-op plan costs one DescribeAlarms, not one per trigger. A single trigger (``status``) narrows the
prefix to ``ddbtrigger-<trigger>-``. Names are matched exactly to (trigger, metric), so trigger
``orders`` never claims ``orders-audit``'s alarms.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.core.alarms import ALARM_PREFIX, owner
from ddbtrigger.core.live import LiveAlarm
from ddbtrigger.errors import AccessDenied

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import TriggerSpec


def read_alarms(factory: ClientFactory, triggers: Sequence[TriggerSpec]) -> dict[str, tuple[LiveAlarm, ...]]:
    """Trigger name -> its managed alarms (sorted by name). Access denied while no trigger asks for
    alarms reads as none (a spec without alarms keeps working under an older policy)."""
    names = {t.name for t in triggers}
    prefix = f"{ALARM_PREFIX}{triggers[0].name}-" if len(triggers) == 1 else ALARM_PREFIX
    try:
        raw = describe_alarms(factory, prefix)
    except AccessDenied:
        if any(t.alarms.settings() for t in triggers):
            raise
        raw = []
    found: dict[str, list[LiveAlarm]] = {name: [] for name in names}
    for item in raw:
        mine = owner(item.get("AlarmName", ""), names)
        if mine is not None:
            found[mine[0]].append(alarm_from_aws(item, key=mine[1]))
    return {name: tuple(sorted(alarms, key=lambda a: a.name)) for name, alarms in found.items()}


def describe_alarms(factory: ClientFactory, prefix: str) -> list[Mapping[str, Any]]:
    """Every metric alarm whose name starts with ``prefix``, following NextToken pages."""
    out: list[Mapping[str, Any]] = []
    with translate_errors("describe CloudWatch alarms"):
        pages = factory.client("cloudwatch").get_paginator("describe_alarms")
        for page in pages.paginate(AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"]):
            out.extend(page.get("MetricAlarms", []))
    return out


def alarm_from_aws(raw: Mapping[str, Any], *, key: str | None) -> LiveAlarm:
    dims = tuple((d["Name"], d["Value"]) for d in raw.get("Dimensions", []))
    return LiveAlarm(
        name=raw["AlarmName"],
        key=key,
        namespace=raw.get("Namespace", ""),
        metric_name=raw.get("MetricName", ""),
        dimensions=dims,
        statistic=raw.get("Statistic", raw.get("ExtendedStatistic", "")),
        comparison=raw.get("ComparisonOperator", ""),
        threshold=float(raw.get("Threshold", 0.0)),
        period=int(raw.get("Period", 0)),
        evaluation_periods=int(raw.get("EvaluationPeriods", 0)),
        state=raw.get("StateValue", "INSUFFICIENT_DATA"),
        state_reason=raw.get("StateReason"),
        datapoints_to_alarm=raw.get("DatapointsToAlarm"),
        treat_missing_data=raw.get("TreatMissingData"),
        alarm_actions=tuple(raw.get("AlarmActions", [])),
        ok_actions=tuple(raw.get("OKActions", [])),
    )

"""Metric alarms that fire: moto stores PutMetricAlarm but never evaluates an alarm.

Each evaluation (``AlarmEvaluator.evaluate``, run by the sandbox's metrics thread) looks at every metric
alarm in moto's CloudWatch backends, on the sandbox's clock:

- The evaluation range is the last ``EvaluationPeriods`` periods, aligned to multiples of ``Period``
  since the epoch as CloudWatch aligns datapoints; the newest is the period that holds "now" (still
  filling), so a breach shows within one evaluation and a recovery once the bad period has passed.
- Each period's ``Statistic`` (SampleCount, Sum, Minimum, Maximum, Average) is computed from the datums
  whose namespace, name and dimension set match exactly (and unit, when the alarm names one).
- ALARM when at least ``DatapointsToAlarm`` (default ``EvaluationPeriods``) datapoints breach;
  ``TreatMissingData`` counts a missing period as breaching (``breaching``) or not (``notBreaching``);
  with ``missing`` (the default) an evaluation range without any datapoint is INSUFFICIENT_DATA, with
  ``ignore`` it keeps the state; otherwise OK. (AWS also looks back further when datapoints are missing;
  the sandbox does not.)
- A change of state sets StateValue/StateReason/StateReasonData in AWS's words, records a history item
  (``StateUpdate``, and ``Action`` per notification), and, when actions are enabled, publishes AWS's alarm
  notification JSON to each SNS topic of ``AlarmActions`` / ``OKActions`` / ``InsufficientDataActions``.

A new alarm starts INSUFFICIENT_DATA ("Unchecked: Initial alarm creation") and PutMetricAlarm on an
existing alarm keeps its state, as in AWS (moto starts every alarm, new or updated, at OK). Not
evaluated: metric math (``Metrics``), percentiles (``ExtendedStatistic``), composite and anomaly alarms.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ddbtrigger.sandbox.alarm_notify import (
    actions_for,
    cloudwatch_time,
    history_item,
    notification,
    record,
    subject,
)
from ddbtrigger.sandbox.metrics import moto_time
from ddbtrigger.sandbox.patching import Patcher

log = logging.getLogger("ddbtrigger.sandbox")

OK, ALARM, INSUFFICIENT = "OK", "ALARM", "INSUFFICIENT_DATA"
INITIAL_REASON = "Unchecked: Initial alarm creation"
COMPARISONS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}


@dataclass(frozen=True)
class Datapoint:
    start: float  # the period's start, epoch seconds
    value: float | None  # None: no datum in that period
    samples: float = 0.0


@dataclass(frozen=True)
class Verdict:
    state: str
    reason: str
    datapoints: tuple[Datapoint, ...]


# -- the arithmetic (pure) ----------------------------------------------------------------------
def statistic(datums: Sequence[Any], name: str) -> tuple[float, float] | None:
    """(value, sample count) of moto datums (single values or StatisticValues); None when empty."""
    count = total = 0.0
    low, high = math.inf, -math.inf
    for datum in datums:
        if hasattr(datum, "sample_count"):
            count, total = count + datum.sample_count, total + datum.sum
            low, high = min(low, datum.min), max(high, datum.max)
        else:
            count, total = count + 1, total + datum.value
            low, high = min(low, datum.value), max(high, datum.value)
    if count == 0:
        return None
    values = {"SampleCount": count, "Sum": total, "Minimum": low, "Maximum": high, "Average": total / count}
    return values[name], count


def period_starts(now: float, period: int, count: int) -> list[float]:
    """The evaluation range, newest period first (the newest holds ``now``)."""
    newest = math.floor(now / period) * period
    return [newest - k * period for k in range(count)]


def _stamp(start: float) -> str:
    return datetime.fromtimestamp(start, UTC).strftime("%d/%m/%y %H:%M:%S")


def decide(alarm: Any, points: Sequence[Datapoint], current: str) -> Verdict:
    """The state the datapoints call for, with AWS's StateReason."""
    words, breaches = COMPARISONS[alarm.comparison_operator]
    threshold, treat = float(alarm.threshold), alarm.treat_missing_data or "missing"
    needed = int(alarm.datapoints_to_alarm or alarm.evaluation_periods)
    present = [p for p in points if p.value is not None]
    breaching = sum(1 for p in present if breaches(p.value or 0.0, threshold))
    if treat == "breaching":
        breaching += len(points) - len(present)
    listed = ", ".join(f"{p.value} ({_stamp(p.start)})" for p in present)
    shown = tuple(points)
    if breaching >= needed:
        reason = (
            f"Threshold Crossed: {breaching} out of the last {len(points)} datapoints [{listed}] was "
            f"{words} the threshold ({threshold}) (minimum {needed} datapoint for OK -> ALARM transition)."
        )
        return Verdict(ALARM, reason, shown)
    if not present and treat in ("missing", "ignore"):
        state = INSUFFICIENT if treat == "missing" or current == INSUFFICIENT else current
        reason = (
            f"Insufficient Data: {len(points)} datapoint{'s were' if len(points) > 1 else ' was'} unknown."
        )
        return Verdict(state, reason, shown)
    reason = (
        f"Threshold Crossed: {len(points) - breaching} out of the last {len(points)} datapoints [{listed}] "
        f"was not {words} the threshold ({threshold}) (minimum 1 datapoint for ALARM -> OK transition)."
    )
    return Verdict(OK, reason, shown)


# -- reading moto -------------------------------------------------------------------------------
def dimension_set(dimensions: Sequence[Any]) -> frozenset[tuple[Any, Any]]:
    return frozenset((d.name, d.value) for d in dimensions)


def datapoints(backend: Any, alarm: Any, now: float) -> list[Datapoint]:
    """The alarm's datapoints over its evaluation range, from the datums in moto's backend."""
    period = int(alarm.period)
    starts = period_starts(now, period, int(alarm.evaluation_periods))
    first, last = moto_time(starts[-1]), moto_time(starts[0] + period)
    wanted = dimension_set(alarm.dimensions)
    datums = [
        d
        for d in list(backend.metric_data)
        if d.namespace == alarm.namespace
        and d.name == alarm.metric_name
        and first <= d.timestamp < last
        and dimension_set(d.dimensions) == wanted
        and (not alarm.unit or d.unit == alarm.unit)
    ]
    points = []
    for start in starts:
        low, high = moto_time(start), moto_time(start + period)
        found = statistic([d for d in datums if low <= d.timestamp < high], alarm.statistic)
        points.append(Datapoint(start, found[0], found[1]) if found else Datapoint(start, None))
    return points


def evaluable(alarm: Any) -> bool:
    return (
        not alarm.metric_data_queries
        and not alarm.rule
        and not alarm.extended_statistic
        and alarm.comparison_operator in COMPARISONS
        and bool(alarm.statistic)
        and bool(alarm.period)
    )


# -- changing state and notifying ---------------------------------------------------------------
class AlarmEvaluator:
    """Evaluates every metric alarm in moto; ``client(service, region)`` publishes notifications."""

    def __init__(self, *, clock: Callable[[], float], client: Callable[[str, str], Any]) -> None:
        self.clock = clock
        self.client = client

    def evaluate(self) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        now = self.clock()
        for account, regional in list(cloudwatch_backends.items()):
            for backend in list(regional.values()):
                for alarm in list(backend.alarms.values()):
                    if evaluable(alarm):
                        self.evaluate_one(account, backend, alarm, now)

    def evaluate_one(self, account: str, backend: Any, alarm: Any, now: float) -> None:
        verdict = decide(alarm, datapoints(backend, alarm, now), alarm.state_value)
        if verdict.state == alarm.state_value:
            return
        old = alarm.state_value
        when = moto_time(now)
        alarm.update_state(verdict.reason, json.dumps(reason_data(alarm, verdict, when)), verdict.state)
        alarm.state_updated_timestamp = when
        summary = f"Alarm updated from {old} to {verdict.state}"
        data = {
            "version": "1.0",
            "oldState": {"stateValue": old},
            "newState": {"stateValue": verdict.state, "stateReason": verdict.reason},
        }
        record(alarm, history_item(alarm, "StateUpdate", summary, data, when))
        log.info("alarm %s: %s -> %s (%s)", alarm.name, old, verdict.state, verdict.reason)
        if alarm.actions_enabled:
            self.notify(account, alarm, old, when)

    def notify(self, account: str, alarm: Any, old: str, when: datetime) -> None:
        message = json.dumps(notification(alarm, old_state=old, account=account))
        for arn in actions_for(alarm, alarm.state_value):
            if ":sns:" not in arn:
                continue  # Auto Scaling, EC2, SSM actions: not emulated
            try:
                self.client("sns", arn.split(":")[3]).publish(
                    TopicArn=arn, Message=message, Subject=subject(alarm, alarm.state_value)
                )
                summary, data = f"Successfully executed action {arn}", {"actionState": "Succeeded"}
            except Exception as e:  # a deleted topic: AWS records the failed action, the alarm goes on
                summary, data = f"Failed to execute action {arn}", {"actionState": "Failed", "error": str(e)}
            record(alarm, history_item(alarm, "Action", summary, data, when))


def reason_data(alarm: Any, verdict: Verdict, when: datetime) -> dict[str, Any]:
    """StateReasonData as CloudWatch writes it for a single-metric alarm."""
    present = [p for p in verdict.datapoints if p.value is not None]
    oldest = verdict.datapoints[-1].start if verdict.datapoints else 0.0
    return {
        "version": "1.0",
        "queryDate": cloudwatch_time(when),
        "startDate": cloudwatch_time(moto_time(oldest)),
        "statistic": alarm.statistic,
        "period": int(alarm.period),
        "recentDatapoints": [p.value for p in present],
        "threshold": float(alarm.threshold),
        "evaluatedDatapoints": [
            {"timestamp": cloudwatch_time(moto_time(p.start)), "sampleCount": p.samples, "value": p.value}
            for p in present
        ],
    }


def install_alarm_state(patcher: Patcher) -> None:
    """New alarms start INSUFFICIENT_DATA; PutMetricAlarm on an existing alarm keeps its state."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(backend: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        before = backend.alarms.get(name)
        alarm: Any = original(backend, name, *args, **kwargs)
        if before is None:
            alarm.state_value = INSUFFICIENT
        else:
            for field in ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp"):
                setattr(alarm, field, getattr(before, field))
            alarm.sandbox_history = getattr(before, "sandbox_history", [])
        return alarm

    patcher.set(CloudWatchBackend, "put_metric_alarm", put_metric_alarm)

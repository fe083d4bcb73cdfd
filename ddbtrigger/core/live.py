"""Observed state: what AWS holds for each trigger, as plain frozen values.

``aws.live.read_live`` fills these from describe/list calls; the planner (``core.plan``) and ``status``
read them. Mapping fields are named in spec terms (snake_case) but hold the values exactly as AWS read
them back (``None`` when AWS left a field out), so a reader can show the raw truth; ``core.desired``
normalises them (AWS defaults, the 604800 / 10000 sentinels) before any diff.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ddbtrigger.core.destinations import DestinationType

DestinationKind = DestinationType
MANAGED_TAG = "ddbtrigger:trigger"
SETTLED_STATES = frozenset({"Enabled", "Disabled"})


@dataclass(frozen=True)
class LiveTable:
    """The table and its stream setting (DescribeTable)."""

    name: str
    arn: str
    status: str
    stream_enabled: bool
    view_type: str | None
    latest_stream_arn: str | None


@dataclass(frozen=True)
class LiveMapping:
    """One event source mapping, fields in spec terms with AWS's read-back values."""

    uuid: str
    arn: str | None
    event_source_arn: str
    function_arn: str
    state: str
    state_transition_reason: str | None = None
    last_processing_result: str | None = None
    starting_position: str | None = None
    batch_size: int | None = None
    maximum_batching_window_in_seconds: int | None = None
    parallelization_factor: int | None = None
    bisect_batch_on_function_error: bool | None = None
    maximum_retry_attempts: int | None = None
    maximum_record_age_in_seconds: int | None = None
    report_batch_item_failures: bool = False
    tumbling_window_in_seconds: int | None = None
    filters: tuple[Mapping[str, Any], ...] = ()
    destination_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        """Enabled or on its way there (a Disabled/Disabling mapping reads nothing)."""
        return self.state not in ("Disabled", "Disabling")

    @property
    def settled(self) -> bool:
        return self.state in SETTLED_STATES


@dataclass(frozen=True)
class LiveDestination:
    """The failure destination as found. ``exists`` is False for a managed one not yet created.

    ``attributes`` holds the settings the tool manages, as strings keyed by AWS names
    (SQS: MessageRetentionPeriod, SqsManagedSseEnabled, KmsMasterKeyId; SNS: KmsMasterKeyId;
    S3: SSEAlgorithm, KMSMasterKeyID, PublicAccessBlock). ``managed_tag`` is the value of the
    ``ddbtrigger:trigger`` tag, or None.
    """

    type: DestinationKind
    arn: str
    name: str
    exists: bool
    managed_tag: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def managed(self) -> bool:
        return self.managed_tag is not None


@dataclass(frozen=True)
class LiveAlarm:
    """One CloudWatch metric alarm of a trigger (DescribeAlarms), values as AWS read them back.

    ``key`` is the spec key it implements (``iterator_age_seconds``...), from its name.
    """

    name: str
    key: str | None
    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    comparison: str
    threshold: float
    period: int
    evaluation_periods: int
    state: str = "INSUFFICIENT_DATA"
    state_reason: str | None = None
    datapoints_to_alarm: int | None = None
    treat_missing_data: str | None = None
    alarm_actions: tuple[str, ...] = ()
    ok_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveTrigger:
    """Everything live for one trigger of the spec.

    ``mapping`` is the mapping of this function on the table's LATEST stream ARN; ``stale_mappings`` are
    this function's mappings on older stream ARNs of the same table (left by a disable/re-enable).
    ``table`` is None when the table does not exist.
    """

    trigger: str
    function_arn: str | None
    table: LiveTable | None
    mapping: LiveMapping | None = None
    stale_mappings: tuple[LiveMapping, ...] = ()
    destination: LiveDestination | None = None
    alarms: tuple[LiveAlarm, ...] = ()

    @property
    def all_mappings(self) -> tuple[LiveMapping, ...]:
        return ((self.mapping,) if self.mapping else ()) + self.stale_mappings


def function_ref(value: str) -> tuple[str, str | None]:
    """(name, qualifier) of a function given as name, name:alias, or (qualified) ARN."""
    if value.startswith("arn:"):
        parts = value.split(":")
        name, qualifier = parts[6], (parts[7] if len(parts) > 7 else "")
    else:
        name, _, qualifier = value.partition(":")
    return name, (qualifier if qualifier and qualifier != "$LATEST" else None)


def same_function(spec_function: str, function_arn: str) -> bool:
    """Whether a mapping's FunctionArn is the function the spec names (alias included)."""
    if spec_function.startswith("arn:") and spec_function == function_arn:
        return True
    return function_ref(spec_function) == function_ref(function_arn)


def stream_table_arn(stream_arn: str) -> str:
    """The table ARN of a stream ARN (``…:table/T/stream/2024-…`` -> ``…:table/T``)."""
    return stream_arn.split("/stream/", 1)[0]

"""Spec -> the AWS settings it asks for, and AWS read-backs -> the same terms, so the two compare.

Both sides are normalised the same way before any diff: AWS's defaults fill what AWS left out (an
unset field is not a false diff), and the read-back sentinels 10000 retries / 604800 s record age count
as -1 ("forever") as AWS treats them on older mappings. Values are in spec terms (snake_case keys,
``filters`` as a list of patterns, ``destination`` as an ARN or None).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.live import LiveMapping
from ddbtrigger.core.spec import MappingSpec, OnFailureSpec, TriggerSpec

# The mapping's tuning: the fields a spec sets and UpdateEventSourceMapping changes, besides its state and
# destination; in the order plan shows them (and export writes them).
TUNING = (
    "batch_size",
    "maximum_batching_window_in_seconds",
    "parallelization_factor",
    "bisect_batch_on_function_error",
    "maximum_retry_attempts",
    "maximum_record_age_in_seconds",
    "report_batch_item_failures",
    "tumbling_window_in_seconds",
    "filters",
)
# Mapping fields that UpdateEventSourceMapping can change, in the order plan shows them.
UPDATABLE = ("enabled", *TUNING, "destination")
AWS_NAME = {
    "enabled": "Enabled",
    "starting_position": "StartingPosition",
    "batch_size": "BatchSize",
    "maximum_batching_window_in_seconds": "MaximumBatchingWindowInSeconds",
    "parallelization_factor": "ParallelizationFactor",
    "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
    "maximum_retry_attempts": "MaximumRetryAttempts",
    "maximum_record_age_in_seconds": "MaximumRecordAgeInSeconds",
    "tumbling_window_in_seconds": "TumblingWindowInSeconds",
}
# What AWS assumes when a field is absent from a read-back.
AWS_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "batch_size": 100,
    "maximum_batching_window_in_seconds": 0,
    "parallelization_factor": 1,
    "bisect_batch_on_function_error": False,
    "maximum_retry_attempts": -1,
    "maximum_record_age_in_seconds": -1,
    "report_batch_item_failures": False,
    "tumbling_window_in_seconds": 0,
}
FOREVER_SENTINELS = {"maximum_retry_attempts": 10000, "maximum_record_age_in_seconds": 604800}


@dataclass(frozen=True)
class ArnContext:
    """Partition, region and account, to build a destination's ARN from its name."""

    partition: str
    region: str
    account: str

    @classmethod
    def from_arn(cls, arn: str, *, region: str) -> ArnContext:
        """From any ARN of the account (the table's); fields it lacks come from ``region``."""
        parts = arn.split(":")
        if len(parts) < 5:
            return cls("aws", region, "")
        return cls(parts[1] or "aws", parts[3] or region, parts[4])


def destination_arn(on_failure: OnFailureSpec, ctx: ArnContext) -> str:
    """The ARN the mapping points at: the spec's ``arn``, or one built from the managed name."""
    if on_failure.arn:
        return on_failure.arn
    kind = destination_kind(on_failure.type)
    return kind.arn(on_failure.name or "", partition=ctx.partition, region=ctx.region, account=ctx.account)


def normalise(field: str, value: Any) -> Any:
    """One field's value in comparable form (AWS default for None, sentinels as -1)."""
    if value is None and field in AWS_DEFAULTS:
        return AWS_DEFAULTS[field]
    if field in FOREVER_SENTINELS and value == FOREVER_SENTINELS[field]:
        return -1
    if field == "filters":
        return [dict(p) for p in (value or [])]
    if field == "tags":
        return None if value is None else dict(value)
    return value


def desired_mapping(trigger: TriggerSpec, ctx: ArnContext) -> dict[str, Any]:
    """What the spec asks of the mapping, normalised (UPDATABLE + starting_position + tags)."""
    m = trigger.mapping
    raw: dict[str, Any] = {name: getattr(m, name) for name in UPDATABLE if name != "destination"}
    raw["destination"] = destination_arn(trigger.on_failure, ctx) if trigger.on_failure else None
    raw["starting_position"] = m.starting_position
    raw["tags"] = dict(m.tags) if tags_managed(trigger) else None
    return {k: normalise(k, v) for k, v in raw.items()}


def tags_managed(trigger: TriggerSpec) -> bool:
    """Mapping tags are the spec's only when it writes ``tags:`` (``{}`` included); else left alone.

    That also spares a ListTags call per trigger on every plan that does not manage tags.
    """
    return "tags" in trigger.mapping.model_fields_set


def observed_mapping(live: LiveMapping) -> dict[str, Any]:
    """The live mapping in the same terms as ``desired_mapping``."""
    raw: dict[str, Any] = {name: getattr(live, name) for name in TUNING}
    raw["enabled"] = live.enabled
    raw["destination"] = live.destination_arn
    raw["starting_position"] = live.starting_position
    raw["tags"] = dict(live.tags)
    return {k: normalise(k, v) for k, v in raw.items()}


def filter_criteria(filters: list[Mapping[str, Any]]) -> dict[str, Any]:
    """FilterCriteria for AWS; ``{}`` clears the filters (leaving it out would keep the old ones)."""
    if not filters:
        return {}
    return {"Filters": [{"Pattern": json.dumps(p, separators=(",", ":"))} for p in filters]}


def aws_params(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Create/UpdateEventSourceMapping parameters for the given spec-term fields (tags excluded)."""
    params: dict[str, Any] = {}
    for name, value in fields.items():
        if name in AWS_NAME:
            params[AWS_NAME[name]] = value
        elif name == "report_batch_item_failures":
            params["FunctionResponseTypes"] = ["ReportBatchItemFailures"] if value else []
        elif name == "filters":
            params["FilterCriteria"] = filter_criteria(value)
        elif name == "destination":
            # Clearing sends DestinationConfig: {} (never {"OnFailure": {}}: AWS rejects it).
            params["DestinationConfig"] = {"OnFailure": {"Destination": value}} if value else {}
    return params


def create_params(desired: Mapping[str, Any]) -> dict[str, Any]:
    """CreateEventSourceMapping parameters (without EventSourceArn/FunctionName), all fields explicit."""
    params = aws_params({k: v for k, v in desired.items() if k != "tags"})
    if not desired.get("filters"):
        params.pop("FilterCriteria", None)
    if not desired.get("destination"):
        params.pop("DestinationConfig", None)
    if desired.get("tags"):
        params["Tags"] = dict(desired["tags"])
    return params


def desired_destination_attributes(on_failure: OnFailureSpec) -> dict[str, str]:
    """The managed settings of a managed destination, as the string attributes AWS reads back."""
    return destination_kind(on_failure.type).desired(on_failure)


def filled_defaults(trigger: TriggerSpec) -> dict[str, Any]:
    """The mapping settings the spec left out, which the tool's safe defaults filled in."""
    explicit = trigger.mapping.model_fields_set
    filled = {
        name: getattr(trigger.mapping, name)
        for name in MappingSpec.model_fields
        if name not in explicit and name not in ("filters", "tags")
    }
    if "view_type" not in trigger.stream.model_fields_set:
        filled["stream.view_type"] = trigger.stream.view_type
    return filled

"""Read what is live for each trigger: table + stream, the function's mappings on it, the destination.

Mappings are found by (table, function), never by remembered ids: one paginated
ListEventSourceMappings(FunctionName=F) returns every mapping of the function, and those whose
EventSourceArn is a stream of the table are this trigger's, the one on LatestStreamArn being current and
the others stale (left by a stream disable/re-enable). For a no-op plan that is DescribeTable +
ListEventSourceMappings + ListTags (mapping) + the destination's reads per trigger, and one
DescribeAlarms for all triggers (``aws.alarms``); GetFunction is only called when no mapping proves the
function exists. Triggers are read concurrently, one thread each (``workers_for``: reads in flight sized
to the work), sharing the factory's clients (thread-safe; each built once, on first use, while threads
whose client exists keep reading).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.alarms import read_alarms
from ddbtrigger.aws.clients import workers_for
from ddbtrigger.aws.destinations import read_destination
from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.core.desired import ArnContext, tags_managed
from ddbtrigger.core.live import (
    LiveAlarm,
    LiveMapping,
    LiveTable,
    LiveTrigger,
    same_function,
    stream_table_arn,
)
from ddbtrigger.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import StreamSpecificationTypeDef
    from mypy_boto3_lambda.type_defs import ListEventSourceMappingsRequestPaginateTypeDef

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import TriggerSpec


def read_live(
    factory: ClientFactory,
    triggers: Sequence[TriggerSpec],
    *,
    alarms: Mapping[str, tuple[LiveAlarm, ...]] | None = None,
) -> list[LiveTrigger]:
    """Live state of each trigger, in the order given. Raises our errors (AccessDenied, Throttled, ...).

    ``alarms``: the triggers' alarms when the caller already read them (``status`` reads all its
    triggers' alarms once, then each trigger in its own worker)."""
    if not triggers:
        return []
    if len(triggers) == 1:
        found = [read_trigger(factory, triggers[0])]
    else:
        with ThreadPoolExecutor(max_workers=workers_for(len(triggers))) as pool:
            found = list(pool.map(lambda t: read_trigger(factory, t), triggers))
    if alarms is None:
        alarms = read_alarms(factory, triggers)  # one DescribeAlarms for every trigger
    return [replace(lt, alarms=alarms.get(lt.trigger, ())) for lt in found]


def read_trigger(factory: ClientFactory, trigger: TriggerSpec) -> LiveTrigger:
    """One trigger's live state; a missing table or function reads back as None (the caller decides)."""
    table = read_table(factory, trigger.table_name)
    if table is None:
        return LiveTrigger(trigger=trigger.name, function_arn=None, table=None)
    mappings = _trigger_mappings(trigger, table, list_mappings(factory, function=trigger.function))
    if not mappings and table.latest_stream_arn:
        # The function may be spelled differently from how the mapping was made (name vs ARN): look
        # on the stream itself before concluding there is none (only on the create path).
        mappings = _trigger_mappings(trigger, table, list_mappings(factory, source=table.latest_stream_arn))
    current = next((m for m in mappings if m.event_source_arn == table.latest_stream_arn), None)
    stale = tuple(m for m in mappings if m is not current)
    if current is not None and tags_managed(trigger):
        current = with_tags(factory, current)
    known = current or (stale[0] if stale else None)
    function_arn = known.function_arn if known else find_function(factory, trigger.function)
    destination = None
    if trigger.on_failure is not None:
        ctx = ArnContext.from_arn(table.arn, region=factory.region)
        destination = read_destination(factory, trigger.on_failure, ctx)
    return LiveTrigger(trigger.name, function_arn, table, current, stale, destination)


def _trigger_mappings(trigger: TriggerSpec, table: LiveTable, found: list[LiveMapping]) -> list[LiveMapping]:
    return [
        m
        for m in found
        if stream_table_arn(m.event_source_arn) == table.arn
        and same_function(trigger.function, m.function_arn)
    ]


def read_table(factory: ClientFactory, name: str) -> LiveTable | None:
    """DescribeTable, or None when the table does not exist."""
    try:
        table = factory.client("dynamodb").describe_table(TableName=name)["Table"]
    except Exception as e:
        if error_code(e) == "ResourceNotFoundException":
            return None
        with translate_errors(f"describe table {name}"):
            raise
    stream: StreamSpecificationTypeDef | dict[str, Any] = table.get("StreamSpecification") or {}
    return LiveTable(
        name=table["TableName"],
        arn=table["TableArn"],
        status=table.get("TableStatus", "ACTIVE"),
        stream_enabled=bool(stream.get("StreamEnabled")),
        view_type=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
        latest_stream_arn=table.get("LatestStreamArn"),
    )


def find_function(factory: ClientFactory, function: str) -> str | None:
    """The function's ARN (GetFunction), or None when it does not exist."""
    try:
        config = factory.client("lambda").get_function(FunctionName=function)["Configuration"]
    except Exception as e:
        if error_code(e) == "ResourceNotFoundException":
            return None
        with translate_errors(f"get function {function}"):
            raise
    arn = str(config["FunctionArn"])
    if ":" in function and not function.startswith("arn:") and arn.count(":") == 6:
        arn += ":" + function.split(":", 1)[1]
    return arn


def list_mappings(
    factory: ClientFactory, *, function: str | None = None, source: str | None = None
) -> list[LiveMapping]:
    """Every mapping of ``function`` (and/or on ``source``), following NextMarker pages."""
    kwargs: ListEventSourceMappingsRequestPaginateTypeDef = {}
    if function:
        kwargs["FunctionName"] = function
    if source:
        kwargs["EventSourceArn"] = source
    found: list[LiveMapping] = []
    try:
        with translate_errors("list event source mappings"):
            pages = factory.client("lambda").get_paginator("list_event_source_mappings").paginate(**kwargs)
            for page in pages:
                found.extend(mapping_from_aws(m) for m in page.get("EventSourceMappings", []))
    except NotFound:
        return []  # ListEventSourceMappings of a function that does not exist
    return found


def with_tags(factory: ClientFactory, mapping: LiveMapping) -> LiveMapping:
    """The mapping with its tags (ListTags on the mapping ARN; not in the list response on AWS)."""
    if not mapping.arn:
        return mapping
    with translate_errors(f"list the tags of mapping {mapping.uuid}"):
        tags = factory.client("lambda").list_tags(Resource=mapping.arn).get("Tags", {}) or {}
    return replace(mapping, tags=dict(tags))


def mapping_from_aws(raw: Mapping[str, Any]) -> LiveMapping:
    """Our LiveMapping from a Get/ListEventSourceMappings item (fields as AWS read them back)."""
    filters = tuple(
        _pattern(f.get("Pattern", "{}")) for f in (raw.get("FilterCriteria") or {}).get("Filters", [])
    )
    on_failure = ((raw.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    return LiveMapping(
        uuid=raw["UUID"],
        arn=raw.get("EventSourceMappingArn"),
        event_source_arn=raw.get("EventSourceArn", ""),
        function_arn=raw.get("FunctionArn", ""),
        state=raw.get("State", "Enabled"),
        state_transition_reason=raw.get("StateTransitionReason"),
        last_processing_result=raw.get("LastProcessingResult"),
        starting_position=raw.get("StartingPosition"),
        batch_size=raw.get("BatchSize"),
        maximum_batching_window_in_seconds=raw.get("MaximumBatchingWindowInSeconds"),
        parallelization_factor=raw.get("ParallelizationFactor"),
        bisect_batch_on_function_error=raw.get("BisectBatchOnFunctionError"),
        maximum_retry_attempts=raw.get("MaximumRetryAttempts"),
        maximum_record_age_in_seconds=raw.get("MaximumRecordAgeInSeconds"),
        report_batch_item_failures="ReportBatchItemFailures" in (raw.get("FunctionResponseTypes") or []),
        tumbling_window_in_seconds=raw.get("TumblingWindowInSeconds"),
        filters=filters,
        destination_arn=on_failure or None,
        tags=dict(raw.get("Tags") or {}),
    )


def _pattern(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"__unparsed__": text}
    return value if isinstance(value, dict) else {"__unparsed__": text}


def read_mapping(factory: ClientFactory, uuid: str) -> LiveMapping:
    """GetEventSourceMapping, with its tags: one mapping by UUID (``--mapping``). A UUID that does not
    exist raises ``NotFound`` with AWS's own message."""
    with translate_errors(f"get event source mapping {uuid}"):
        raw = factory.client("lambda").get_event_source_mapping(UUID=uuid)
    return with_tags(factory, mapping_from_aws(raw))

"""``export``: write a spec for the mappings that already exist, so a team can adopt ddbtrigger.

Every setting is written explicitly with the value AWS holds (normalised as the planner compares it), and
an existing failure destination is referenced by ``arn:`` (used as is, never changed), so ``plan`` on
the exported spec shows no changes. Where the live settings break a lint error rule, the code is
silenced in ``lint_ignore`` (the spec still documents the risk) and a warning says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddbtrigger.core.desired import TUNING, observed_mapping
from ddbtrigger.core.live import LiveMapping, LiveTable, function_ref, same_function, stream_table_arn
from ddbtrigger.errors import DdbtError, NotFound, UsageError

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import Spec

SPEC_MAPPING_FIELDS = ("enabled", "starting_position", *TUNING, "tags")


@dataclass
class Export:
    document: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Why a mapping on the table was left out (it reads an old stream)."""


def export_spec(factory: ClientFactory, *, table: str, function: str | None = None) -> Export:
    """A spec document (plain data, ready for YAML) for the mappings on ``table``'s latest stream."""
    from ddbtrigger.aws.live import read_table, with_tags

    live_table = read_table(factory, table)
    if live_table is None:
        raise NotFound(f"table {table} does not exist")
    result = Export({"version": 1, "region": factory.region, "triggers": []})
    names: set[str] = set()
    for mapping in _table_mappings(factory, live_table, function, result.skipped):
        trigger = trigger_document(live_table, with_tags(factory, mapping), names, result.warnings)
        result.document["triggers"].append(trigger)
    if not result.document["triggers"]:
        raise NotFound(
            f"no event source mapping found on the stream of table {table}"
            + (f" for function {function}" if function else ""),
            details=result.skipped,
        )
    return result


def into_environment(result: Export, env: str, entry: dict[str, Any]) -> Export:
    """``export --env NAME``: the same triggers in a spec whose ``environments:`` holds NAME's entry
    (its connection) instead of a top-level region; the names and ARNs stay as AWS holds them (no
    ``${env}`` is guessed back), so ``plan --env NAME`` on it shows no changes."""
    document = {k: v for k, v in result.document.items() if k != "region"}
    document = {"version": document.pop("version"), "environments": {env: entry}, **document}
    return Export(document, result.warnings, result.skipped)


def _table_mappings(
    factory: ClientFactory, table: LiveTable, function: str | None, warnings: list[str]
) -> list[LiveMapping]:
    """The mappings on ``table``'s latest stream (of ``function`` only, when given); one on an older
    stream of the table is left out with a warning."""
    from ddbtrigger.aws.live import list_mappings

    if function:
        found = [
            m for m in list_mappings(factory, function=function) if same_function(function, m.function_arn)
        ]
    elif table.latest_stream_arn:
        found = list_mappings(factory, source=table.latest_stream_arn)
    else:
        found = []
    current = []
    for mapping in found:
        if stream_table_arn(mapping.event_source_arn) != table.arn:
            continue
        if mapping.event_source_arn != table.latest_stream_arn:
            warnings.append(f"mapping {mapping.uuid} reads an old stream ARN: `plan` will replace it")
            continue
        current.append(mapping)
    return current


def export_mapping(factory: ClientFactory, uuid: str) -> Export:
    """``export_spec`` for one mapping named by its UUID (``--mapping``), wherever it reads. A table
    that no longer exists still gives a trigger (``status`` then says "no table")."""
    from ddbtrigger.aws.live import read_mapping, read_table
    from ddbtrigger.core.audit import is_dynamodb_stream, stream_table_name

    mapping = read_mapping(factory, uuid)
    if not is_dynamodb_stream(mapping.event_source_arn):
        raise UsageError(f"mapping {uuid} reads {mapping.event_source_arn or '?'}, not a DynamoDB stream")
    name = stream_table_name(mapping.event_source_arn)
    table = read_table(factory, name) or LiveTable(
        name, stream_table_arn(mapping.event_source_arn), "", True, None, None
    )
    result = Export({"version": 1, "region": factory.region, "triggers": []})
    result.document["triggers"].append(trigger_document(table, mapping, set(), result.warnings))
    return result


def live_spec(
    factory: ClientFactory,
    *,
    mapping: str | None = None,
    table: str | None = None,
    function: str | None = None,
) -> tuple[Spec, list[str]]:
    """Spec-less targeting: the trigger(s) of ``--mapping UUID`` or ``--table T [--function F]`` as the
    spec ``export`` would write, so ``status``, ``inspect-dlq`` and ``redrive`` work them exactly as
    declared ones (filters, bisect, retries; the destination by ARN, never changed). Also returns the
    warnings about mappings left out (on an old stream)."""
    from pydantic import ValidationError

    from ddbtrigger.core.spec import Spec

    result = (
        export_mapping(factory, mapping)
        if mapping
        else export_spec(factory, table=table or "", function=function)
    )
    try:
        spec = Spec.model_validate(result.document)
    except ValidationError as e:
        where = f"mapping {mapping}" if mapping else f"the mappings of table {table}"
        raise DdbtError(
            f"{where} cannot be read as a trigger",
            details=[f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()],
        ) from None
    return spec, result.skipped


def trigger_name(table: str, function: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", f"{table}-{function}".lower()).strip("-")[:60] or "trigger"
    name, n = base, 2
    while name in taken:
        name, n = f"{base[:57]}-{n}", n + 1
    taken.add(name)
    return name


def trigger_document(
    table: LiveTable, mapping: LiveMapping, taken: set[str], warnings: list[str]
) -> dict[str, Any]:
    fn_name, qualifier = function_ref(mapping.function_arn)
    function = f"{fn_name}:{qualifier}" if qualifier else fn_name
    values = observed_mapping(mapping)
    doc: dict[str, Any] = {
        "name": trigger_name(table.name, fn_name, taken),
        "table": table.name,
        "stream": {"view_type": table.view_type or "NEW_AND_OLD_IMAGES"},
        "function": function,
        "mapping": {k: values[k] for k in SPEC_MAPPING_FIELDS if k in values and values[k] is not None},
    }
    if mapping.destination_arn:
        kind = mapping.destination_arn.split(":")[2]
        doc["on_failure"] = {"type": kind, "arn": mapping.destination_arn}
    elif values["maximum_retry_attempts"] == -1 and values["maximum_record_age_in_seconds"] == -1:
        doc["lint_ignore"] = ["DDBT001"]
        warnings.append(
            f"trigger {doc['name']}: retries are unbounded and there is no failure destination (DDBT001, "
            "silenced in the exported spec so it plans as is): set limits and an on_failure soon"
        )
    return doc

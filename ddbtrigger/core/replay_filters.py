"""``replay --engine lambda``: the temporary mapping's FilterCriteria, from the window and the selection.

Lambda's filters are the only way to tell its pollers which records to deliver, so everything the
local engine checks record by record becomes one pattern:

- the window: ``{"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">=", since, "<", until]}]}}``
  (a JSON number in the record, so ``numeric`` matches it);
- ``--event``: ``{"eventName": [...]}``;
- ``--key name=value``: ``{"dynamodb": {"Keys": {name: {TYPE: [values]}}}}`` where ``TYPE`` is the key
  attribute's DynamoDB type letter (``S``/``N``/``B``), read from the table's AttributeDefinitions: the
  pattern matches the record's JSON, and a key condition alone does not know it. ``N`` values are
  matched as the text DynamoDB stores (canonical: no leading zeros or trailing fraction zeros), so
  ``--key id=1.0`` is written ``"1"``;
- each ``--filter`` pattern is merged into that base (the filters of a mapping are alternatives, so
  several ``--filter`` give several filters, each with the base). A ``--filter`` that constrains a
  field the base already constrains is refused: two leaf lists cannot be intersected in a pattern.

Lambda allows 5 filters per mapping and 4096 characters per pattern (quota): more is refused here
with the option named, rather than by CreateEventSourceMapping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ddbtrigger.core.filters import PatternError, check_patterns
from ddbtrigger.core.selection import Selection

MAX_FILTERS = 5
MAX_PATTERN_CHARS = 4096
KEY_TYPES = ("S", "N", "B")


class FilterBuildError(ValueError):
    """The selection cannot be expressed as a mapping's filters (a usage error)."""


def window_clause(since: float | None, until: float | None) -> dict[str, Any]:
    """The window as a pattern on ``dynamodb.ApproximateCreationDateTime`` (``{}`` if unbounded)."""
    if since is not None and until is not None and until <= since:
        raise FilterBuildError("the window is empty (--until is not after --since): nothing to replay")
    bounds: list[Any] = []
    if since is not None:
        bounds += [">=", since]
    if until is not None:
        bounds += ["<", until]
    if not bounds:
        return {}
    return {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": bounds}]}}


def key_value(value: str, key_type: str) -> str:
    """A ``--key`` value as the record's JSON holds it for a key of ``key_type``."""
    if key_type != "N":
        return value
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise FilterBuildError(f"--key value {value!r} is not a number (the key is of type N)") from None
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def base_pattern(selection: Selection, key_types: Mapping[str, str]) -> dict[str, Any]:
    """Window, event names and keys as one pattern."""
    pattern = window_clause(selection.window.since, selection.window.until)
    if selection.events:
        pattern["eventName"] = sorted(selection.events)
    for condition in selection.keys:
        key_type = key_types.get(condition.name)
        if key_type is None:
            known = ", ".join(sorted(key_types)) or "none"
            raise FilterBuildError(f"--key {condition.name!r} is not a key of the table (its keys: {known})")
        if key_type not in KEY_TYPES:
            raise FilterBuildError(f"--key {condition.name!r}: unknown key type {key_type!r}")
        values = sorted({key_value(v, key_type) for v in condition.values})
        keys = pattern.setdefault("dynamodb", {}).setdefault("Keys", {})
        keys[condition.name] = {key_type: values}
    return pattern


def merge(base: Mapping[str, Any], extra: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """``base`` and ``extra`` as one pattern (both must hold); a field both constrain is refused."""
    merged = dict(base)
    for name, rule in extra.items():
        where = f"{path}.{name}" if path else name
        if name not in merged:
            merged[name] = rule
        elif isinstance(merged[name], Mapping) and isinstance(rule, Mapping):
            merged[name] = merge(merged[name], rule, where)
        else:
            raise FilterBuildError(
                f"--filter constrains {where}, which the window, --event or --key already constrain: "
                "put that condition in the --filter pattern only"
            )
    return merged


def filter_patterns(selection: Selection, key_types: Mapping[str, str]) -> list[dict[str, Any]]:
    """The mapping's filter patterns (alternatives), each checked as Lambda checks them."""
    base = base_pattern(selection, key_types)
    patterns = [merge(base, p) for p in selection.patterns] or [base]
    patterns = [p for p in patterns if p] or []
    if len(patterns) > MAX_FILTERS:
        raise FilterBuildError(
            f"--filter: at most {MAX_FILTERS} patterns for --engine lambda (a mapping's quota)"
        )
    for p in patterns:
        size = len(_compact(p))
        if size > MAX_PATTERN_CHARS:
            raise FilterBuildError(
                f"--filter: a pattern of {size} characters (with the window and keys) is over Lambda's "
                f"{MAX_PATTERN_CHARS}: use fewer --key values or a shorter pattern"
            )
    try:
        check_patterns(patterns)
    except PatternError as e:
        raise FilterBuildError(f"--filter: {e}") from None
    return patterns


def filter_criteria(patterns: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """CreateEventSourceMapping's ``FilterCriteria`` (``{}`` for none)."""
    return {"Filters": [{"Pattern": _compact(p)} for p in patterns]} if patterns else {}


def key_types_of(
    attribute_definitions: Sequence[Mapping[str, Any]], key_schema: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """The table's key attributes and their type letters (DescribeTable's two lists)."""
    types = {a["AttributeName"]: a["AttributeType"] for a in attribute_definitions}
    return {k["AttributeName"]: types.get(k["AttributeName"], "S") for k in key_schema}


def _compact(pattern: Mapping[str, Any]) -> str:
    return json.dumps(pattern, separators=(",", ":"), sort_keys=True)

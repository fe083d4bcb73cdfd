"""EventBridge-style pattern matching, as Lambda applies a mapping's filters to stream records.

``redrive`` rebuilds records from the stream; a record the mapping's filters would have dropped must not
reach the function on a redrive either (Lambda never sent it). This module implements the part of the
EventBridge pattern language that Lambda accepts for DynamoDB filters: exact values (strings, numbers,
booleans, null), ``prefix``, ``suffix``, ``equals-ignore-case``, ``anything-but`` (a value, a list, or a
prefix), ``numeric`` comparisons, ``exists``, and nested keys such as ``dynamodb.NewImage.x.S``.

Semantics: every key of a pattern must match (AND); the values listed for one key are alternatives (OR);
the filters of a mapping are alternatives too (a record passes when any filter matches; no filters pass
everything). When the record holds a list at a key, the pattern matches when any element does. DynamoDB
numbers arrive as strings (``{"N": "42"}``); a ``numeric`` matcher reads such a string as a number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

_MISSING = object()
_NUMERIC_OPS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


class PatternError(ValueError):
    """A filter pattern this matcher cannot read (Lambda would have rejected it too)."""


def parse_patterns(filters: Sequence[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Patterns as dicts, from the spec's YAML mappings or the JSON strings of ``FilterCriteria``."""
    patterns: list[dict[str, Any]] = []
    for item in filters:
        pattern = json.loads(item) if isinstance(item, str) else item
        if not isinstance(pattern, Mapping):
            raise PatternError(f"a filter pattern must be a JSON object, got {type(pattern).__name__}")
        patterns.append(dict(pattern))
    return patterns


def check_patterns(patterns: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``PatternError`` for an operator this matcher cannot apply, before any record is judged."""
    for pattern in patterns:
        _check(pattern)


def _check(rule: Mapping[str, Any]) -> None:
    for sub in rule.values():
        if isinstance(sub, Mapping):
            _check(sub)
            continue
        for matcher in _as_list(sub):
            if isinstance(matcher, Mapping):
                _match_operator(matcher, "")  # validates the operator and its argument


def passes_filters(record: Mapping[str, Any], patterns: Sequence[Mapping[str, Any]]) -> bool:
    """Would Lambda send this record? True when no filter is set or when any pattern matches."""
    if not patterns:
        return True
    return any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """One pattern against one event (a record in Lambda's shape): every key must match."""
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING
        if isinstance(rule, Mapping):
            if not _match_object(rule, value):
                return False
        elif not _match_leaf(_as_list(rule), value):
            return False
    return True


def _match_object(rule: Mapping[str, Any], value: Any) -> bool:
    """A nested pattern; a missing or non-object value can only satisfy ``exists: false`` leaves."""
    if isinstance(value, list):
        return any(_match_object(rule, item) for item in value)
    if isinstance(value, Mapping):
        return matches(rule, value)
    return _only_absence(rule)


def _only_absence(rule: Mapping[str, Any]) -> bool:
    """True when every leaf below ``rule`` accepts a missing field (``{"exists": false}``)."""
    for sub in rule.values():
        if isinstance(sub, Mapping):
            if not _only_absence(sub):
                return False
        elif not any(_is_absence(m) for m in _as_list(sub)):
            return False
    return True


def _is_absence(matcher: Any) -> bool:
    return isinstance(matcher, Mapping) and matcher.get("exists") is False


def _as_list(rule: Any) -> list[Any]:
    return list(rule) if isinstance(rule, list) else [rule]


def _match_leaf(matchers: list[Any], value: Any) -> bool:
    """Any matcher of the list accepts the value (or, for a list value, any of its elements)."""
    if value is _MISSING:
        return any(_is_absence(m) for m in matchers)
    candidates = value if isinstance(value, list) else [value]
    return any(_match_one(m, v) for m in matchers for v in candidates)


def _match_one(matcher: Any, value: Any) -> bool:
    if isinstance(matcher, Mapping):
        return _match_operator(matcher, value)
    if isinstance(matcher, bool) or matcher is None or isinstance(value, bool):
        return matcher is value or (matcher is None and value is None)
    if isinstance(matcher, int | float):
        number = _number(value, allow_string=False)
        return number is not None and number == matcher
    return isinstance(value, str) and value == matcher


def _match_operator(matcher: Mapping[str, Any], value: Any) -> bool:
    if len(matcher) != 1:
        raise PatternError(f"a matcher object takes exactly one operator, got {sorted(matcher)}")
    ((op, arg),) = matcher.items()
    if op == "exists":
        return bool(arg)
    if op == "prefix":
        return _string_op(arg, value, str.startswith)
    if op == "suffix":
        return _string_op(arg, value, str.endswith)
    if op == "equals-ignore-case":
        return isinstance(value, str) and isinstance(arg, str) and value.casefold() == arg.casefold()
    if op == "anything-but":
        return _anything_but(arg, value)
    if op == "numeric":
        return _numeric(arg, value)
    raise PatternError(f"unsupported filter operator {op!r}")


def _string_op(arg: Any, value: Any, test: Any) -> bool:
    """``prefix``/``suffix``, also in their ``{"equals-ignore-case": ...}`` form."""
    fold = isinstance(arg, Mapping) and "equals-ignore-case" in arg
    if fold:
        arg = arg["equals-ignore-case"]
    if not isinstance(arg, str):
        raise PatternError(f"prefix/suffix takes a string, got {type(arg).__name__}")
    if not isinstance(value, str):
        return False
    return bool(test(value.casefold(), arg.casefold()) if fold else test(value, arg))


def _anything_but(arg: Any, value: Any) -> bool:
    """Matches a present value that is none of ``arg`` (a value, a list, or ``{"prefix": ...}``)."""
    if isinstance(arg, Mapping):
        return not _match_operator(arg, value)
    return not any(_match_one(excluded, value) for excluded in _as_list(arg))


def _numeric(arg: Any, value: Any) -> bool:
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise PatternError("numeric takes [op, number] or [op, number, op, number]")
    pairs = list(zip(arg[0::2], arg[1::2], strict=True))
    for op, bound in pairs:
        if op not in _NUMERIC_OPS or isinstance(bound, bool) or not isinstance(bound, int | float):
            raise PatternError(f"bad numeric comparison {op!r} {bound!r}")
    number = _number(value, allow_string=True)
    return number is not None and all(_NUMERIC_OPS[op](number, bound) for op, bound in pairs)


def _number(value: Any, *, allow_string: bool) -> float | None:
    """A JSON number, or (for ``numeric``) a DynamoDB ``N`` string such as ``"42.5"``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if allow_string and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None

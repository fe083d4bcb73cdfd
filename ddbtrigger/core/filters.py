"""Lambda's event filtering, as it applies a mapping's filters to DynamoDB stream records.

One implementation for the sandbox's pollers, ``redrive`` (a record the filters would have dropped never
reached the function, so a redrive must not send it either) and ``validate``'s lint rules.

Patterns match the record's JSON exactly as Lambda sees it. In that JSON a DynamoDB number is a string
(``{"N": "101"}``), so ``numeric`` never matches it, while ``ApproximateCreationDateTime`` and
``SizeBytes`` are JSON numbers and do. Matching works on leaves (strings, numbers, booleans, null): an
attribute value such as ``{"S": "x"}`` is an object, so ``{"attr": [{"exists": false}]}`` matches it and
``{"attr": [{"exists": true}]}`` does not; write ``{"attr": {"S": [{"exists": true}]}}``.

Operators (those AWS documents for Lambda): exact values (strings, numbers, booleans, ``null``, ``""``),
``prefix`` and ``suffix`` (also as ``{"equals-ignore-case": ...}``), ``equals-ignore-case``,
``anything-but`` (a value, a list, or ``prefix``/``suffix``/``equals-ignore-case``), ``numeric``
(``=``, or a range), ``exists``, and ``$or``. Every key must match (AND); the values listed for a key
are alternatives (OR); when the record holds a list, any element may match; the filters of a mapping
are alternatives too, and no filter passes everything.

``matches`` never raises: a pattern AWS would refuse simply matches nothing. ``pattern_problems`` says
why AWS refuses one (Lambda answers ``InvalidParameterValueException`` at create/update), and
``never_matching`` finds the valid parts that no DynamoDB stream record can ever satisfy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Path = tuple[str | int, ...]
_MISSING = object()
_LOWER = (">", ">=")
_UPPER = ("<", "<=")
_NUMERIC_OPS = {
    "=": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
OPERATORS = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists")
INVALID_PATTERN = "Invalid filter pattern definition."  # Lambda's message, recorded on AWS


class PatternError(ValueError):
    """A filter pattern Lambda refuses (``InvalidParameterValueException`` at create/update)."""


# -- reading -------------------------------------------------------------------------------------
def parse_patterns(filters: Sequence[Mapping[str, Any] | str]) -> list[dict[str, Any]]:
    """Patterns as dicts, from the spec's YAML mappings or the JSON strings of ``FilterCriteria``."""
    patterns: list[dict[str, Any]] = []
    for item in filters:
        try:
            pattern = json.loads(item) if isinstance(item, str) else item
        except ValueError as e:
            raise PatternError(f"a filter pattern must be JSON: {e}") from None
        if not isinstance(pattern, Mapping):
            raise PatternError(f"a filter pattern must be a JSON object, got {type(pattern).__name__}")
        patterns.append(dict(pattern))
    return patterns


def check_patterns(patterns: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``PatternError`` (naming the first problem and where) for a pattern Lambda refuses."""
    for pattern in patterns:
        for path, message in pattern_problems(pattern):
            raise PatternError(f"{format_path(path)}: {message}")


def check_filter_criteria(criteria: Any) -> None:
    """Raise ``PatternError`` when a ``FilterCriteria`` (the API's shape) holds a pattern Lambda refuses."""
    filters = criteria.get("Filters") if isinstance(criteria, Mapping) else None
    for item in filters or []:
        pattern = item.get("Pattern") if isinstance(item, Mapping) else None
        if not isinstance(pattern, str):
            raise PatternError("each filter needs a Pattern string")
        check_patterns(parse_patterns([pattern]))


def format_path(path: Path) -> str:
    """``("dynamodb", "Keys", "pk", "S", 0)`` -> ``dynamodb.Keys.pk.S[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(pattern)"


# -- matching ------------------------------------------------------------------------------------
def passes_filters(record: Mapping[str, Any], patterns: Sequence[Mapping[str, Any]]) -> bool:
    """Would Lambda send this record? True when no filter is set or when any pattern matches."""
    if not patterns:
        return True
    return any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """One pattern against one event (a record in Lambda's JSON): every key must match."""
    for key, rule in pattern.items():
        if key == "$or":
            ok = isinstance(rule, list) and any(
                isinstance(alt, Mapping) and matches(alt, event) for alt in rule
            )
        elif isinstance(rule, Mapping):
            ok = _match_object(rule, _get(event, key))
        else:
            ok = _match_leaf(rule if isinstance(rule, list) else [rule], _get(event, key))
        if not ok:
            return False
    return True


def _get(event: Any, key: str) -> Any:
    return event.get(key, _MISSING) if isinstance(event, Mapping) else _MISSING


def _match_object(rule: Mapping[str, Any], value: Any) -> bool:
    """A nested pattern; where the record holds no object, only ``exists: false`` leaves can match."""
    if isinstance(value, Mapping):
        return matches(rule, value)
    if isinstance(value, list) and any(isinstance(v, Mapping | list) for v in value):
        return any(_match_object(rule, v) for v in value)
    return _only_absence(rule)


def _only_absence(rule: Mapping[str, Any]) -> bool:
    """True when every leaf below ``rule`` accepts a missing field (``{"exists": false}``)."""
    for key, sub in rule.items():
        if key == "$or":
            ok = isinstance(sub, list) and any(isinstance(a, Mapping) and _only_absence(a) for a in sub)
        elif isinstance(sub, Mapping):
            ok = _only_absence(sub)
        else:
            ok = any(_is_absence(m) for m in (sub if isinstance(sub, list) else [sub]))
        if not ok:
            return False
    return True


def _is_absence(matcher: Any) -> bool:
    return isinstance(matcher, Mapping) and len(matcher) == 1 and matcher.get("exists") is False


def _leaves(value: Any) -> list[Any]:
    """The leaf values at a field: none for a missing field or an object, each element of a list."""
    if value is _MISSING or isinstance(value, Mapping):
        return []
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _match_leaf(matchers: list[Any], value: Any) -> bool:
    """Any matcher accepts any leaf; with no leaf there, only ``exists: false`` matches."""
    leaves = _leaves(value)
    if not leaves:
        return any(_is_absence(m) for m in matchers)
    return any(_match_one(m, leaf) for m in matchers for leaf in leaves)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _match_one(matcher: Any, value: Any) -> bool:
    """An exact value (type and all: ``"42"`` never equals ``42``) or an operator object."""
    if isinstance(matcher, Mapping):
        return _match_operator(matcher, value)
    if matcher is None or isinstance(matcher, bool):
        return value is matcher
    if _is_number(matcher):
        return _is_number(value) and bool(value == matcher)
    return isinstance(matcher, str) and isinstance(value, str) and value == matcher


def _match_operator(matcher: Mapping[str, Any], value: Any) -> bool:
    if len(matcher) != 1:
        return False
    ((op, arg),) = matcher.items()
    if op == "exists":
        return arg is True  # called only where a leaf is present
    if op in ("prefix", "suffix"):
        return _affix(op, arg, value)
    if op == "equals-ignore-case":
        return isinstance(arg, str) and isinstance(value, str) and value.casefold() == arg.casefold()
    if op == "anything-but":
        return _anything_but(arg, value)
    if op == "numeric":
        return _numeric(arg, value)
    return False


def _affix(op: str, arg: Any, value: Any) -> bool:
    """``prefix``/``suffix``, also in their ``{"equals-ignore-case": ...}`` form; strings only."""
    fold = isinstance(arg, Mapping) and len(arg) == 1 and "equals-ignore-case" in arg
    text = arg["equals-ignore-case"] if fold else arg
    if not isinstance(text, str) or not isinstance(value, str):
        return False
    seen: str = value.casefold() if fold else value
    wanted: str = text.casefold() if fold else text
    return seen.startswith(wanted) if op == "prefix" else seen.endswith(wanted)


def _anything_but(arg: Any, value: Any) -> bool:
    """A present leaf that is none of ``arg`` (a value, a list, or a prefix/suffix/ignore-case form)."""
    if isinstance(arg, Mapping):
        if len(arg) != 1 or _anything_but_problem(arg) is not None:
            return False
        ((op, inner),) = arg.items()
        if op == "equals-ignore-case":
            excluded = inner if isinstance(inner, list) else [inner]
            return not any(_match_operator({op: x}, value) for x in excluded)
        return not _affix(op, inner, value)
    excluded = arg if isinstance(arg, list) else [arg]
    if not excluded or not all(isinstance(x, str) or _is_number(x) for x in excluded):
        return False
    return not any(_match_one(x, value) for x in excluded)


def _numeric(arg: Any, value: Any) -> bool:
    """JSON numbers only: a DynamoDB ``N`` is a string in the record and never matches."""
    if _numeric_problem(arg) is not None or not _is_number(value):
        return False
    return all(_NUMERIC_OPS[op](value, bound) for op, bound in zip(arg[0::2], arg[1::2], strict=True))


# -- validation (what Lambda refuses) --------------------------------------------------------------
def pattern_problems(pattern: Any, path: Path = ()) -> list[tuple[Path, str]]:
    """Every reason Lambda would refuse this pattern, each with where in the pattern it is."""
    if not isinstance(pattern, Mapping):
        return [(path, f"a filter pattern must be a JSON object, got {_kind(pattern)}")]
    if not pattern:
        return [(path, "an empty object is not a filter pattern")]
    problems: list[tuple[Path, str]] = []
    for key, rule in pattern.items():
        here = (*path, key)
        if key == "$or":
            problems += _or_problems(rule, here)
        elif isinstance(rule, Mapping):
            problems += pattern_problems(rule, here)
        elif not isinstance(rule, list):
            problems.append(
                (here, f"must be a list of values or an object, got {_kind(rule)} (write [{rule!r}])")
            )
        elif not rule:
            problems.append((here, "an empty list matches nothing; Lambda refuses it"))
        else:
            for i, matcher in enumerate(rule):
                message = _matcher_problem(matcher)
                if message is not None:
                    problems.append(((*here, i), message))
    return problems


def _or_problems(rule: Any, path: Path) -> list[tuple[Path, str]]:
    if not isinstance(rule, list) or len(rule) < 2:
        return [(path, "$or takes a list of at least two pattern objects")]
    return [p for i, alt in enumerate(rule) for p in pattern_problems(alt, (*path, i))]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _matcher_problem(matcher: Any) -> str | None:
    if matcher is None or isinstance(matcher, str | bool):
        return None
    if _is_number(matcher):
        return None if math.isfinite(matcher) else "numbers must be finite"
    if not isinstance(matcher, Mapping):
        return f"a value to match must be a string, number, boolean, null or an operator object, got {_kind(matcher)}"
    if len(matcher) != 1:
        return f"an operator object holds exactly one operator, got {sorted(matcher) or 'none'}"
    ((op, arg),) = matcher.items()
    if op not in OPERATORS:
        return f"unknown operator {op!r} (Lambda supports {', '.join(OPERATORS)})"
    if op == "exists":
        return None if isinstance(arg, bool) else "exists takes true or false"
    if op in ("prefix", "suffix"):
        return _affix_problem(op, arg)
    if op == "equals-ignore-case":
        return None if isinstance(arg, str) else "equals-ignore-case takes a string"
    if op == "anything-but":
        return _anything_but_problem(arg)
    return _numeric_problem(arg)


def _affix_problem(op: str, arg: Any) -> str | None:
    if isinstance(arg, Mapping) and list(arg) == ["equals-ignore-case"]:
        arg = arg["equals-ignore-case"]
    return None if isinstance(arg, str) else f'{op} takes a string or {{"equals-ignore-case": "..."}}'


def _anything_but_problem(arg: Any) -> str | None:
    if isinstance(arg, Mapping):
        if len(arg) != 1:
            return "anything-but takes one of prefix, suffix or equals-ignore-case"
        ((op, inner),) = arg.items()
        if op in ("prefix", "suffix"):
            return None if isinstance(inner, str) else f"anything-but {op} takes a string"
        if op == "equals-ignore-case":
            texts = inner if isinstance(inner, list) else [inner]
            ok = bool(texts) and all(isinstance(t, str) for t in texts)
            return None if ok else "anything-but equals-ignore-case takes a string or a list of strings"
        return f"anything-but does not take {op!r} (only prefix, suffix, equals-ignore-case)"
    values = arg if isinstance(arg, list) else [arg]
    if not values:
        return "anything-but takes a value or a non-empty list"
    if all(isinstance(v, str) for v in values):
        return None
    if all(_is_number(v) and math.isfinite(v) for v in values):
        return None
    return "anything-but takes strings or numbers (not both, not null or booleans)"


def _numeric_problem(arg: Any) -> str | None:
    """Lambda's forms: ``["=", n]``, one bound, or a lower bound then an upper bound."""
    shape = 'numeric takes ["=", n], [">"|">="|"<"|"<=", n] or [">"|">=", low, "<"|"<=", high]'
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        return shape
    ops, bounds = arg[0::2], arg[1::2]
    if not all(_is_number(b) and math.isfinite(b) for b in bounds):
        return "numeric bounds must be finite numbers"
    if len(arg) == 2:
        return None if ops[0] in _NUMERIC_OPS else shape
    if ops[0] not in _LOWER or ops[1] not in _UPPER:
        return shape
    return None if bounds[0] < bounds[1] else "numeric range: the lower bound must be below the upper bound"


# -- what can never match a DynamoDB stream record ------------------------------------------------
# The record as Lambda sends it: which fields are objects, strings or numbers. An image (Keys,
# NewImage, OldImage, and an ``M``) maps attribute names to attribute values; an attribute value maps
# one type letter to its content; ``L`` holds attribute values.
_RECORD: dict[str, str] = {
    "eventID": "string",
    "eventName": "string",
    "eventVersion": "string",
    "eventSource": "string",
    "awsRegion": "string",
    "eventSourceARN": "string",
    "dynamodb": "dynamodb",
    "userIdentity": "identity",
}
_SHAPES: dict[str, dict[str, str]] = {
    "record": _RECORD,
    "dynamodb": {
        "ApproximateCreationDateTime": "number",
        "SizeBytes": "number",
        "SequenceNumber": "string",
        "StreamViewType": "string",
        "Keys": "image",
        "NewImage": "image",
        "OldImage": "image",
    },
    "identity": {"type": "string", "principalId": "string"},
    "value": {
        "S": "string",
        "N": "string",
        "B": "string",
        "SS": "string",
        "NS": "string",
        "BS": "string",
        "BOOL": "boolean",
        "NULL": "boolean",
        "M": "image",
        "L": "value",
    },
}
_OBJECTS = {"record", "dynamodb", "identity", "image", "value"}


def never_matching(pattern: Mapping[str, Any]) -> list[tuple[Path, str]]:
    """Parts of a valid pattern that no DynamoDB stream record can satisfy, each with a reason."""
    return list(_never(pattern, "record", ()))


def _child(shape: str, key: str) -> str | None:
    """The shape of ``key`` inside a ``shape`` object; ``None`` when records never hold it."""
    if shape == "image":
        return "value"
    return _SHAPES.get(shape, {}).get(key)


def _never(pattern: Mapping[str, Any], shape: str, path: Path) -> Iterator[tuple[Path, str]]:
    for key, rule in pattern.items():
        if key == "$or" and isinstance(rule, list):
            for i, alt in enumerate(rule):
                if isinstance(alt, Mapping):
                    yield from _never(alt, shape, (*path, "$or", i))
            continue
        here, sub = (*path, key), _child(shape, key)
        matchers = rule if isinstance(rule, list) else [rule]
        if sub is None:
            if not any(_is_absence(m) for m in matchers) and not (
                isinstance(rule, Mapping) and _only_absence(rule)
            ):
                yield here, _absent_reason(shape, key)
        elif isinstance(rule, Mapping):
            if sub in _OBJECTS:
                yield from _never(rule, sub, here)
            elif not _only_absence(rule):
                yield here, f"is a {sub} in a DynamoDB record, not an object"
        else:
            for i, matcher in enumerate(matchers):
                reason = _leaf_mismatch(sub, matcher)
                if reason is not None:
                    yield (*here, i) if isinstance(rule, list) else here, reason


def _absent_reason(shape: str, key: str) -> str:
    if shape == "record":
        known = ", ".join(_RECORD)
        return f"a DynamoDB stream record has no top-level {key!r} (it has {known})"
    if shape == "value":
        return f"{key!r} is not a DynamoDB attribute type (S, N, B, SS, NS, BS, BOOL, NULL, M, L)"
    return f"a DynamoDB stream record has no {key!r} here"


def _leaf_mismatch(shape: str, matcher: Any) -> str | None:
    """Why ``matcher`` can never accept a leaf of this shape (``None`` when it can)."""
    if _is_absence(matcher):
        return None
    if shape in _OBJECTS:
        what = 'an attribute value such as {"S": ...}' if shape == "value" else "an object"
        return f"is {what}, not a leaf: only exists:false matches it; match a field inside it instead"
    op = next(iter(matcher)) if isinstance(matcher, Mapping) and len(matcher) == 1 else None
    wants_number = op == "numeric" or _is_number(matcher)
    if wants_number and shape != "number":
        hint = " (a DynamoDB N is a string in the record: match it as a string)" if shape == "string" else ""
        return f"a number never matches a {shape} field{hint}"
    wants_string = op in ("prefix", "suffix", "equals-ignore-case") or isinstance(matcher, str)
    if wants_string and shape != "string":
        return f"a string never matches a {shape} field"
    return None

"""Which stream records ``tail`` shows and ``replay`` sends: event names, keys, a filter pattern, a window.

One ``Selection`` value built from the command line, with ``matches(record)``. The record is in
Lambda's event shape (``core.events.lambda_record``): that is what the filter pattern is written
against (the mapping's filters see exactly that JSON), and what a replay sends anyway.

- ``--event INSERT|MODIFY|REMOVE`` (repeatable): any of them.
- ``--key name=value`` (repeatable): values given for the same name are alternatives, different names
  must all match (``--key pk=a --key pk=b --key sk=1`` = pk in {a, b} and sk = 1), as a filter pattern
  reads. A value is compared with the key decoded (``core.attributes.plain_value``): an ``S`` as text, an
  ``N`` as a number (``--key id=1.0`` matches ``{"N": "1"}``), a ``B`` as its base64 text.
- ``--filter PATTERN`` (repeatable: alternatives, as a mapping's filters are): an event-filter pattern,
  matched by ``core.filters`` — the mapping's own code, so ``tail --filter P`` shows what a mapping with
  filter ``P`` would deliver.
- the time window (``core.windows``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from ddbtrigger.core.attributes import AttributeEncodingError, plain_value
from ddbtrigger.core.filters import PatternError, check_patterns, parse_patterns, passes_filters
from ddbtrigger.core.windows import TimeWindow

EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")


class SelectionError(ValueError):
    """A ``--event``/``--key``/``--filter`` value that cannot select anything (a usage error)."""


@dataclass(frozen=True)
class KeyCondition:
    """``name = one of values`` against the record's ``dynamodb.Keys``."""

    name: str
    values: tuple[str, ...]

    def matches(self, keys: Mapping[str, Any]) -> bool:
        attribute = keys.get(self.name)
        if not isinstance(attribute, Mapping):
            return False
        return any(_key_equals(attribute, wanted) for wanted in self.values)


def _key_equals(attribute: Mapping[str, Any], wanted: str) -> bool:
    """A key attribute (wire or boto3 form) against a command-line value; numbers compare as numbers."""
    if "N" in attribute:
        try:
            return Decimal(str(attribute["N"])) == Decimal(wanted.strip())
        except InvalidOperation:
            return False
    try:
        plain = plain_value(attribute)
    except AttributeEncodingError:
        return False
    return isinstance(plain, str) and plain == wanted


@dataclass(frozen=True)
class Selection:
    """What to show or send; the default selects every record."""

    events: frozenset[str] = frozenset()
    keys: tuple[KeyCondition, ...] = ()
    patterns: tuple[Mapping[str, Any], ...] = ()
    window: TimeWindow = field(default_factory=TimeWindow)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` (Lambda's event shape) is selected: every given criterion must hold."""
        if self.events and record.get("eventName") not in self.events:
            return False
        if not self.window.contains_record(record):
            return False
        if self.keys:
            record_keys = (record.get("dynamodb") or {}).get("Keys") or {}
            if not all(condition.matches(record_keys) for condition in self.keys):
                return False
        return passes_filters(record, self.patterns)

    def select(self, records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The selected records, in their order."""
        return [r for r in records if self.matches(r)]

    def criteria_json(self) -> dict[str, Any]:
        """Events, keys and filters, canonical (the window apart): a replay checkpoint stores it, so a
        resumed run must select the same records."""
        return {
            "events": sorted(self.events),
            "keys": {c.name: sorted(c.values) for c in sorted(self.keys, key=lambda c: c.name)},
            "filters": [dict(p) for p in self.patterns],
        }


def parse_selection(
    *,
    events: Sequence[str] = (),
    keys: Sequence[str] = (),
    filters: Sequence[str] = (),
    window: TimeWindow | None = None,
) -> Selection:
    """A ``Selection`` from the command line's values; ``SelectionError`` says what is wrong."""
    return Selection(
        events=frozenset(parse_event(e) for e in events),
        keys=parse_keys(keys),
        patterns=parse_filters(filters),
        window=window or TimeWindow(),
    )


def parse_event(text: str) -> str:
    name = text.strip().upper()
    if name not in EVENT_NAMES:
        raise SelectionError(f"--event {text!r} is not an event name: use {', '.join(EVENT_NAMES)}")
    return name


def parse_keys(items: Sequence[str]) -> tuple[KeyCondition, ...]:
    """``name=value`` items grouped by name (first ``=`` splits; the value may hold more)."""
    grouped: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise SelectionError(f"--key {item!r} must be name=value (the key attribute and its value)")
        values = grouped.setdefault(name.strip(), [])
        if value not in values:
            values.append(value)
    return tuple(KeyCondition(name, tuple(values)) for name, values in grouped.items())


def parse_filters(texts: Sequence[str]) -> tuple[Mapping[str, Any], ...]:
    """Filter patterns (JSON), refused as Lambda would refuse them at CreateEventSourceMapping."""
    try:
        patterns = parse_patterns(list(texts))
        check_patterns(patterns)
    except PatternError as e:
        raise SelectionError(f"--filter: {e}") from None
    return tuple(patterns)

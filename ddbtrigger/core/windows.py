"""Time windows of ``tail``/``replay``: ``--since``/``--until`` and which records fall inside.

A time is either a duration back from now (``90s``, ``10m``, ``2h``, ``1d``, or a combination written
largest unit first, ``1h30m``) or an ISO 8601 time with a zone (``2026-12-02T14:00:00Z``,
``2026-12-02T16:00:00+02:00``). A time without a zone is refused rather than guessed: replaying the
wrong two hours through a function is expensive, and "local or UTC?" is exactly the guess that gets it
wrong. A record belongs to a window by its ``ApproximateCreationDateTime`` (epoch seconds); the window
is half-open, ``since <= t < until``, so two windows that meet never share a record.

Pure: "now" is always passed in, so tests (and a resumed replay) decide what it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ddbtrigger.core import timetext
from ddbtrigger.core.events import epoch_seconds

_DURATION = re.compile(r"(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,9})s)?")
_UNIT_SECONDS = (86400, 3600, 60, 1)
EXAMPLES = "a duration back from now (90s, 10m, 2h, 1d, 1h30m) or an ISO 8601 time (2026-12-02T14:00:00Z)"


class WindowError(ValueError):
    """A ``--since``/``--until`` that is not a time, or a window that ends before it starts."""


def parse_duration(text: str) -> int | None:
    """Seconds of ``1d2h3m4s``-style text (units largest first, each at most once); None if not one."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or not any(match.groups()):
        return None
    return sum(int(n) * unit for n, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if n)


def parse_time(text: str, *, now: float, option: str = "--since") -> float:
    """Epoch seconds of a ``--since``/``--until`` value; ``WindowError`` names the option and the forms."""
    value = text.strip()
    if not value:
        raise WindowError(f"{option} needs a value: {EXAMPLES}")
    seconds = parse_duration(value)
    if seconds is not None:
        return now - seconds
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise WindowError(f"{option} {text!r} is not a time: use {EXAMPLES}") from None
    if moment.tzinfo is None:
        raise WindowError(f"{option} {text!r} has no time zone: add Z for UTC or an offset such as +02:00")
    return moment.timestamp()


@dataclass(frozen=True)
class TimeWindow:
    """``since <= t < until`` in epoch seconds; ``None`` leaves that side open."""

    since: float | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until < self.since:
            raise WindowError(
                f"--until ({iso(self.until)}) is before --since ({iso(self.since)}): the window is empty"
            )

    def contains(self, moment: float) -> bool:
        if self.since is not None and moment < self.since:
            return False
        return self.until is None or moment < self.until

    def contains_record(self, record: Mapping[str, Any]) -> bool:
        """By ``dynamodb.ApproximateCreationDateTime`` (a float, or boto3's datetime); a record without
        one is in no bounded window."""
        created = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
        if created is None:
            return self.since is None and self.until is None
        return self.contains(epoch_seconds(created))

    def is_past(self, moment: float) -> bool:
        """True once ``moment`` is at or after ``until``: a reader of this window can stop there."""
        return self.until is not None and moment >= self.until

    def closed(self, now: float) -> TimeWindow:
        """The window with an open ``until`` set to ``now``: what a replay fixes when it starts, so a
        resumed run covers the same records and not the ones written since."""
        return self if self.until is not None else TimeWindow(self.since, max(now, self.since or now))

    def as_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until}

    @classmethod
    def from_json(cls, data: Any) -> TimeWindow:
        if not isinstance(data, Mapping):
            raise WindowError("a window must be an object with since and until")
        bounds = [data.get("since"), data.get("until")]
        if not all(b is None or (isinstance(b, int | float) and not isinstance(b, bool)) for b in bounds):
            raise WindowError("a window's since and until must be epoch seconds or null")
        return cls(*(None if b is None else float(b) for b in bounds))

    def describe(self) -> str:
        """``2026-12-02T14:00:00Z .. 2026-12-02T16:00:00Z`` (an open side shows as ``…``)."""
        start = iso(self.since) if self.since is not None else "…"
        end = iso(self.until) if self.until is not None else "…"
        return f"{start} .. {end}"


def parse_window(since: str | None, until: str | None, *, now: float) -> TimeWindow:
    """The window of ``--since``/``--until`` (either may be absent)."""
    start = parse_time(since, now=now, option="--since") if since is not None else None
    end = parse_time(until, now=now, option="--until") if until is not None else None
    return TimeWindow(start, end)


def iso(moment: float) -> str:
    """Epoch seconds as ISO 8601 in UTC (``Z``), the house format (``core.timetext.iso``)."""
    return timetext.iso(datetime.fromtimestamp(moment, UTC))

"""Times and durations as text: one ISO-8601 writer and one duration writer for the whole tool."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

TimeSpec = Literal["auto", "seconds", "milliseconds"]


def iso(value: datetime, *, timespec: TimeSpec = "auto") -> str:
    """UTC ISO-8601 with a ``Z`` (a naive time is taken as UTC). ``auto``: seconds precision unless
    there are fractions, then milliseconds (as Lambda writes); fractions are truncated, never rounded."""
    moment = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)
    if timespec == "auto":
        timespec = "milliseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def human_duration(span: timedelta, *, compact: bool = False) -> str:
    """A short, rounded-down duration. Prose: ``45s``, ``12m``, ``5h 12m``, ``2d 3h``. ``compact``
    (a table cell, no spaces, leading units kept): ``45s``, ``7m05s``, ``12m``, ``3h12m``, ``2d4h``."""
    seconds = max(int(span.total_seconds()), 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if compact:
        if days:
            return f"{days}d{hours}h"
        if hours:
            return f"{hours}h{minutes:02d}m"
        if minutes:
            return f"{minutes}m{secs:02d}s" if minutes < 10 else f"{minutes}m"
        return f"{secs}s"
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"

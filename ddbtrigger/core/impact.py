"""Poison-pill impact: how long one bad record can block its shard, and what it costs.

The seed article's warning, as a number: with unbounded retries a record that always fails holds its
shard until it ages out (``maximum_record_age_in_seconds``, else the stream's 24 h retention); with
bounded retries it costs ``(maximum_retry_attempts + 1)`` invocations of every batch that holds it, times
the bisection depth (``ceil(log2(batch_size)) + 1`` when bisect is on, since each split retries a half
that still holds the record), each invocation up to the function's timeout. A bounded run can still be
cut short by the age limit, so the block is the smaller of the two.

With ``report_batch_item_failures`` a function can also *return* the record as failed instead of
raising: nothing is bisected then, and AWS delivers the record once more than the retries (recorded:
3 retries, the failing record delivered 5 times; the invoke that first reports it is not counted). The
worst of the two paths is the impact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ddbtrigger.core.spec import TriggerSpec

STREAM_RETENTION_SECONDS = 24 * 3600
MAX_FUNCTION_TIMEOUT_SECONDS = 900  # Lambda's ceiling: the bound when the function's timeout is unknown
UNBOUNDED = -1

Reaches = Literal["destination", "dropped"]


@dataclass(frozen=True)
class RetrySettings:
    """The mapping settings that decide a poison pill's fate (spec or live, AWS sentinels as -1)."""

    batch_size: int
    bisect_batch_on_function_error: bool
    maximum_retry_attempts: int
    maximum_record_age_in_seconds: int
    has_destination: bool
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class Impact:
    """The worst case for one bad record. ``max_invocations`` is None when nothing bounds it."""

    max_block_seconds: int
    max_invocations: int | None
    reaches: Reaches

    def as_json(self) -> dict[str, object]:
        return {
            "max_block_seconds": self.max_block_seconds,
            "max_invocations": self.max_invocations,
            "reaches": self.reaches,
        }


def bisection_depth(batch_size: int, *, bisect: bool) -> int:
    """How many batch sizes a record passes through as its batch is halved down to itself."""
    if not bisect or batch_size <= 1:
        return 1
    return math.ceil(math.log2(batch_size)) + 1


def age_limit_seconds(maximum_record_age_in_seconds: int) -> int:
    """How long a record can be retried at most: its age limit, never past the stream's retention."""
    if maximum_record_age_in_seconds == UNBOUNDED:
        return STREAM_RETENTION_SECONDS
    return min(maximum_record_age_in_seconds, STREAM_RETENTION_SECONDS)


def poison_pill_impact(settings: RetrySettings, *, function_timeout_seconds: int | None = None) -> Impact:
    """The longest one bad record blocks its shard, and how many invocations it costs."""
    age_limit = age_limit_seconds(settings.maximum_record_age_in_seconds)
    reaches: Reaches = "destination" if settings.has_destination else "dropped"
    if settings.maximum_retry_attempts == UNBOUNDED:
        return Impact(max_block_seconds=age_limit, max_invocations=None, reaches=reaches)
    depth = bisection_depth(settings.batch_size, bisect=settings.bisect_batch_on_function_error)
    invocations = (settings.maximum_retry_attempts + 1) * depth
    if settings.report_batch_item_failures:
        invocations = max(invocations, settings.maximum_retry_attempts + 2)
    timeout = function_timeout_seconds or MAX_FUNCTION_TIMEOUT_SECONDS
    return Impact(
        max_block_seconds=min(age_limit, invocations * timeout), max_invocations=invocations, reaches=reaches
    )


def duration_text(seconds: int) -> str:
    """A short upper bound people read at a glance: 45 s, 5 min, 1 h 30 min, 24 h, 7 d."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} min"
    hours, rest = divmod(seconds, 3600)
    if hours >= 48 and rest == 0 and hours % 24 == 0:
        return f"{hours // 24} d"
    minutes = math.ceil(rest / 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def impact_line(impact: Impact) -> str:
    """One line per trigger, as PRODUCT.md words it: 'a poison pill blocks shard ≤ 5 min, ≤ 28 invokes'."""
    invokes = "unbounded invokes" if impact.max_invocations is None else f"≤ {impact.max_invocations} invokes"
    then = "then the destination" if impact.reaches == "destination" else "then dropped"
    return f"a poison pill blocks shard ≤ {duration_text(impact.max_block_seconds)}, {invokes}, {then}"


def trigger_impact(trigger: TriggerSpec, *, function_timeout_seconds: int | None = None) -> Impact:
    """The impact of a declared trigger's settings (the function's timeout when known)."""
    mapping = trigger.mapping
    settings = RetrySettings(
        batch_size=mapping.batch_size,
        bisect_batch_on_function_error=mapping.bisect_batch_on_function_error,
        maximum_retry_attempts=mapping.maximum_retry_attempts,
        maximum_record_age_in_seconds=mapping.maximum_record_age_in_seconds,
        has_destination=trigger.on_failure is not None,
        report_batch_item_failures=mapping.report_batch_item_failures,
    )
    return poison_pill_impact(settings, function_timeout_seconds=function_timeout_seconds)

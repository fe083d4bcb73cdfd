"""Health hints: what an on-call engineer should look at first, one line each.

``status`` shows many fields; these hints turn the few that mean trouble into a sentence with the next
step. They are pure functions of facts already read (no I/O), so every rule is tested without AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.failures import STREAM_RETENTION
from ddbtrigger.core.live import SETTLED_STATES
from ddbtrigger.core.timetext import human_duration

Level = Literal["error", "warning", "info"]

MAX_READERS_PER_SHARD = 2
ITERATOR_AGE_WARNING = timedelta(hours=1)


@dataclass(frozen=True)
class Hint:
    """One line of advice: a stable code, how bad it is, and what to do."""

    code: str
    level: Level
    message: str

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "level": self.level, "message": self.message}


@dataclass(frozen=True)
class HealthFacts:
    """What the hints are computed from (``None`` = not known, never "zero").

    ``oldest_failure_at`` is when the oldest failure in the destination was written (an S3 object's
    LastModified, or now minus SQS's ApproximateAgeOfOldestMessage); the stream records it points to
    arrived before that, so they are trimmed no later than 24 h after it.
    """

    table_present: bool = True
    function_present: bool = True
    stream_enabled: bool = True
    latest_stream_arn: str | None = None
    mapping_present: bool = True
    mapping_state: str | None = None
    state_transition_reason: str | None = None
    last_processing_result: str | None = None
    mapping_stream_arn: str | None = None
    extra_stale_mappings: int = 0
    readers: int | None = None
    destination_type: str | None = None
    destination_exists: bool = True
    destination_depth: int | None = None
    destination_held: int = 0
    oldest_failure_at: datetime | None = None
    drift: bool = False
    iterator_age: timedelta | None = None
    alarms_firing: tuple[str, ...] = ()  # names of the trigger's alarms in ALARM


def hints(facts: HealthFacts, now: datetime) -> list[Hint]:
    """Every hint that applies, most severe first."""
    if not facts.table_present:
        return [Hint("table-missing", "error", "the table does not exist: check the spec's table and region")]
    found = [
        *_function_hints(facts),
        *_stream_hints(facts),
        *_mapping_hints(facts),
        *_destination_hints(facts, now),
        *_reader_hints(facts),
        *_drift_hints(facts),
        *_alarm_hints(facts),
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(found, key=lambda h: order[h.level])


def attention(facts: HealthFacts) -> list[str]:
    """Why a person must look at this trigger (``status`` exits 3 when any trigger has a reason).

    A part missing, a mapping not ``Enabled`` or with a ``PROBLEM`` result or on an old stream, drift,
    failures waiting in the destination, failures held invisible by another reader, an alarm in ALARM.
    """
    checks = [
        (not facts.table_present, "table missing"),
        (not facts.function_present, "function missing"),
        (not facts.stream_enabled, "stream not enabled"),
        (not facts.mapping_present, "mapping missing"),
        (facts.mapping_present and facts.mapping_state != "Enabled", f"mapping {facts.mapping_state}"),
        ((facts.last_processing_result or "").upper().startswith("PROBLEM"), "last result PROBLEM"),
        (not facts.destination_exists, "destination missing"),
        ((facts.destination_depth or 0) > facts.destination_held, "failures waiting"),
        (facts.destination_held > 0, "failures held"),
        (facts.drift, "drift"),
    ]
    found = [reason for failing, reason in checks if failing]
    return found + [f"alarm {name} in ALARM" for name in facts.alarms_firing]


def _alarm_hints(facts: HealthFacts) -> list[Hint]:
    return [
        Hint("alarm", "warning", f"alarm {name} is in ALARM: see its metric (status --metrics)")
        for name in facts.alarms_firing
    ]


def _function_hints(facts: HealthFacts) -> list[Hint]:
    if facts.function_present:
        return []
    return [
        Hint("function-missing", "error", "the function does not exist: deploy it (ddbtrigger never does)")
    ]


def _stream_hints(facts: HealthFacts) -> list[Hint]:
    if facts.stream_enabled:
        return []
    return [Hint("stream-disabled", "error", "the table has no enabled stream: run `ddbtrigger apply`")]


def _mapping_hints(facts: HealthFacts) -> list[Hint]:
    if not facts.mapping_present:
        return [
            Hint(
                "mapping-missing",
                "error",
                "no event source mapping reads this stream for the function: "
                "run `ddbtrigger plan`, then `apply`",
            )
        ]
    out: list[Hint] = []
    state = facts.mapping_state or ""
    if state == "Disabled":
        out.append(
            Hint(
                "mapping-disabled",
                "warning",
                "mapping is Disabled: records wait in the stream and are "
                "trimmed after 24 h; set mapping.enabled: true and apply",
            )
        )
    elif state and state not in SETTLED_STATES:
        reason = f" ({facts.state_transition_reason})" if facts.state_transition_reason else ""
        out.append(Hint("mapping-transition", "info", f"mapping is {state}{reason}: rerun status shortly"))
    result = facts.last_processing_result or ""
    if result.upper().startswith("PROBLEM"):
        out.append(
            Hint(
                "last-result-problem",
                "error",
                f"last processing result: {result}: check the function's logs and permissions",
            )
        )
    if facts.extra_stale_mappings:
        out.append(
            Hint(
                "stale-mappings",
                "warning",
                f"{facts.extra_stale_mappings} more mapping(s) of this function read an old stream of the "
                "table: `ddbtrigger apply` deletes them",
            )
        )
    stale = facts.mapping_stream_arn and facts.latest_stream_arn
    if stale and facts.mapping_stream_arn != facts.latest_stream_arn:
        out.append(
            Hint(
                "stale-stream",
                "error",
                "mapping reads an old stream, not the table's latest: it "
                "sees no new records; `ddbtrigger apply --allow-replace` rebinds it",
            )
        )
    if facts.iterator_age is not None and facts.iterator_age >= ITERATOR_AGE_WARNING:
        out.append(
            Hint(
                "iterator-age",
                "warning",
                f"IteratorAge is {human_duration(facts.iterator_age)}: "
                "the function falls behind; the stream trims records after 24 h",
            )
        )
    return out


def _destination_hints(facts: HealthFacts, now: datetime) -> list[Hint]:
    if not facts.destination_exists:
        return [
            Hint(
                "destination-missing",
                "error",
                "the failure destination does not exist: failed batches have nowhere to go; run `ddbtrigger apply`",
            )
        ]
    depth = facts.destination_depth
    if not depth:
        return []
    noun = "failure" if depth == 1 else "failures"
    message = f"the failure destination holds {depth} {noun}"
    if facts.destination_held:
        message += (
            f" ({facts.destination_held} held invisible by another reader: a redrive or inspect-dlq "
            "running, or a killed run's hold)"
        )
    level: Level = "warning"
    if facts.oldest_failure_at is not None:
        age = max(now - facts.oldest_failure_at, timedelta(0))
        left = STREAM_RETENTION - age
        message += f", the oldest {human_duration(age)} old"
        if facts.destination_type and not destination_kind(facts.destination_type).holds_pointers:
            message += " (S3 keeps its records)"
        elif left > timedelta(0):
            message += f"; its records are trimmed from the stream within {human_duration(left)}"
        else:
            level = "error"  # SQS/SNS hold only pointers: once trimmed, the records are gone
            message += "; its records may already be trimmed from the stream"
    return [Hint("destination-not-empty", level, message + ": `ddbtrigger inspect-dlq`, then `redrive`")]


def _reader_hints(facts: HealthFacts) -> list[Hint]:
    if facts.readers is None or facts.readers <= MAX_READERS_PER_SHARD:
        return []
    return [
        Hint(
            "too-many-readers",
            "warning",
            f"{facts.readers} mappings read this stream: AWS throttles "
            f"above {MAX_READERS_PER_SHARD} readers per shard (a redrive is one more)",
        )
    ]


def _drift_hints(facts: HealthFacts) -> list[Hint]:
    if not facts.drift or not facts.mapping_present:
        return []
    return [Hint("drift", "info", "live differs from the spec: `ddbtrigger plan` shows how")]

"""``audit``: pure rules over what was observed of one live mapping, and the order people read them in.

A mapping found by ``audit`` has no spec: its lint findings come from ``core.lint`` run on the live
configuration (the same model ``export`` builds), and its health findings from the rules here, over an
``ObservedMapping`` the use case fills from describe/list calls. ``None`` in an observation means "could
not be read" and never produces a finding, so an unreadable destination is not reported as gone.

Health codes live in their own range, DDBT1xx, beside the lint codes DDBT0xx:

========  =======  ==================================================================
DDBT101   error    the function no longer exists
DDBT102   error    the table no longer exists
DDBT103   error    the table's stream was disabled under the mapping
DDBT104   error    the stream was replaced: the mapping reads an old stream ARN
DDBT105   error    the failure destination no longer exists
DDBT106   warning  failures wait at the destination
DDBT107   error    the last processing result is a PROBLEM
DDBT108   warning  the mapping is Disabled (info while it is in transition)
DDBT109   warning  iterator age at least 1 h (error from 12 h: the stream trims at 24 h)
DDBT110   info     the live settings could not be read as a trigger (so no lint, no impact)
========  =======  ==================================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.destinations import type_of_arn
from ddbtrigger.core.health import ITERATOR_AGE_WARNING
from ddbtrigger.core.impact import Impact
from ddbtrigger.core.lint import Level
from ddbtrigger.core.live import SETTLED_STATES
from ddbtrigger.core.timetext import human_duration

LEVEL_RANK: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
ITERATOR_AGE_ERROR = timedelta(hours=12)
HEALTH_CODES = tuple(f"DDBT{n}" for n in range(101, 111))


@dataclass(frozen=True)
class AuditFinding:
    code: str
    level: Level
    message: str

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level, "message": self.message}


@dataclass(frozen=True)
class ObservedMapping:
    """One live DynamoDB-stream mapping and what was read around it (``None`` = unknown)."""

    account: str
    region: str
    uuid: str
    table: str
    function: str
    state: str
    event_source_arn: str
    state_transition_reason: str | None = None
    last_processing_result: str | None = None
    table_present: bool | None = None
    stream_enabled: bool | None = None
    latest_stream_arn: str | None = None
    function_present: bool | None = None
    destination_arn: str | None = None
    destination_present: bool | None = None
    failures_waiting: int | None = None
    iterator_age_ms: float | None = None


def is_dynamodb_stream(arn: str) -> bool:
    """Whether an EventSourceArn is a DynamoDB stream (``arn:aws:dynamodb:…:table/T/stream/…``)."""
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[2] == "dynamodb" and "/stream/" in parts[5]


def stream_table_name(arn: str) -> str:
    """The table name in a stream ARN."""
    return arn.split(":table/", 1)[-1].split("/stream/", 1)[0]


def destination_key(destination_arn: str, uuid: str) -> tuple[str, str]:
    """One failure destination's identity: a queue or topic is shared by its mappings, but each mapping
    writes to an S3 bucket under its own ``aws/lambda/<uuid>/``, so there the mapping is part of it."""
    found = type_of_arn(destination_arn)
    return destination_arn, (uuid if found and not destination_kind(found).holds_pointers else "")


@dataclass(frozen=True)
class Rule:
    """One health rule: ``code`` at ``level`` saying ``text`` when ``when`` holds of the observation
    (``text`` a function when the message names parts of it), as ``core.lint``'s ``Check`` rows."""

    code: str
    level: Level
    when: Callable[[ObservedMapping], bool]
    text: str | Callable[[ObservedMapping], str]

    def finding(self, m: ObservedMapping) -> AuditFinding | None:
        if not self.when(m):
            return None
        return AuditFinding(self.code, self.level, self.text if isinstance(self.text, str) else self.text(m))


def _age(m: ObservedMapping) -> timedelta:
    return timedelta(milliseconds=m.iterator_age_ms or 0)


def _age_text(m: ObservedMapping) -> str:
    return (
        f"IteratorAge is {human_duration(_age(m))}: the function falls behind; the stream trims "
        "records after 24 h"
    )


# The health rules, in report order, in groups: the first rule of a group that holds is the group's
# finding (a gone table says nothing of its stream). The ``is False``/``is not None`` tests keep an
# unknown fact (None) from ever making a finding.
RULES: tuple[tuple[Rule, ...], ...] = (
    (
        Rule(
            "DDBT101",
            "error",
            lambda m: m.function_present is False,
            lambda m: (
                f"function {m.function} no longer exists: the mapping invokes nothing and its "
                "records are trimmed after 24 h; redeploy the function or delete the mapping"
            ),
        ),
    ),
    (
        Rule(
            "DDBT102",
            "error",
            lambda m: m.table_present is False,
            lambda m: f"table {m.table} no longer exists: the mapping reads nothing; delete it",
        ),
        Rule(
            "DDBT103",
            "error",
            lambda m: m.stream_enabled is False,
            lambda m: f"the stream of table {m.table} was disabled: the mapping reads no new records",
        ),
        Rule(
            "DDBT104",
            "error",
            lambda m: bool(m.latest_stream_arn) and m.latest_stream_arn != m.event_source_arn,
            lambda m: (
                f"the stream of table {m.table} was replaced: the mapping reads an old stream and "
                "sees no new records; recreate it on the latest stream"
            ),
        ),
    ),
    (
        Rule(
            "DDBT108",
            "warning",
            lambda m: m.state == "Disabled",
            "mapping is Disabled: records wait in the stream and are trimmed after 24 h",
        ),
        Rule(
            "DDBT108",
            "info",
            lambda m: m.state not in SETTLED_STATES,
            lambda m: (
                f"mapping is {m.state}"
                + (f" ({m.state_transition_reason})" if m.state_transition_reason else "")
            ),
        ),
    ),
    (
        Rule(
            "DDBT107",
            "error",
            lambda m: (m.last_processing_result or "").upper().startswith("PROBLEM"),
            lambda m: (
                f"last processing result: {m.last_processing_result}: check the function's logs and role"
            ),
        ),
    ),
    (
        Rule(
            "DDBT105",
            "error",
            lambda m: bool(m.destination_arn) and m.destination_present is False,
            lambda m: (
                f"failure destination {(m.destination_arn or '').rsplit(':', 1)[-1]} no longer exists: "
                "failed batches have nowhere to go"
            ),
        ),
        Rule(
            "DDBT106",
            "warning",
            lambda m: bool(m.failures_waiting),
            lambda m: (
                f"{m.failures_waiting} {'failure waits' if m.failures_waiting == 1 else 'failures wait'} "
                "at the failure destination: `ddbtrigger inspect-dlq`, then `redrive`"
            ),
        ),
    ),
    (
        Rule(
            "DDBT109",
            "error",
            lambda m: m.iterator_age_ms is not None and _age(m) >= ITERATOR_AGE_ERROR,
            _age_text,
        ),
        Rule(
            "DDBT109",
            "warning",
            lambda m: m.iterator_age_ms is not None and _age(m) >= ITERATOR_AGE_WARNING,
            _age_text,
        ),
    ),
)


def health_findings(m: ObservedMapping) -> list[AuditFinding]:
    """Every health rule that applies to ``m`` (unknown facts are skipped, never guessed)."""
    found = (next(filter(None, (rule.finding(m) for rule in group)), None) for group in RULES)
    return [f for f in found if f is not None]


@dataclass(frozen=True)
class MappingAudit:
    """One mapping's audit: what was observed, every finding (lint and health) and its impact."""

    observed: ObservedMapping
    findings: tuple[AuditFinding, ...] = ()
    impact: Impact | None = None

    @property
    def worst(self) -> int:
        return min((LEVEL_RANK[f.level] for f in self.findings), default=len(LEVEL_RANK))

    def as_json(self) -> dict[str, Any]:
        m = self.observed
        return {
            "account": m.account,
            "region": m.region,
            "uuid": m.uuid,
            "table": m.table,
            "function": m.function,
            "state": m.state,
            "findings": [f.as_json() for f in self.findings],
            "impact": self.impact.as_json() if self.impact else None,
            "failures_waiting": m.failures_waiting,
        }


def ordered_findings(findings: Iterable[AuditFinding]) -> tuple[AuditFinding, ...]:
    """Most severe first, then by code."""
    return tuple(sorted(findings, key=lambda f: (LEVEL_RANK[f.level], f.code)))


def sort_audits(audits: Iterable[MappingAudit]) -> list[MappingAudit]:
    """Worst mapping first: by its worst level, then how many findings it has at each level."""

    def key(a: MappingAudit) -> tuple[Any, ...]:
        counts = Counter(f.level for f in a.findings)
        m = a.observed
        return (
            a.worst,
            -counts["error"],
            -counts["warning"],
            -counts["info"],
            m.account,
            m.region,
            m.table,
            m.function,
            m.uuid,
        )

    return sorted(audits, key=key)


def at_or_above(audits: Sequence[MappingAudit], fail_on: Level) -> bool:
    """Whether any finding is at least as severe as ``fail_on`` (exit 3)."""
    limit = LEVEL_RANK[fail_on]
    return any(LEVEL_RANK[f.level] <= limit for a in audits for f in a.findings)


@dataclass(frozen=True)
class Unreadable:
    """A profile/region (or part of one) that could not be read, and why."""

    profile: str | None
    region: str
    reason: str
    account: str | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "account": self.account,
            "profile": self.profile,
            "region": self.region,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class AuditReport:
    """Every mapping audited (sorted), the regions whose mappings could be listed, what could not be read."""

    mappings: tuple[MappingAudit, ...]
    regions: tuple[str, ...] = ()
    unreadable: tuple[Unreadable, ...] = field(default_factory=tuple)

    def summary(self) -> dict[str, Any]:
        levels = Counter(f.level for a in self.mappings for f in a.findings)
        return {
            "mappings": len(self.mappings),
            "regions": len(self.regions),
            "errors": levels["error"],
            "warnings": levels["warning"],
            "infos": levels["info"],
            "failures_waiting": sum(self._waiting().values()),
            "unreadable": len(self.unreadable),
        }

    def _waiting(self) -> dict[tuple[str, str], int]:
        """Failures per destination, each destination counted once however many mappings share it."""
        return {
            destination_key(m.destination_arn, m.uuid): m.failures_waiting
            for m in (a.observed for a in self.mappings)
            if m.destination_arn and m.failures_waiting
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "mappings": [a.as_json() for a in self.mappings],
            "summary": self.summary(),
            "unreadable": [u.as_json() for u in self.unreadable],
        }

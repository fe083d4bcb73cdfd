"""Redrive bookkeeping, with no I/O: order, the per-shard rule, judging an invoke, the report.

Lambda processes a shard in order and a parent shard before its children, so a redrive must too:
failures are grouped by shard, sorted by starting sequence number (as integers: their lengths vary),
and a shard's later failures wait while an earlier one still fails (unless the user says
``--keep-going``). An invoke counts as delivered only when it has no ``FunctionError`` and reports no
``batchItemFailures``: Lambda answers ``StatusCode: 200`` even when the function raised, and a plain
status check is how other tools lose records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from ddbtrigger.core.events import sequence_key

MAX_ERROR_CHARS = 300
S3_LEASE_PREFIX = "ddbtrigger/leases/"
"""Where redrive keeps its S3 leases, at the bucket root: Lambda writes only under ``aws/lambda/``."""


class Status(StrEnum):
    """A failure's outcome, as ``redrive --output json`` spells it."""

    REDRIVEN = "redriven"
    FAILED = "failed"
    EXPIRED = "expired"
    MALFORMED = "malformed"
    DRY_RUN = "dry-run"
    DELIVERED_KEPT = "delivered-kept"
    """Delivered to a local handler without ``--delete-on-success``: the failure stays."""
    NOT_ATTEMPTED = "not-attempted"
    """Left for a later run: behind an earlier failure of its shard that still fails, or interrupted."""


class FailureRef(Protocol):
    """What ordering needs of a parsed failure (``core.failures.Failure`` has these)."""

    @property
    def id(self) -> str: ...

    @property
    def shard_id(self) -> str: ...

    @property
    def start_sequence_number(self) -> str: ...

    @property
    def end_sequence_number(self) -> str: ...

    @property
    def stream_arn(self) -> str: ...


F = TypeVar("F", bound=FailureRef)


@dataclass(frozen=True, order=True)
class ShardKey:
    """A shard is only unique within its stream (a re-enabled stream reuses nothing, but moto does)."""

    stream_arn: str
    shard_id: str


@dataclass(frozen=True)
class ShardWork(Generic[F]):
    """One shard's failures in delivery order; ``after`` is a parent shard that must finish first."""

    key: ShardKey
    failures: tuple[F, ...]
    after: ShardKey | None = None


def failure_order(failure: FailureRef) -> tuple[int, int, str]:
    """Sort key within a shard: start, then end sequence number (integers), then id for stability."""
    return (
        sequence_key(failure.start_sequence_number),
        sequence_key(failure.end_sequence_number),
        failure.id,
    )


def plan_shards(
    failures: Iterable[F], *, parents: Mapping[ShardKey, str | None] | None = None, limit: int | None = None
) -> list[ShardWork[F]]:
    """Group by shard, order within shards, order shards parents first; keep the first ``limit``.

    ``parents`` maps a shard to its parent shard id (DescribeStream's ``ParentShardId``); shards with
    unknown lineage are treated as roots. Across streams of one table the older stream (its ARN ends
    with an ISO timestamp label, so it sorts first) comes first.
    """
    groups: dict[ShardKey, list[F]] = defaultdict(list)
    for failure in failures:
        groups[ShardKey(failure.stream_arn, failure.shard_id)].append(failure)
    lineage = dict(parents or {})
    order = _parents_first(sorted(groups), lineage)
    budget = limit if limit is not None else sum(len(g) for g in groups.values())
    work: list[ShardWork[F]] = []
    for key in order:
        if budget <= 0:
            break
        chosen = sorted(groups[key], key=failure_order)[:budget]
        budget -= len(chosen)
        work.append(ShardWork(key, tuple(chosen), _nearest_ancestor(key, lineage, set(groups))))
    kept = {w.key for w in work}
    return [w if w.after in kept else ShardWork(w.key, w.failures, None) for w in work]


def _parent_key(key: ShardKey, lineage: Mapping[ShardKey, str | None]) -> ShardKey | None:
    parent = lineage.get(key)
    return ShardKey(key.stream_arn, parent) if parent else None


def _nearest_ancestor(
    key: ShardKey, lineage: Mapping[ShardKey, str | None], present: Collection[ShardKey]
) -> ShardKey | None:
    """The closest ancestor that has failures of its own (lineage may skip shards without any)."""
    seen = {key}
    parent = _parent_key(key, lineage)
    while parent is not None and parent not in seen:
        if parent in present:
            return parent
        seen.add(parent)
        parent = _parent_key(parent, lineage)
    return None


def _parents_first(keys: Sequence[ShardKey], lineage: Mapping[ShardKey, str | None]) -> list[ShardKey]:
    """A stable topological order: each shard after its ancestors, otherwise in sorted order."""
    present = set(keys)
    placed: list[ShardKey] = []
    done: set[ShardKey] = set()

    def place(key: ShardKey, trail: frozenset[ShardKey]) -> None:
        if key in done or key in trail:
            return
        ancestor = _nearest_ancestor(key, lineage, present)
        if ancestor is not None:
            place(ancestor, trail | {key})
        done.add(key)
        placed.append(key)

    for key in keys:
        place(key, frozenset())
    return placed


@dataclass
class ShardLedger:
    """The per-shard rule: after a failure that still fails, the shard's later failures wait."""

    keep_going: bool = False
    blocked_by: str | None = None

    def gate(self) -> str | None:
        """Why the next failure of this shard must not be attempted now, or None to go ahead."""
        if self.blocked_by is None:
            return None
        return (
            f"not attempted: earlier failure {self.blocked_by} of this shard is still failing "
            "(order is kept; fix it first, or pass --keep-going)"
        )

    def note(self, failure_id: str, status: Status) -> None:
        """Record an outcome. Expired records are gone for good, so they do not hold the shard."""
        if status is Status.FAILED and not self.keep_going and self.blocked_by is None:
            self.blocked_by = failure_id

    def block(self, reason_id: str) -> None:
        """Hold the whole shard (its parent shard is still failing)."""
        if not self.keep_going and self.blocked_by is None:
            self.blocked_by = reason_id


@dataclass(frozen=True)
class Fetched:
    """A failure's records as read back: ``expired`` when some are gone, ``extra`` beyond the batch."""

    records: Sequence[Mapping[str, Any]]
    expired: bool = False
    extra: int = 0


@dataclass(frozen=True)
class InvokeResponse:
    """What a synchronous invoke answered (Lambda or a local handler)."""

    status_code: int
    function_error: str | None
    payload: bytes


@dataclass(frozen=True)
class Verdict:
    """Whether the records were delivered; ``failed_items`` from a partial batch response."""

    delivered: bool
    error: str | None = None
    failed_items: tuple[str, ...] = ()


def judge(response: InvokeResponse, *, sequence_numbers: Collection[str] = ()) -> Verdict:
    """Delivered only with a 2xx status, no ``FunctionError`` and no (or an empty) ``batchItemFailures``.

    A malformed partial batch response is a whole-batch failure, as Lambda treats it; so is a payload
    that is not JSON (a Lambda runtime always answers JSON, so something is wrong).
    """
    if response.function_error:
        return Verdict(
            False, _clip(f"function error ({response.function_error}): {_error_summary(response.payload)}")
        )
    if not 200 <= response.status_code < 300:
        return Verdict(False, f"invoke answered status {response.status_code}")
    try:
        body = json.loads(response.payload) if response.payload.strip() else None
    except (ValueError, UnicodeDecodeError):
        return Verdict(False, "the function's response is not JSON; treated as a failed batch")
    if not isinstance(body, dict) or body.get("batchItemFailures") is None:
        return Verdict(True)
    return _judge_items(body["batchItemFailures"], sequence_numbers)


def _judge_items(items: Any, sequence_numbers: Collection[str]) -> Verdict:
    if not isinstance(items, list):
        return Verdict(False, "malformed batchItemFailures (not a list); treated as a failed batch")
    if not items:
        return Verdict(True)
    ids: list[str] = []
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or not ident:
            return Verdict(
                False, "malformed batchItemFailures entry (no itemIdentifier); treated as a failed batch"
            )
        ids.append(ident)
    unknown = [i for i in ids if sequence_numbers and i not in sequence_numbers]
    first = min(ids, key=_seq_or_zero)
    message = f"the function reported {len(ids)} failed record(s) (batchItemFailures), first {first}"
    if unknown:
        message += f"; {len(unknown)} not in the batch"
    return Verdict(False, message, tuple(ids))


def _seq_or_zero(ident: str) -> int:
    return sequence_key(ident) if ident.isdigit() else 0


def _error_summary(payload: bytes) -> str:
    """``errorType: errorMessage`` of Lambda's error payload, or the raw text."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return payload.decode("utf-8", "replace").strip() or "(no payload)"
    if isinstance(body, dict) and ("errorMessage" in body or "errorType" in body):
        return f"{body.get('errorType', 'Error')}: {body.get('errorMessage', '')}"
    return json.dumps(body)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


@dataclass(frozen=True)
class Decision:
    """What to do with a failure after its attempt: the status to report, and whether to delete it."""

    status: Status
    delete: bool
    error: str | None = None


def decide(
    *,
    verdict: Verdict | None,
    expired: bool,
    dry_run: bool = False,
    drop_expired: bool = False,
    may_delete: bool = True,
) -> Decision:
    """Settle one failure. ``verdict`` is None when nothing was invoked (no records left to send).

    Deletion happens only after delivery: an expired failure is kept unless ``drop_expired`` (and then
    only when whatever records remained were delivered); ``may_delete`` is False for a local handler
    without ``--delete-on-success``.
    """
    if dry_run:
        return Decision(
            Status.EXPIRED if expired else Status.DRY_RUN, False, EXPIRED_KEPT if expired else None
        )
    if verdict is not None and not verdict.delivered:
        return Decision(Status.FAILED, False, verdict.error)
    if expired:
        if not drop_expired:
            return Decision(Status.EXPIRED, False, EXPIRED_KEPT)
        return Decision(Status.EXPIRED, may_delete, EXPIRED_DROPPED if may_delete else EXPIRED_KEPT)
    if not may_delete:
        return Decision(Status.DELIVERED_KEPT, False, KEPT_LOCAL)
    return Decision(Status.REDRIVEN, True, None)


EXPIRED_KEPT = "records trimmed from the stream; failure kept (pass --drop-expired to remove it)"
EXPIRED_DROPPED = "records trimmed from the stream; failure removed (--drop-expired)"
KEPT_LOCAL = "delivered to the local handler; failure kept (pass --delete-on-success to remove it)"


@dataclass(frozen=True)
class FailureResult:
    """One line of the report. ``as_json`` gives exactly the documented fields."""

    id: str
    trigger: str
    status: Status
    records: int = 0
    error: str | None = None
    shard_id: str | None = None
    deleted: bool = False
    extra_records: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "trigger": self.trigger,
            "status": self.status.value,
            "records": self.records,
            "error": self.error,
        }


@dataclass(frozen=True)
class RedriveReport:
    """All results, in plan order, with the counts of ``redrive --output json``.

    Every failure touched has exactly one status, so the per-status counts add up to the results;
    ``held`` counts failures another reader held (not seen, so not in the results), and ``kept`` is how
    many failures of the results are still in the destination after the run.
    """

    results: tuple[FailureResult, ...] = field(default_factory=tuple)
    held: int = 0
    interrupted: bool = False

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def records(self) -> int:
        """Records delivered (by redriven failures)."""
        return sum(r.records for r in self.results if r.status is Status.REDRIVEN)

    @property
    def kept(self) -> int:
        """Failures of this run still in the destination (dry runs and malformed included)."""
        return sum(1 for r in self.results if not r.deleted)

    @property
    def dropped_expired(self) -> int:
        """Expired failures removed with ``--drop-expired``."""
        return sum(1 for r in self.results if r.status is Status.EXPIRED and r.deleted)

    @property
    def left_failing(self) -> bool:
        """Exit 1: some failure is still failing, not attempted, or expired and kept (not dropped)."""
        return any(
            r.status in (Status.FAILED, Status.NOT_ATTEMPTED)
            or (r.status is Status.EXPIRED and not r.deleted)
            for r in self.results
        )

    @property
    def possible_duplicates(self) -> int:
        return sum(r.extra_records for r in self.results)

    def as_json(self) -> dict[str, Any]:
        """The documented keys first (``failed`` is only the attempts that still fail), then the rest."""
        return {
            "redriven": self.count(Status.REDRIVEN),
            "records": self.records,
            "failed": self.count(Status.FAILED),
            "expired": self.count(Status.EXPIRED),
            "malformed": self.count(Status.MALFORMED),
            "not_attempted": self.count(Status.NOT_ATTEMPTED),
            "delivered_kept": self.count(Status.DELIVERED_KEPT),
            "dry_run": self.count(Status.DRY_RUN),
            "held": self.held,
            "kept": self.kept,
            "expired_dropped": self.dropped_expired,
            "interrupted": self.interrupted,
            "results": [r.as_json() for r in self.results],
        }

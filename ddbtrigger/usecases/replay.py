"""``replay --engine local``: deliver a time window's records again, as the mapping would, resumably.

Plan: read every shard (lineage order) through the shared shard readers, keep the records the window
and selection pick (``core.selection``), and drop those the checkpoint already acknowledged. Run: a
shard starts once its parent is delivered, so separate lineages and sibling shards (the children of one
parent, as a partition split leaves them) go in parallel, ``concurrency`` shards at a time; a shard's records go in its mapping's batches (``core.batching``), each invoked through the
redrive gateway's invoker and judged by ``core.redrive.judge``, exactly as redrive does. After every
batch the acknowledged position is saved (``usecases.checkpoint.CheckpointFile``) before the next one
goes, so a killed run re-sends at most the batch in flight. A batch that is not fully delivered stops
its shard and the shard's descendants (order); those are "not attempted". Ctrl-C lets the batches in flight finish, then the
report says ``interrupted``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ddbtrigger.core.batching import batches
from ddbtrigger.core.checkpoint import Checkpoint, ReplayIdentity, acknowledged_through
from ddbtrigger.core.redrive import InvokeResponse, Verdict
from ddbtrigger.core.selection import Selection
from ddbtrigger.core.shards import Shard, lineage, walk
from ddbtrigger.usecases.stream_target import StreamTarget
from ddbtrigger.usecases.tail import Record, StreamSource, read_shard

CHECKPOINT_DIR = ".ddbtrigger"


class ReplayGateway(StreamSource, Protocol):
    """The stream's reads and the invoke (thread-safe: chains run in parallel)."""

    def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse: ...


class CheckpointStore(Protocol):
    def save(self, checkpoint: Checkpoint) -> None: ...

    def remove(self) -> None: ...


@dataclass(frozen=True)
class ShardPlan:
    """One shard's records still to send, and how many the checkpoint already acknowledged."""

    shard_id: str
    records: list[Record]
    skipped: int = 0
    parent_id: str | None = None


@dataclass
class ShardOutcome:
    shard_id: str
    delivered: int = 0
    failed: int = 0
    not_attempted: int = 0
    skipped: int = 0
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "shard_id": self.shard_id,
            "delivered": self.delivered,
            "failed": self.failed,
            "not_attempted": self.not_attempted,
            "skipped_by_checkpoint": self.skipped,
            "error": self.error,
        }


@dataclass
class ReplayReport:
    """The counts add up: ``selected = delivered + failed + not_attempted + skipped_by_checkpoint``."""

    trigger: str
    function: str
    window: str
    shards: list[ShardOutcome]
    dry_run: bool = False
    interrupted: bool = False
    invokes: int = 0
    checkpoint: str | None = None
    checkpoint_kept: bool = False

    def total(self, name: str) -> int:
        return sum(int(getattr(s, name)) for s in self.shards)

    @property
    def left(self) -> int:
        """Records not delivered (failed or not attempted): the run must say so (exit 1)."""
        return self.total("failed") + self.total("not_attempted")

    def as_json(self) -> dict[str, Any]:
        counts = {k: self.total(k) for k in ("delivered", "failed", "not_attempted")}
        skipped = self.total("skipped")
        return {
            "trigger": self.trigger,
            "function": self.function,
            "window": self.window,
            "dry_run": self.dry_run,
            "selected": sum(counts.values()) + skipped,
            **counts,
            "skipped_by_checkpoint": skipped,
            "invokes": self.invokes,
            "interrupted": self.interrupted,
            "checkpoint": self.checkpoint,
            "checkpoint_kept": self.checkpoint_kept,
            "shards": [s.as_json() for s in self.shards],
        }


def identity_of(target: StreamTarget, selection: Selection, function: str) -> ReplayIdentity:
    """What makes two runs the same replay (``selection.window`` must be closed already)."""
    return ReplayIdentity(target.stream_arn, selection.window, function, selection.criteria_json())


def default_checkpoint_path(target: StreamTarget, identity: ReplayIdentity, *, cwd: Path) -> Path:
    """``.ddbtrigger/replay-<trigger>-<hash>.json``: a rerun of the same window finds it."""
    digest = hashlib.sha256(json.dumps(identity.as_json(), sort_keys=True).encode()).hexdigest()[:12]
    return cwd / CHECKPOINT_DIR / f"replay-{target.name}-{digest}.json"


def plan(
    source: StreamSource,
    stream_arn: str,
    selection: Selection,
    checkpoint: Checkpoint,
    *,
    readers: int = 16,
) -> list[list[ShardPlan]]:
    """Per lineage chain (parents first), each shard's selected records not yet acknowledged.

    Up to ``readers`` shards are read at once: each shard's reads are paced on their own (AWS's limit
    is per shard), so reading one shard after the other would only add up the pauses."""
    chains = [walk([root]) for root in lineage(source.shards(stream_arn))]
    shards = [shard for chain in chains for shard in chain]

    def one(shard: Shard) -> ShardPlan:
        chosen = [
            r
            for page in read_shard(source, stream_arn, shard, until=selection.window.until)
            for r in page
            if selection.matches(r)
        ]
        pending = checkpoint.pending(shard.shard_id, chosen)
        return ShardPlan(shard.shard_id, pending, len(chosen) - len(pending), shard.parent_shard_id)

    with ThreadPoolExecutor(max_workers=max(1, min(readers, len(shards) or 1))) as pool:
        plans = dict(zip((s.shard_id for s in shards), pool.map(one, shards), strict=True))
    return [[plans[shard.shard_id] for shard in chain] for chain in chains]


@dataclass
class _Run:
    gateway: ReplayGateway
    function: str
    batch_size: int
    store: CheckpointStore | None
    checkpoint: Checkpoint
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    save_lock: threading.Lock = field(default_factory=threading.Lock)
    version: int = 0  # checkpoint advances so far
    saved: int = 0  # the advances the file on disk holds
    invokes: int = 0
    fatal: BaseException | None = None


def replay(
    chains: Sequence[Sequence[ShardPlan]],
    gateway: ReplayGateway,
    *,
    target: StreamTarget,
    function: str,
    checkpoint: Checkpoint,
    store: CheckpointStore | None,
    dry_run: bool = False,
    concurrency: int = 4,
    checkpoint_path: str | None = None,
    on_batch: Callable[[int], None] = lambda _: None,
) -> ReplayReport:
    """Send the planned records; the report accounts for every one of them. A fatal error (the function
    does not exist, access denied) stops the run and is raised after the report is built as
    ``ReplayFailed``."""
    outcomes = {s.shard_id: ShardOutcome(s.shard_id, skipped=s.skipped) for c in chains for s in c}
    report = ReplayReport(
        target.name, function, checkpoint.identity.window.describe(), list(outcomes.values()), dry_run=dry_run
    )
    if dry_run:
        for chain in chains:
            for shard in chain:
                outcomes[shard.shard_id].not_attempted = len(shard.records)
        return report
    run = _Run(gateway, function, target.batch_size, store, checkpoint)
    tree = _Tree(chains, outcomes, run, on_batch)
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(outcomes) or 1))) as pool:
            try:
                tree.run(pool)
            except KeyboardInterrupt:
                run.stop.set()
                report.interrupted = True
    except KeyboardInterrupt:  # a second Ctrl-C while the batches in flight finish
        run.stop.set()
        report.interrupted = True
    tree.skip_unstarted()
    report.invokes = run.invokes
    report.checkpoint = checkpoint_path
    if store is not None:
        if report.left == 0 and not report.interrupted:
            store.remove()
        else:
            report.checkpoint_kept = True
    if run.fatal is not None:
        raise ReplayFailed(report, run.fatal)
    return report


class ReplayFailed(Exception):
    """A fatal error stopped the replay; ``report`` says what was done before it."""

    def __init__(self, report: ReplayReport, error: BaseException) -> None:
        super().__init__(str(error))
        self.report, self.error = report, error


class _Tree:
    """The shards as a tree of work: roots first, each child once its parent has been delivered."""

    def __init__(
        self,
        chains: Sequence[Sequence[ShardPlan]],
        outcomes: dict[str, ShardOutcome],
        run: _Run,
        on_batch: Callable[[int], None],
    ) -> None:
        self.outcomes, self.run_, self.on_batch = outcomes, run, on_batch
        self.children: dict[str | None, list[ShardPlan]] = {}
        self.handled: set[str] = set()
        self.shards: list[ShardPlan] = []
        for chain in chains:  # parents come first in a chain: a parent not seen yet is not in the tree
            seen: set[str] = set()
            for shard in chain:
                parent = shard.parent_id if shard.parent_id in seen else None
                self.children.setdefault(parent, []).append(shard)
                seen.add(shard.shard_id)
                self.shards.append(shard)

    def run(self, pool: ThreadPoolExecutor) -> None:
        """Start the roots; as each shard ends, start its children (or skip them if it stopped)."""
        running: dict[Future[str | None], ShardPlan] = {}
        for root in self.children.get(None, []):
            running[self._start(pool, root)] = root
        while running:
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                stopped = future.result()
                for child in self.children.get(running.pop(future).shard_id, []):
                    if stopped is None and not self.run_.stop.is_set():
                        running[self._start(pool, child)] = child
                    else:
                        self._skip(child, stopped)

    def _start(self, pool: ThreadPoolExecutor, shard: ShardPlan) -> Future[str | None]:
        self.handled.add(shard.shard_id)
        return pool.submit(_work_one, shard, self.outcomes[shard.shard_id], self.run_, self.on_batch)

    def _skip(self, shard: ShardPlan, stopped: str | None) -> None:
        """A shard (and its descendants) left unsent because its parent stopped or the run did."""
        self.handled.add(shard.shard_id)
        outcome = self.outcomes[shard.shard_id]
        outcome.not_attempted = len(shard.records)
        outcome.error = outcome.error or (stopped and f"not attempted: {stopped}")
        for child in self.children.get(shard.shard_id, []):
            self._skip(child, stopped)

    def skip_unstarted(self) -> None:
        """After an interruption: every shard never started counts as not attempted."""
        for shard in self.shards:
            if shard.shard_id not in self.handled:
                self._skip(shard, None)


def _work_one(
    shard: ShardPlan, outcome: ShardOutcome, run: _Run, on_batch: Callable[[int], None]
) -> str | None:
    """One shard; why it stopped early (its descendants are then not attempted), or None."""
    if run.stop.is_set():  # interrupted, or another shard's fatal error: no reason of its own
        outcome.not_attempted = len(shard.records)
        return None
    try:
        return _work_shard(shard, outcome, run, on_batch)
    except Exception as e:  # fatal: keep the rest, stop every shard
        with run.lock:
            run.fatal = run.fatal or e
        run.stop.set()
        return "the run stopped on an error"


def _work_shard(
    shard: ShardPlan, outcome: ShardOutcome, run: _Run, on_batch: Callable[[int], None]
) -> str | None:
    """Send one shard's batches in order; returns why it stopped early, or None."""
    sent = 0
    try:
        for batch in batches(shard.records, batch_size=run.batch_size):
            if run.stop.is_set():
                break
            seqs = [str(r["dynamodb"]["SequenceNumber"]) for r in batch]
            verdict = _deliver(run, batch)
            acked_through = acknowledged_through(
                seqs, delivered=verdict.delivered, failed_items=verdict.failed_items
            )
            acked = seqs.index(acked_through) + 1 if acked_through else 0
            if acked_through is not None:
                _save(run, shard.shard_id, acked_through)
            sent += len(batch)
            outcome.delivered += acked
            on_batch(acked)
            if not verdict.delivered:
                outcome.failed += len(batch) - acked
                outcome.error = verdict.error or "the function did not acknowledge every record"
                return f"shard {shard.shard_id} stopped at a failed batch"
    finally:
        outcome.not_attempted += len(shard.records) - sent
    return None


def _deliver(run: _Run, batch: list[Record]) -> Verdict:
    from ddbtrigger.usecases.redrive import deliver_and_judge

    with run.lock:
        run.invokes += 1
    return deliver_and_judge(run.gateway, run.function, batch)


def _save(run: _Run, shard_id: str, sequence_number: str) -> None:
    """Advance the checkpoint and have it on disk before returning (group commit: a write that
    started after this advance covers it, so parallel shards share the file's fsyncs instead of
    queueing one each)."""
    with run.lock:
        run.checkpoint = run.checkpoint.advance(shard_id, sequence_number)
        run.version += 1
        mine = run.version
    if run.store is None:
        return
    with run.save_lock:
        if run.saved >= mine:
            return
        with run.lock:
            snapshot, version = run.checkpoint, run.version
        run.store.save(snapshot)
        run.saved = version

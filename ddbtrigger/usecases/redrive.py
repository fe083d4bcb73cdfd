"""Redrive: deliver each failed batch's records to the function again, and delete the failure only then.

Per failure: fetch the records (the S3 object's payload, or the stream by sequence number through a
per-shard reader that reads forward once), rebuild Lambda's event exactly, drop the records the
mapping's filters would have dropped, invoke synchronously, judge the answer, and delete the failure
only if the records were delivered. Failures are worked shard by shard in order (parents first), one
worker per shard, ``concurrency`` shards at a time; a shard stops at its first failure that still fails
unless ``keep_going``. The failures stay invisible to other readers while the run lasts and are
released at the end, also on Ctrl-C or an error, so a killed run loses nothing: a rerun starts over
from what was not deleted (a record may be delivered twice, never dropped).

The AWS side is a ``RedriveGateway`` so the flow is tested against an in-memory fake;
``open_redrive`` builds the real one (``aws.redrive_gateway``) from the shared readers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ddbtrigger.core.events import lambda_record
from ddbtrigger.core.failures import Failure, Malformed
from ddbtrigger.core.filters import PatternError, check_patterns, parse_patterns, passes_filters
from ddbtrigger.core.owner import owning_trigger, table_of
from ddbtrigger.core.redrive import (
    FailureResult,
    Fetched,
    InvokeResponse,
    RedriveReport,
    ShardKey,
    ShardLedger,
    ShardWork,
    Status,
    Verdict,
    decide,
    judge,
    plan_shards,
)
from ddbtrigger.errors import (
    AccessDenied,
    AwsError,
    CredentialsError,
    DdbtError,
    EndpointError,
    NotFound,
    RegionError,
    UsageError,
)

FATAL = (AccessDenied, CredentialsError, EndpointError, RegionError, UsageError)
"""Errors that would fail every failure the same way: stop the run instead of trying each one."""


@dataclass(frozen=True)
class RedriveOptions:
    """The command's knobs (see ``ddbtrigger redrive --help``)."""

    dry_run: bool = False
    max_failures: int | None = None
    to_function: str | None = None
    concurrency: int = 1
    keep_going: bool = False
    drop_expired: bool = False
    handler: str | None = None
    delete_on_success: bool = False
    reads_per_second: float = 4.0


@dataclass(frozen=True)
class TriggerFailures:
    """What one trigger's destination holds: parsed failures (held invisible) and malformed items."""

    trigger: str
    function: str
    filters: Sequence[Mapping[str, Any]]
    failures: Sequence[Failure]
    malformed: Sequence[Malformed] = ()


class RedriveGateway(Protocol):
    """The AWS side of a redrive (thread-safe: shards are worked in parallel)."""

    def shard_parents(self, stream_arns: set[str]) -> Mapping[ShardKey, str | None]: ...

    def fetch(self, failure: Failure) -> Fetched: ...

    def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse: ...

    def delete(self, trigger: str, failure: Failure) -> None: ...

    def flush(self) -> None: ...


class Progress(Protocol):
    """What the CLI's progress bar hears."""

    def start(self, failures: int, records: int) -> None: ...

    def advance(self, result: FailureResult, records: int) -> None: ...


class _Quiet:
    def start(self, failures: int, records: int) -> None:
        return None

    def advance(self, result: FailureResult, records: int) -> None:
        return None


@dataclass(frozen=True)
class _Item:
    """One failure with what it needs from its trigger."""

    trigger: str
    function: str
    patterns: tuple[dict[str, Any], ...]
    failure: Failure

    # FailureRef, so plan_shards can order items directly
    @property
    def id(self) -> str:
        return self.failure.id

    @property
    def shard_id(self) -> str:
        return self.failure.shard_id

    @property
    def start_sequence_number(self) -> str:
        return self.failure.start_sequence_number

    @property
    def end_sequence_number(self) -> str:
        return self.failure.end_sequence_number

    @property
    def stream_arn(self) -> str:
        return self.failure.stream_arn


@dataclass
class _Run:
    """Shared state of one run: results by failure id, a stop flag, the first fatal error."""

    options: RedriveOptions
    gateway: RedriveGateway
    progress: Progress
    results: dict[str, FailureResult] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    fatal: BaseException | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, result: FailureResult, records: int) -> None:
        with self.lock:
            self.results[result.id] = result
        self.progress.advance(result, records)


def plan_items(
    found: Sequence[TriggerFailures], gateway: RedriveGateway, options: RedriveOptions
) -> list[ShardWork[_Item]]:
    """The ordered per-shard work for every trigger's failures (``--max`` applied)."""
    items: list[_Item] = []
    for tf in found:
        function = options.to_function or tf.function
        try:
            patterns = tuple(parse_patterns(list(tf.filters)))
            check_patterns(patterns)
        except (PatternError, ValueError) as e:
            raise UsageError(f"trigger {tf.trigger}: cannot read its filter patterns: {e}") from None
        items.extend(_Item(tf.trigger, function, patterns, f) for f in tf.failures)
    shards_of: dict[str, set[str]] = {}
    for item in items:
        shards_of.setdefault(item.stream_arn, set()).add(item.shard_id)
    split = {arn for arn, shards in shards_of.items() if len(shards) > 1}  # lineage matters only there
    parents = gateway.shard_parents(split) if split else {}
    return plan_shards(items, parents=parents, limit=options.max_failures)


def redrive(
    found: Sequence[TriggerFailures],
    gateway: RedriveGateway,
    options: RedriveOptions,
    *,
    progress: Progress | None = None,
    held: int = 0,
    on_report: Callable[[RedriveReport], None] = lambda _: None,
) -> RedriveReport:
    """Run the redrive over what the destinations hold; the report lists every failure touched.

    Malformed items are reported and kept. Failures beyond ``--max`` are not reported (untouched).
    Ctrl-C stops the run: the failures being worked finish (delivered ones are deleted), the rest are
    reported ``not-attempted`` and the report says ``interrupted``. A fatal error (access denied,
    unreachable endpoint, ...) is raised after the workers stop; ``on_report`` hears the partial
    report first, so the caller can still say what was done.
    """
    work = plan_items(found, gateway, options)
    run = _Run(options, gateway, progress or _Quiet())
    run.progress.start(
        sum(len(w.failures) for w in work), sum(i.failure.batch_size for w in work for i in w.failures)
    )
    interrupted = False
    try:
        _schedule(work, run)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        gateway.flush()
    report = _report(found, work, run, held=held, interrupted=interrupted)
    on_report(report)
    if run.fatal is not None:
        raise run.fatal
    return report


def _report(
    found: Sequence[TriggerFailures],
    work: list[ShardWork[_Item]],
    run: _Run,
    *,
    held: int,
    interrupted: bool,
) -> RedriveReport:
    """Every planned failure once: its result, or ``not-attempted`` when the run stopped before it."""
    why = "interrupted before it was attempted" if interrupted else "the run stopped before it (an error)"
    ordered = [
        run.results.get(i.id)
        or FailureResult(i.id, i.trigger, Status.NOT_ATTEMPTED, 0, why, shard_id=i.shard_id)
        for w in work
        for i in w.failures
    ]
    malformed = [
        FailureResult(m.id, tf.trigger, Status.MALFORMED, 0, m.reason) for tf in found for m in tf.malformed
    ]
    return RedriveReport(tuple(ordered + malformed), held=held, interrupted=interrupted)


class _Ledgers:
    """One ``ShardLedger`` per (shard, trigger): two triggers on one table share the shard's reads but
    not its order (their functions are independent)."""

    def __init__(self, keep_going: bool) -> None:
        self.keep_going = keep_going
        self._ledgers: dict[tuple[ShardKey, str], ShardLedger] = {}
        self._lock = threading.Lock()

    def of(self, key: ShardKey, trigger: str) -> ShardLedger:
        with self._lock:
            return self._ledgers.setdefault((key, trigger), ShardLedger(keep_going=self.keep_going))

    def inherit(self, child: ShardKey, parent: ShardKey) -> None:
        """A child shard waits while its parent shard still fails (for the same trigger)."""
        with self._lock:
            blocked = [(t, led.blocked_by) for (k, t), led in self._ledgers.items() if k == parent]
        for trigger, blocked_by in blocked:
            if blocked_by:
                self.of(child, trigger).block(blocked_by)


def _schedule(work: list[ShardWork[_Item]], run: _Run) -> None:
    """Up to ``concurrency`` shards at once; a child shard starts only after its parent finished."""
    ledgers = _Ledgers(run.options.keep_going)
    slots = max(1, run.options.concurrency)
    pending = list(work)
    finished: set[ShardKey] = set()
    running: dict[Future[None], ShardKey] = {}
    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="redrive") as pool:
        try:
            while pending or running:
                for w in [w for w in pending if w.after is None or w.after in finished]:
                    if len(running) >= slots:
                        break
                    pending.remove(w)
                    if w.after is not None:
                        ledgers.inherit(w.key, w.after)
                    running[pool.submit(_work_shard, w, ledgers, run)] = w.key
                if not running:
                    break
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    finished.add(running.pop(future))
                    future.result()
        except BaseException:
            run.stop.set()
            raise


def _work_shard(work: ShardWork[_Item], ledgers: _Ledgers, run: _Run) -> None:
    """One shard, in order. Never raises: a fatal error stops the run and is re-raised by ``redrive``."""
    for item in work.failures:
        if run.stop.is_set():
            return
        ledger = ledgers.of(work.key, item.trigger)
        reason = ledger.gate()
        if reason is not None:
            run.record(
                FailureResult(item.id, item.trigger, Status.NOT_ATTEMPTED, 0, reason, shard_id=item.shard_id),
                0,
            )
            continue
        try:
            result = _redrive_one(item, run)
        except Exception as e:  # fatal or unexpected: keep this failure, stop the run, re-raise later
            _stop(run, e)
            return
        ledger.note(item.id, result.status)
        run.record(result, result.records)


def _stop(run: _Run, error: BaseException) -> None:
    with run.lock:
        if run.fatal is None:
            run.fatal = error
    run.stop.set()


def _redrive_one(item: _Item, run: _Run) -> FailureResult:
    """Fetch, rebuild, filter, invoke, judge, and delete only after delivery."""
    options, failure = run.options, item.failure
    try:
        fetched = _fetch(failure, run.gateway)
    except AwsError as e:
        if isinstance(e, FATAL):
            raise
        return FailureResult(
            item.id,
            item.trigger,
            Status.FAILED,
            0,
            f"could not read the records: {e.message}",
            shard_id=item.shard_id,
        )
    records = [lambda_record(r, stream_arn=failure.stream_arn) for r in fetched.records]
    kept = [r for r in records if passes_filters(r, item.patterns)]
    skip = options.dry_run or not kept or (fetched.expired and not options.drop_expired)
    verdict = None if skip else _deliver(item, kept, run)
    decision = decide(
        verdict=verdict,
        expired=fetched.expired,
        dry_run=options.dry_run,
        drop_expired=options.drop_expired,
        may_delete=options.handler is None or options.delete_on_success,
    )
    if decision.delete:
        run.gateway.delete(item.trigger, failure)
    error = decision.error
    if fetched.extra and decision.status in (Status.REDRIVEN, Status.DRY_RUN):
        error = _extra_note(fetched.extra, error, dry_run=options.dry_run)
    return FailureResult(
        item.id,
        item.trigger,
        decision.status,
        len(kept),
        error,
        shard_id=item.shard_id,
        deleted=decision.delete,
        extra_records=fetched.extra,
    )


def _fetch(failure: Failure, gateway: RedriveGateway) -> Fetched:
    """The S3 object's own records, else the stream's; a stream or shard that is gone has expired."""
    if failure.records is not None:
        return Fetched(failure.records)
    try:
        return gateway.fetch(failure)
    except NotFound:
        return Fetched((), expired=True)


def _deliver(item: _Item, records: list[dict[str, Any]], run: _Run) -> Verdict:
    return deliver_and_judge(run.gateway, item.function, records)


def deliver_and_judge(gateway: Any, function: str, records: Sequence[Mapping[str, Any]]) -> Verdict:
    """Invoke ``function`` with Lambda's event of ``records`` and judge the answer as Lambda does
    (FunctionError, ``batchItemFailures``): the one delivery path of redrive and replay. A missing
    function is the operator's mistake (usage error); a fatal AWS error stops the run; any other
    invoke error is a failed delivery."""
    try:
        response = gateway.deliver(function, {"Records": list(records)})
    except NotFound:
        raise UsageError(
            f"function {function} does not exist (check the spec's function, or --to-function)"
        ) from None
    except DdbtError as e:
        if isinstance(e, FATAL):
            raise
        return Verdict(False, f"invoke failed: {e.message}")
    return judge(response, sequence_numbers={str(r["dynamodb"].get("SequenceNumber")) for r in records})


def _extra_note(extra: int, error: str | None, *, dry_run: bool) -> str:
    verb = "would be delivered" if dry_run else "were delivered"
    note = (
        f"the range held {extra} record(s) beyond the batch (parallelization or filters); they "
        f"{verb} too and may be duplicates"
    )
    return f"{error}; {note}" if error else note


# --- the real thing: destinations read and held, the AWS gateway, the heartbeat -------------------------

CONFIRM_EMPTY_WAIT = 1
"""Seconds of the long poll that confirms the queue is drained (a long poll asks every SQS server)."""
HOLD_SECONDS = 60
"""How long a failure stays invisible to others without a heartbeat: after a kill, a rerun sees the
failures again after at most this long. The heartbeat extends it every half of it while a run lasts."""


@dataclass
class RedriveSession:
    """Everything read and held for one run; ``run`` works it. Leaving ``open_redrive`` releases it."""

    found: list[TriggerFailures]
    gateway: RedriveGateway
    options: RedriveOptions
    held_elsewhere: int = 0
    """Failures another reader holds invisible (a running inspect-dlq or redrive, or one killed less
    than its hold time ago): this run cannot see them, so the destination is not empty."""

    @property
    def total(self) -> int:
        """How many failures the run will work on (``--max`` applied)."""
        count = sum(len(tf.failures) for tf in self.found)
        return count if self.options.max_failures is None else min(count, self.options.max_failures)

    @property
    def triggers(self) -> list[str]:
        return [tf.trigger for tf in self.found if tf.failures]

    report: RedriveReport | None = None
    """The last run's report, also when the run stopped on an error (what was done until then)."""

    def run(self, *, progress: Progress | None = None) -> RedriveReport:
        def keep(report: RedriveReport) -> None:
            self.report = report

        return redrive(
            self.found,
            self.gateway,
            self.options,
            progress=progress,
            held=self.held_elsewhere,
            on_report=keep,
        )


@contextmanager
def open_redrive(
    factory: Any,
    triggers: Sequence[Any],
    options: RedriveOptions,
    *,
    warn: Callable[[str], None] = lambda _: None,
    hold_seconds: int = HOLD_SECONDS,
) -> Iterator[RedriveSession]:
    """Read every selected trigger's destination (holding SQS messages invisible), then yield a session.

    On the way out, pending deletes are sent first, the heartbeat stops, and whatever is still held is
    made visible again, whether the run finished, failed or was interrupted.
    """
    from contextlib import ExitStack

    from ddbtrigger.aws.dlq import Heartbeat
    from ddbtrigger.aws.redrive_gateway import AwsRedriveGateway, in_flight_elsewhere

    deliver_local = local_delivery(options.handler) if options.handler else None
    factory.client("sqs")  # the scans' client first; delivery's are built meanwhile, off the main thread
    factory.prebuild("dynamodbstreams", *(() if deliver_local else ("lambda",)))
    with ExitStack() as stack:
        scans: dict[str, Any] = {}
        found: list[TriggerFailures] = []
        opened = _open_scans(factory, triggers, hold_seconds, stack, warn)
        for scan, _ in opened:
            beat = stack.enter_context(Heartbeat(scan, every=max(1.0, hold_seconds / 2), hold=hold_seconds))
            stack.callback(_report_heartbeat, beat, warn)
        # every destination whole (order needs every failure of a shard), all destinations at once
        with ThreadPoolExecutor(max_workers=max(1, min(8, len(opened)))) as pool:
            contents = list(pool.map(lambda pair: list(pair[0]), opened))
        for (scan, sharing), items in zip(opened, contents, strict=True):
            for n, trigger in enumerate(sharing):
                scans[trigger.name] = scan
                found.append(_share(trigger, items, sharing, with_malformed=n == 0))
            _warn_foreign(items, sharing, warn)
        gateway = AwsRedriveGateway(
            factory, scans, reads_per_second=options.reads_per_second, deliver_local=deliver_local, warn=warn
        )
        stack.callback(gateway.flush)
        elsewhere = sum(in_flight_elsewhere(scan) for scan, _ in opened)
        yield RedriveSession(found, gateway, options, held_elsewhere=elsewhere)


def local_delivery(reference: str) -> Callable[[str, Mapping[str, Any]], Any]:
    """``--handler``: deliver each event to the local runtime instead of Lambda."""
    from ddbtrigger.runtime.local_lambda import invoke_local

    handler = load_local_handler(reference)
    return lambda function, event: invoke_local(handler, event, function_name=function)


def load_local_handler(reference: str) -> Any:
    """``--handler``: the local runtime's handler; a reference that does not load is a usage error."""
    from ddbtrigger.runtime.local_lambda import load_handler

    try:
        return load_handler(reference)
    except ValueError as e:
        raise UsageError(f"--handler {reference!r}: {e}") from None


def _report_heartbeat(beat: Any, warn: Callable[[str], None]) -> None:
    if beat.error is not None:
        warn(
            f"could not always keep the failures hidden while working ({beat.error}); another reader "
            "may have seen some of them meanwhile (nothing was deleted before delivery)"
        )


def _open_scans(
    factory: Any, triggers: Sequence[Any], hold_seconds: int, stack: Any, warn: Callable[[str], None]
) -> list[tuple[Any, list[Any]]]:
    """One scan per destination, with the triggers that share it."""
    from ddbtrigger.aws.destinations import locate, open_scan

    by_arn: dict[str, tuple[Any, list[Any]]] = {}
    for trigger in triggers:
        if trigger.on_failure is None:
            warn(f"trigger {trigger.name} has no failure destination: nothing to redrive")
            continue
        ref = locate(factory, trigger.on_failure, trigger=trigger.name)
        if ref.arn not in by_arn:
            try:
                scan = open_scan(
                    factory, ref, hold_seconds=hold_seconds, wait_seconds=CONFIRM_EMPTY_WAIT, redrive=True
                )
            except UsageError as e:
                raise UsageError(f"trigger {trigger.name}: {e}") from None
            by_arn[ref.arn] = (stack.enter_context(scan), [])
        by_arn[ref.arn][1].append(trigger)
    return list(by_arn.values())


def _share(
    trigger: Any, items: Sequence[Failure | Malformed], sharing: Sequence[Any], *, with_malformed: bool
) -> TriggerFailures:
    """This trigger's failures (``core.owner``'s rule, the one inspect-dlq follows). Malformed items go
    to the first."""
    failures = [
        i
        for i in items
        if isinstance(i, Failure) and owning_trigger(i.stream_arn, i.function_arn, sharing) is trigger
    ]
    malformed = [i for i in items if isinstance(i, Malformed)] if with_malformed else []
    return TriggerFailures(trigger.name, trigger.function, list(trigger.mapping.filters), failures, malformed)


def _warn_foreign(
    items: Sequence[Failure | Malformed], sharing: Sequence[Any], warn: Callable[[str], None]
) -> None:
    tables = {t.table_name for t in sharing}
    foreign = sum(1 for i in items if isinstance(i, Failure) and table_of(i.stream_arn) not in tables)
    if foreign:
        names = ", ".join(t.name for t in sharing)
        warn(
            f"{foreign} failure(s) in the destination of {names} come from a table outside the spec's "
            "selected triggers; they were left untouched"
        )

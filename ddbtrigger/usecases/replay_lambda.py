"""``replay --engine lambda``: a temporary event source mapping replays the window, then goes.

Prepare (reads only): the trigger's stream, the closed window, the mapping's filters (window, events,
keys with their type letters, ``--filter``; ``core.replay_filters``) and its settings (the trigger's
batch size, bisect, retries, record age, partial batch responses and on-failure destination, so
failures land where ``redrive`` reads them), from ``TRIM_HORIZON``, tagged ``ddbtrigger:replay=<id>``.
Refused before anything is created when the stream already has two readers (DDBT007: AWS throttles
above two per shard) or when the function already has a mapping on the stream (AWS allows one per
stream and function: replay to an alias or version with ``--to-function``).

Run: create, wait until Enabled (the executor's waits), watch (``core.replay_watch``) until the mapping
has read past ``--until`` on every shard, then delete it and wait until it is gone. The mapping is
removed whatever happens: done, an error, ``--timeout``, Ctrl-C.
"""

from __future__ import annotations

import time
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ddbtrigger.aws.waiters import Deadline
from ddbtrigger.core.replay_watch import QUIET_SECONDS, Observation, Verdict, Watch
from ddbtrigger.core.selection import Selection
from ddbtrigger.errors import DdbtError, UsageError, WaitTimeout
from ddbtrigger.usecases.stream_target import StreamTarget, from_spec, one_trigger

if TYPE_CHECKING:
    from ddbtrigger.core.live import LiveMapping
    from ddbtrigger.core.spec import TriggerSpec

REPLAY_TAG = "ddbtrigger:replay"
MAX_READERS = 2
REMOVE_SECONDS = 300.0
"""Removal gets its own deadline: it runs after a timeout too."""
Say = Callable[[str], None]


class MappingGateway(Protocol):
    """What the lambda engine asks of AWS (``aws.replay_mapping.ReplayMappingGateway``; tests fake it)."""

    def readers(self, stream_arn: str) -> Sequence[LiveMapping]: ...

    def key_types(self, table: str) -> dict[str, str]: ...

    def create(
        self, table: str, function: str, params: Mapping[str, Any], *, deadline: Deadline, say: Say
    ) -> str: ...

    def wait_enabled(self, uuid: str, *, deadline: Deadline, say: Say) -> None: ...

    def remove(self, uuid: str, *, deadline: Deadline, say: Say) -> None: ...

    def observe(self, uuid: str, function: str, *, now: float) -> Observation: ...


@dataclass(frozen=True)
class LambdaReplayPlan:
    """What will be created, read before asking."""

    target: StreamTarget
    function: str
    selection: Selection
    replay_id: str
    params: Mapping[str, Any]
    readers: int

    def describe(self) -> str:
        return (
            f"a temporary mapping on {self.target.table}'s stream to {self.function}, from TRIM_HORIZON, "
            f"filtered to {self.selection.window.describe()}"
        )


@dataclass
class LambdaReplayReport:
    trigger: str
    function: str
    window: str
    replay_id: str
    mapping_uuid: str | None = None
    done: bool = False
    removed: bool = False
    interrupted: bool = False
    dry_run: bool = False
    reason: str = ""
    seconds: float = 0.0
    shards_past: int = 0
    shards: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    error: DdbtError | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "engine": "lambda",
            "trigger": self.trigger,
            "function": self.function,
            "window": self.window,
            "replay_id": self.replay_id,
            "mapping_uuid": self.mapping_uuid,
            "dry_run": self.dry_run,
            "done": self.done,
            "removed": self.removed,
            "interrupted": self.interrupted,
            "reason": self.reason,
            "seconds": round(self.seconds, 3),
            "shards_past_until": self.shards_past,
            "shards": self.shards,
            "filters": list((self.params.get("FilterCriteria") or {}).get("Filters", [])),
        }


def aws_gateway(factory: Any) -> MappingGateway:
    """The temporary mapping's gateway over AWS (the cli never imports ``aws``)."""
    from ddbtrigger.aws.replay_mapping import ReplayMappingGateway

    gateway: MappingGateway = ReplayMappingGateway(factory)
    return gateway


def prepare(
    factory: Any,
    triggers: Sequence[TriggerSpec],
    selection: Selection,
    gateway: MappingGateway,
    *,
    to_function: str | None,
    now: float | None = None,
) -> LambdaReplayPlan:
    """Resolve the trigger, close the window, build the mapping and refuse what AWS would (or should)."""
    trigger = one_trigger(triggers, "replay")
    target = from_spec(factory, trigger)
    function = to_function or target.function
    selection = replace(selection, window=selection.window.closed(time.time() if now is None else now))
    readers = [m for m in gateway.readers(target.stream_arn) if m.enabled]
    _refuse_readers(target, function, readers)
    replay_id = uuidlib.uuid4().hex[:12]
    params = mapping_params(trigger, target, selection, gateway.key_types(target.table), replay_id)
    return LambdaReplayPlan(target, function, selection, replay_id, params, len(readers))


def _refuse_readers(target: StreamTarget, function: str, readers: Sequence[LiveMapping]) -> None:
    from ddbtrigger.core.live import function_ref

    if len(readers) >= MAX_READERS:
        uuids = ", ".join(m.uuid for m in readers)
        raise UsageError(
            f"DDBT007: the stream of table {target.table} already has {len(readers)} readers ({uuids}); a "
            "third throttles every one of them (AWS allows two per shard): use --engine local"
        )
    for m in readers:
        if function_ref(m.function_arn) == function_ref(function):
            raise UsageError(
                f"{function} already reads this stream (mapping {m.uuid}) and AWS allows one mapping per "
                "stream and function: replay to a version or alias (--to-function NAME:ALIAS) or use "
                "--engine local"
            )


def mapping_params(
    trigger: TriggerSpec,
    target: StreamTarget,
    selection: Selection,
    key_types: Mapping[str, str],
    replay_id: str,
) -> dict[str, Any]:
    """CreateEventSourceMapping parameters: the trigger's delivery settings, the window's filters."""
    from ddbtrigger.core.desired import ArnContext, create_params, desired_mapping
    from ddbtrigger.core.replay_filters import FilterBuildError, filter_criteria, filter_patterns

    try:
        patterns = filter_patterns(selection, key_types)
    except FilterBuildError as e:
        raise UsageError(str(e)) from None
    ctx = ArnContext.from_arn(target.stream_arn, region=target.stream_arn.split(":")[3])
    params = create_params(desired_mapping(trigger, ctx))
    params.pop("FilterCriteria", None)
    params.update(
        StartingPosition="TRIM_HORIZON",
        Enabled=True,
        BatchSize=target.batch_size,
        Tags={REPLAY_TAG: replay_id},
    )
    if patterns:
        params["FilterCriteria"] = filter_criteria(patterns)
    return params


@dataclass
class Runner:
    """Runs one plan; ``clock`` is wall time (the window's), ``monotonic`` paces the deadline."""

    gateway: MappingGateway
    say: Say = lambda _: None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    interval: float = 1.0
    quiet: float = QUIET_SECONDS

    def run(self, plan: LambdaReplayPlan, *, timeout: float, dry_run: bool = False) -> LambdaReplayReport:
        report = LambdaReplayReport(
            plan.target.name,
            plan.function,
            plan.selection.window.describe(),
            plan.replay_id,
            dry_run=dry_run,
            params=plan.params,
        )
        if dry_run:
            report.reason = "dry run: nothing created"
            return report
        start = self.monotonic()
        deadline = Deadline(timeout, clock=self.monotonic)
        try:
            self._create_and_watch(plan, report, deadline)
        except KeyboardInterrupt:
            report.interrupted, report.reason = True, "interrupted"
        except DdbtError as e:
            report.error, report.reason = e, e.message
        finally:
            self._remove(report)
            report.seconds = self.monotonic() - start
        return report

    def _create_and_watch(
        self, plan: LambdaReplayPlan, report: LambdaReplayReport, deadline: Deadline
    ) -> None:
        t = plan.target
        report.mapping_uuid = self.gateway.create(
            t.table, plan.function, plan.params, deadline=deadline, say=self.say
        )
        self.say(f"created replay mapping {report.mapping_uuid} (tag {REPLAY_TAG}={plan.replay_id})")
        self.gateway.wait_enabled(report.mapping_uuid, deadline=deadline, say=self.say)
        until = plan.selection.window.until
        assert until is not None  # closed by prepare()
        watch = Watch(until, started=self.clock(), quiet=self.quiet)
        while True:
            verdict = watch.judge(self.gateway.observe(report.mapping_uuid, plan.function, now=self.clock()))
            self._progress(report, verdict, deadline)
            if verdict.done:
                report.done, report.reason = True, verdict.why
                return
            if deadline.expired():
                raise WaitTimeout(
                    f"timed out after {deadline.seconds:g}s (--timeout) before the mapping read past --until: "
                    f"{verdict.why}; the mapping was removed, records of the window may be undelivered"
                )
            self.sleep(min(self.interval, max(0.0, deadline.remaining())))

    def _progress(self, report: LambdaReplayReport, verdict: Verdict, deadline: Deadline) -> None:
        report.shards_past, report.shards = verdict.shards_past, verdict.shards
        self.say(f"replay mapping {report.mapping_uuid}: {verdict.why} ({deadline.elapsed():.0f}s)")

    def _remove(self, report: LambdaReplayReport) -> None:
        """Delete the mapping and wait until it is gone; a Ctrl-C meanwhile does not stop the removal."""
        if report.mapping_uuid is None:
            return
        deadline = Deadline(REMOVE_SECONDS, clock=self.monotonic)
        for _ in range(3):
            try:
                self.say(f"removing replay mapping {report.mapping_uuid}")
                self.gateway.remove(report.mapping_uuid, deadline=deadline, say=self.say)
                report.removed = True
                return
            except KeyboardInterrupt:
                report.interrupted = True
                self.say("still removing the replay mapping (Ctrl-C again later leaves it behind)")
            except DdbtError as e:
                report.error = report.error or e
                report.reason = (
                    f"could not remove replay mapping {report.mapping_uuid}: {e.message}; delete it "
                    f"(tag {REPLAY_TAG}={report.replay_id})"
                )
                return

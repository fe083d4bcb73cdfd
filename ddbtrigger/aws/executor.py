"""Run a plan: a small interpreter over the typed steps of ``core.plan``, in the plan's (safe) order.

Each change runs its steps in order and waits for its resource to settle before the next change of its
lane starts. Lanes (``core.lanes``: a trigger's changes, joined with any other change touching the same
table, function, mapping, destination or alarm) run side by side, up to ``concurrency`` at once
(``MAX_IN_FLIGHT``; 1 runs the whole plan in its order): 50 triggers from nothing are 50 chains of
writes and waits, and running them one after another made ``apply`` as slow as their sum.

The first hard error stops the run: no change starts after it, the changes already running finish.
The error raised carries, as details, which changes were done and which were not, so the operator knows
where it stopped (a rerun of ``apply`` plans from what is live and finishes the job: nothing here
remembers state between runs). Ctrl-C also stops the other lanes, at their next wait.

The interpreter (``Executor``) matches each step's type and calls the ``StepGateway``, a Protocol with
one domain-named method per kind of step; ``AwsStepGateway`` implements it with typed boto3 clients.
What a step makes (a mapping's UUID) is kept under the name the step gave it, for the change's later
steps to read (``core.plan.Output``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, assert_never

from ddbtrigger.aws.clients import MAX_IN_FLIGHT, workers_for
from ddbtrigger.aws.step_gateway import AwsStepGateway
from ddbtrigger.aws.waiters import Clock, Deadline, Sleep
from ddbtrigger.core.lanes import lanes
from ddbtrigger.core.plan import (
    CreateMapping,
    DeleteAlarms,
    DeleteMapping,
    DestinationStep,
    MappingId,
    Output,
    PutAlarm,
    TagMapping,
    UntagMapping,
    UpdateMapping,
    UpdateStream,
    WaitMapping,
    WaitMappingGone,
    WaitTable,
)
from ddbtrigger.errors import DdbtError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.plan import Change, Plan, Step

# progress(change, message): "start", a status line while waiting, "done" or "failed".
Progress = Callable[["Change", str], None]
Say = Callable[[str], None]


class StepGateway(Protocol):
    """What running a plan asks of AWS: one method per kind of step (``AwsStepGateway``; tests fake it).

    ``say`` reports progress (a status line); ``deadline`` bounds every wait and busy-retry.
    """

    def wait_table(self, table: str, *, deadline: Deadline, say: Say) -> None: ...

    def update_stream(self, step: UpdateStream, *, deadline: Deadline, say: Say) -> None: ...

    def create_mapping(self, step: CreateMapping, *, deadline: Deadline, say: Say) -> str:
        """Create the mapping; returns its UUID."""
        ...

    def update_mapping(self, step: UpdateMapping, *, deadline: Deadline, say: Say) -> None: ...

    def delete_mapping(self, uuid: str, *, deadline: Deadline, say: Say) -> None: ...

    def wait_mapping(self, uuid: str, *, deadline: Deadline, say: Say) -> None: ...

    def wait_mapping_gone(self, uuid: str, *, deadline: Deadline, say: Say) -> None: ...

    def mapping_arn(self, uuid: str) -> str: ...

    def tag_mapping(self, arn: str, tags: Mapping[str, str], *, deadline: Deadline) -> None: ...

    def untag_mapping(self, arn: str, keys: tuple[str, ...], *, deadline: Deadline) -> None: ...

    def destination(self, step: DestinationStep, *, say: Say) -> None:
        """Create/update/tag/delete a failure destination: the one seam to the destination adapters."""
        ...

    def put_alarm(self, step: PutAlarm, *, deadline: Deadline, say: Say) -> None: ...

    def delete_alarms(self, names: tuple[str, ...], *, deadline: Deadline, say: Say) -> None: ...


def describe(change: Change) -> str:
    which = f" {change.name}" if change.name else ""
    return f"{change.trigger}: {change.action} {change.resource}{which}"


class _Interrupted(BaseException):
    """Raised in a lane's wait once Ctrl-C stopped the run (a BaseException: no retry loop keeps it)."""


@dataclass
class _Stop:
    """What the lanes share: the errors so far (the first one is raised) and whether to stop."""

    errors: list[tuple[Change, DdbtError]] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)  # start no more changes
    aborted: threading.Event = field(default_factory=threading.Event)  # Ctrl-C: leave waits too
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, change: Change, error: DdbtError) -> None:
        with self.lock:
            self.errors.append((change, error))
        self.stopped.set()


@dataclass
class Executor:
    factory: ClientFactory
    timeout: float = 600.0
    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    progress: Progress = lambda change, message: None
    done: list[Change] = field(default_factory=list)
    gateway: StepGateway | None = None  # None: AWS through ``factory``
    concurrency: int = MAX_IN_FLIGHT  # lanes in flight at most; 1: the plan's order, one change at a time
    _stop: _Stop = field(default_factory=_Stop, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.gateway is None:
            self.gateway = AwsStepGateway(self.factory, sleep=self._pause, timeout=self.timeout)

    def run(self, plan: Plan) -> list[Change]:
        """Apply every pending change; on error re-raise the first one with done / not done as details."""
        pending = list(plan.pending)
        runs = lanes(pending) if self.concurrency > 1 else [pending]
        if len(runs) <= 1:
            for lane in runs:
                self._run_lane(lane)
        else:
            self._run_side_by_side(runs)
        if self._stop.errors:
            raise self._stopped_by(pending)
        return self.done

    def _run_side_by_side(self, runs: list[list[Change]]) -> None:
        workers = min(self.concurrency, workers_for(len(runs)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ddbtrigger-apply") as pool:
            futures = []
            try:
                futures += [pool.submit(self._run_lane, lane) for lane in runs]
                wait(futures)
            except BaseException:  # Ctrl-C: no lane starts a change, and running ones leave their waits
                self._stop.stopped.set()
                self._stop.aborted.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        for future in futures:
            future.result()  # a bug in a lane (not a DdbtError) is raised as it was

    def _run_lane(self, lane: list[Change]) -> None:
        for change in lane:
            if self._stop.stopped.is_set():
                return
            self.progress(change, "start")
            try:
                self._run_change(change, Deadline(self.timeout, self.clock))  # --timeout per resource
            except DdbtError as e:
                self._stop.fail(change, e)  # first: another lane's later error is not the first
                self.progress(change, "failed")
                return
            except BaseException:
                self._stop.stopped.set()
                raise
            with self._stop.lock:
                self.done.append(change)
            self.progress(change, "done")

    def _stopped_by(self, pending: list[Change]) -> DdbtError:
        """The first error, with what was done, what was not, and any other lane's error."""
        (_, first), *others = self._stop.errors
        finished = {id(c) for c in self.done}
        not_done = [c for c in pending if id(c) not in finished]
        also = [f"also failed: {describe(c)}: {e.message}" for c, e in others]
        first.details.extend(_where_it_stopped(self.done, not_done, also))
        return first

    def _pause(self, seconds: float) -> None:
        """The gateway's sleep: the injected one, left early (``_Interrupted``) once Ctrl-C stopped the run."""
        if self.sleep is time.sleep:
            self._stop.aborted.wait(seconds)
        elif not self._stop.aborted.is_set():
            self.sleep(seconds)
        if self._stop.aborted.is_set():
            raise _Interrupted

    def _run_change(self, change: Change, deadline: Deadline) -> None:
        outputs: dict[str, str] = {}  # what this change's steps made, by the name each gave it
        for step in change.steps:
            self._run_step(step, change, deadline, outputs)

    def _run_step(self, step: Step, change: Change, deadline: Deadline, outputs: dict[str, str]) -> None:
        gw = self.gateway
        assert gw is not None

        def say(message: str) -> None:
            self.progress(change, message)

        def uuid_of(ref: MappingId) -> str:
            return outputs[ref.name] if isinstance(ref, Output) else ref

        match step:
            case WaitTable(table=table):
                gw.wait_table(table, deadline=deadline, say=say)
            case UpdateStream():
                gw.update_stream(step, deadline=deadline, say=say)
            case CreateMapping(output=name):
                outputs[name] = gw.create_mapping(step, deadline=deadline, say=say)
            case UpdateMapping():
                gw.update_mapping(step, deadline=deadline, say=say)
            case DeleteMapping(uuid=uuid):
                gw.delete_mapping(uuid, deadline=deadline, say=say)
            case WaitMapping(uuid=ref):
                gw.wait_mapping(uuid_of(ref), deadline=deadline, say=say)
            case WaitMappingGone(uuid=uuid):
                gw.wait_mapping_gone(uuid, deadline=deadline, say=say)
            case TagMapping(uuid=ref, arn=arn, tags=tags):
                gw.tag_mapping(arn or gw.mapping_arn(uuid_of(ref)), tags, deadline=deadline)
            case UntagMapping(uuid=ref, arn=arn, keys=keys):
                gw.untag_mapping(arn or gw.mapping_arn(uuid_of(ref)), keys, deadline=deadline)
            case DestinationStep():
                gw.destination(step, say=say)
            case PutAlarm():
                gw.put_alarm(step, deadline=deadline, say=say)
            case DeleteAlarms(names=names):
                gw.delete_alarms(names, deadline=deadline, say=say)
            case _:
                assert_never(step)


def _where_it_stopped(done: list[Change], not_done: list[Change], also: list[str]) -> list[str]:
    lines = [f"done: {describe(c)}" for c in done] or ["done: nothing"]
    lines += [f"not done: {describe(c)}" for c in not_done]
    lines += also
    lines.append("rerun the command to finish: it plans again from what is live")
    return lines

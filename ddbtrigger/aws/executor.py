"""Run a plan: a small interpreter over the typed steps of ``core.plan``, in the plan's (safe) order.

Each change runs its steps in order and waits for its resource to settle before the next change
starts. The first hard error stops the run; the error raised carries, as details, which changes were
done and which were not, so the operator knows where it stopped (a rerun of ``apply`` plans from what is
live and finishes the job: nothing here remembers state between runs).

The interpreter (``Executor``) matches each step's type and calls the ``StepGateway``, a Protocol with
one domain-named method per kind of step; ``AwsStepGateway`` implements it with typed boto3 clients.
What a step makes (a mapping's UUID) is kept under the name the step gave it, for the change's later
steps to read (``core.plan.Output``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, assert_never

from ddbtrigger.aws.step_gateway import AwsStepGateway
from ddbtrigger.aws.waiters import Clock, Deadline, Sleep
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


@dataclass
class Executor:
    factory: ClientFactory
    timeout: float = 600.0
    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    progress: Progress = lambda change, message: None
    done: list[Change] = field(default_factory=list)
    gateway: StepGateway | None = None  # None: AWS through ``factory``

    def __post_init__(self) -> None:
        if self.gateway is None:
            self.gateway = AwsStepGateway(self.factory, sleep=self.sleep, timeout=self.timeout)

    def run(self, plan: Plan) -> list[Change]:
        """Apply every pending change; on error re-raise it with done / not done as details."""
        pending = list(plan.pending)
        for index, change in enumerate(pending):
            self.progress(change, "start")
            try:
                self._run_change(change, Deadline(self.timeout, self.clock))  # --timeout per resource
            except DdbtError as e:
                self.progress(change, "failed")
                e.details.extend(_where_it_stopped(self.done, pending[index:]))
                raise
            self.done.append(change)
            self.progress(change, "done")
        return self.done

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


def _where_it_stopped(done: list[Change], not_done: list[Change]) -> list[str]:
    lines = [f"done: {describe(c)}" for c in done] or ["done: nothing"]
    lines += [f"not done: {describe(c)}" for c in not_done]
    lines.append("rerun the command to finish: it plans again from what is live")
    return lines

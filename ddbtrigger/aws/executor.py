"""Run a plan: a small interpreter over ``core.plan.Step``s, in the plan's (safe) order.

Each change runs its steps in order and waits for its resource to settle before the next change
starts. The first hard error stops the run; the error raised carries, as details, which changes were
done and which were not, so the operator knows where it stopped (a rerun of ``apply`` plans from what is
live and finishes the job: nothing here remembers state between runs).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws import destinations as dest
from ddbtrigger.aws.errors import error_code, error_message, translate_errors
from ddbtrigger.aws.waiters import BUSY_CODES, Clock, Deadline, Sleep, poll, retry_busy
from ddbtrigger.core.live import SETTLED_STATES
from ddbtrigger.errors import Conflict, DdbtError, NotFound

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.plan import Change, Plan, Step

# progress(change, message): "start", a status line while waiting, "done" or "failed".
Progress = Callable[["Change", str], None]


def describe(change: Change) -> str:
    return f"{change.trigger}: {change.action} {change.resource}"


@dataclass
class Executor:
    factory: ClientFactory
    timeout: float = 600.0
    sleep: Sleep = time.sleep
    clock: Clock = time.monotonic
    progress: Progress = lambda change, message: None
    done: list[Change] = field(default_factory=list)
    _created: str | None = field(default=None, init=False)

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
        self._created = None
        for step in change.steps:
            handler: Callable[[Step, Change, Deadline], None] = getattr(self, "_op_" + step.op)
            handler(step, change, deadline)

    # --- helpers ------------------------------------------------------------------------------------

    def _lambda(self) -> Any:
        return self.factory.client("lambda")

    def _retry(
        self, action: str, call: Callable[[], Any], deadline: Deadline, busy: frozenset[str] = BUSY_CODES
    ) -> Any:
        with translate_errors(action):
            return retry_busy(call, deadline=deadline, sleep=self.sleep, busy=busy)

    # --- stream -------------------------------------------------------------------------------------

    def _op_wait_table(self, step: Step, change: Change, deadline: Deadline) -> None:
        name = step.params["table"]
        ddb = self.factory.client("dynamodb")
        last: dict[str, str] = {}

        def active() -> bool | None:
            with translate_errors(f"describe table {name}"):
                table = ddb.describe_table(TableName=name)["Table"]
            last["status"] = table.get("TableStatus", "")
            self.progress(change, f"waiting for table {name} to be ACTIVE ({last['status']})")
            return True if last["status"] == "ACTIVE" else None

        poll(
            active,
            deadline=deadline,
            sleep=self.sleep,
            timeout_message=lambda: (
                f"timed out waiting for table {name} to be ACTIVE (it is {last.get('status')})"
            ),
        )

    def _op_update_stream(self, step: Step, change: Change, deadline: Deadline) -> None:
        p = step.params
        spec = (
            {"StreamEnabled": True, "StreamViewType": p["view_type"]}
            if p["enabled"]
            else {"StreamEnabled": False}
        )
        verb = "enable" if p["enabled"] else "disable"
        ddb = self.factory.client("dynamodb")
        if self._stream_is(p["table"], spec):
            return  # already so (another apply got there first): nothing to do
        action = f"{verb} the stream of table {p['table']}"
        self.progress(change, action)
        try:
            retry_busy(
                lambda: ddb.update_table(TableName=p["table"], StreamSpecification=spec),
                deadline=deadline,
                sleep=self.sleep,
            )
        except Exception as e:
            # Someone changed the stream between our read and our write ("Table already has an enabled
            # stream"): done if it is now as wanted, else a conflict, never a raw ValidationException.
            if error_code(e) != "ValidationException":
                with translate_errors(action):
                    raise
            if not self._stream_is(p["table"], spec):
                raise Conflict(f"changed underneath us: could not {action}: {error_message(e)}") from e

    # --- mapping ------------------------------------------------------------------------------------

    def _stream_is(self, table: str, spec: dict[str, Any]) -> bool:
        with translate_errors(f"describe table {table}"):
            found = self.factory.client("dynamodb").describe_table(TableName=table)["Table"]
        current = found.get("StreamSpecification") or {"StreamEnabled": False}
        if not spec["StreamEnabled"]:
            return not current.get("StreamEnabled")
        return bool(current.get("StreamEnabled")) and current.get("StreamViewType") == spec["StreamViewType"]

    def _latest_stream(self, table: str) -> str:
        with translate_errors(f"describe table {table}"):
            arn = (
                self.factory.client("dynamodb")
                .describe_table(TableName=table)["Table"]
                .get("LatestStreamArn")
            )
        if not arn:
            raise NotFound(f"table {table} has no stream to map")
        return str(arn)

    def _op_create_mapping(self, step: Step, change: Change, deadline: Deadline) -> None:
        p = step.params
        stream = self._latest_stream(p["table"])
        self.progress(change, f"create the mapping {p['function']} <- {p['table']}")
        # A conflict right after our delete (replace) is the old mapping still going: wait. Otherwise it
        # is someone else's mapping on this stream: fail ("changed underneath us"), never wait it out.
        busy = BUSY_CODES if p.get("after_delete") else frozenset({"ResourceInUseException"})
        created = self._retry(
            f"create the event source mapping of {p['function']} on table {p['table']}",
            lambda: self._lambda().create_event_source_mapping(
                EventSourceArn=stream, FunctionName=p["function"], **p["params"]
            ),
            deadline,
            busy,
        )
        self._created = str(created["UUID"])

    def _op_update_mapping(self, step: Step, change: Change, deadline: Deadline) -> None:
        uuid = step.params["uuid"]
        self.progress(change, f"update mapping {uuid}")
        self._retry(
            f"update event source mapping {uuid}",
            lambda: self._lambda().update_event_source_mapping(UUID=uuid, **step.params["params"]),
            deadline,
        )

    def _op_delete_mapping(self, step: Step, change: Change, deadline: Deadline) -> None:
        uuid = step.params["uuid"]
        self.progress(change, f"delete mapping {uuid}")
        with contextlib.suppress(NotFound):  # already gone: what we wanted
            self._retry(
                f"delete event source mapping {uuid}",
                lambda: self._lambda().delete_event_source_mapping(UUID=uuid),
                deadline,
            )

    def _get_mapping(self, uuid: str) -> dict[str, Any] | None:
        try:
            return dict(self._lambda().get_event_source_mapping(UUID=uuid))
        except Exception as e:
            if error_code(e) == "ResourceNotFoundException":
                return None
            with translate_errors(f"get event source mapping {uuid}"):
                raise
        return None  # pragma: no cover

    def _op_wait_mapping(self, step: Step, change: Change, deadline: Deadline) -> None:
        uuid = step.params.get("uuid") or self._created
        if uuid is None:
            return
        last: dict[str, Any] = {}

        def settled() -> bool | None:
            found = self._get_mapping(uuid)
            if found is None:
                raise NotFound(f"event source mapping {uuid} disappeared while waiting for it to settle")
            last.update(found)
            self.progress(change, f"waiting for mapping {uuid} to settle ({found.get('State')})")
            return True if found.get("State") in SETTLED_STATES else None

        poll(
            settled,
            deadline=deadline,
            sleep=self.sleep,
            timeout_message=lambda: (
                f"timed out after {self.timeout:g}s waiting for mapping {uuid} to be Enabled/Disabled: it is "
                f"{last.get('State')}; StateTransitionReason: {last.get('StateTransitionReason') or '(none)'}"
            ),
        )

    def _op_wait_mapping_gone(self, step: Step, change: Change, deadline: Deadline) -> None:
        uuid = step.params["uuid"]
        last: dict[str, Any] = {}

        def gone() -> bool | None:
            found = self._get_mapping(uuid)
            last.update(found or {})
            self.progress(change, f"waiting for mapping {uuid} to be deleted")
            return True if found is None else None

        poll(
            gone,
            deadline=deadline,
            sleep=self.sleep,
            timeout_message=lambda: (
                f"timed out after {self.timeout:g}s waiting for mapping {uuid} to be deleted: it is "
                f"{last.get('State')}; StateTransitionReason: {last.get('StateTransitionReason') or '(none)'}"
            ),
        )

    def _mapping_arn(self, step: Step) -> str:
        arn = step.params.get("arn")
        if arn:
            return str(arn)
        found = self._get_mapping(self._created or "")
        return str((found or {}).get("EventSourceMappingArn", ""))

    def _op_tag_mapping(self, step: Step, change: Change, deadline: Deadline) -> None:
        arn = self._mapping_arn(step)
        self._retry(
            "tag the event source mapping",
            lambda: self._lambda().tag_resource(Resource=arn, Tags=dict(step.params["tags"])),
            deadline,
        )

    def _op_untag_mapping(self, step: Step, change: Change, deadline: Deadline) -> None:
        arn = self._mapping_arn(step)
        self._retry(
            "untag the event source mapping",
            lambda: self._lambda().untag_resource(Resource=arn, TagKeys=list(step.params["keys"])),
            deadline,
        )

    # --- failure destination ------------------------------------------------------------------------

    def _op_create_destination(self, step: Step, change: Change, deadline: Deadline) -> None:
        self.progress(change, f"create {step.params['type']} {step.params['name']}")
        dest.create_destination(self.factory, step.params)

    def _op_update_destination(self, step: Step, change: Change, deadline: Deadline) -> None:
        self.progress(change, f"update {step.params['type']} {step.params['name']}")
        dest.update_destination(self.factory, step.params)

    def _op_tag_destination(self, step: Step, change: Change, deadline: Deadline) -> None:
        dest.tag_destination(self.factory, step.params)

    def _op_delete_destination(self, step: Step, change: Change, deadline: Deadline) -> None:
        self.progress(change, f"delete {step.params['type']} {step.params['name']}")
        dest.delete_destination(self.factory, step.params)


def _where_it_stopped(done: list[Change], not_done: list[Change]) -> list[str]:
    lines = [f"done: {describe(c)}" for c in done] or ["done: nothing"]
    lines += [f"not done: {describe(c)}" for c in not_done]
    lines.append("rerun the command to finish: it plans again from what is live")
    return lines

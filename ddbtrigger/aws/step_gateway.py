"""The AWS side of ``apply``/``destroy``: one method per kind of plan step (``executor.StepGateway``).

Calls go through the typed clients of ``ClientFactory`` (boto3 stubs: mypy checks every parameter).
Busy errors are retried until the deadline; the asynchronous ones (a mapping's create/update/delete, a
stream change) are waited out by polling with backoff. Destination steps go through one seam,
``destination``, to ``aws.destinations``.

A table is described once per thing learnt about it: the description a ``wait_table`` ends on is what
the ``update_stream`` right after it checks; UpdateTable's answer is a description too (when it says
ACTIVE with the stream, the wait after it has nothing to wait for); and a mapping is created on the
stream ARN the last of those showed. The executor runs one table's changes one at a time, in order,
so what this run last saw of a table is what it is, bar another writer (whose race the ``update_stream``
error path and the mapping's create conflict already handle).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ddbtrigger.aws import destinations as dest
from ddbtrigger.aws.errors import error_code, error_message, translate_errors
from ddbtrigger.aws.waiters import BUSY_CODES, Deadline, Sleep, poll, retry_busy
from ddbtrigger.core.live import SETTLED_STATES
from ddbtrigger.errors import Conflict, NotFound

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import StreamSpecificationTypeDef, TableDescriptionTypeDef
    from mypy_boto3_lambda import LambdaClient

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.plan import (
        CreateMapping,
        DestinationStep,
        PutAlarm,
        UpdateMapping,
        UpdateStream,
    )

T = TypeVar("T")
Say = Callable[[str], None]


class AwsStepGateway:
    """``StepGateway`` over boto3: ``sleep`` paces retries and polls, ``timeout`` is only quoted."""

    def __init__(self, factory: ClientFactory, *, sleep: Sleep = time.sleep, timeout: float = 600.0) -> None:
        self.factory = factory
        self.sleep = sleep
        self.timeout = timeout
        # table -> (how it was learnt: "wait" / "update" / "read", the description); see the module doc
        self._tables: dict[str, tuple[str, TableDescriptionTypeDef]] = {}
        self._tables_lock = threading.Lock()

    def _lambda(self) -> LambdaClient:
        return self.factory.client("lambda")

    def _retry(
        self, action: str, call: Callable[[], T], deadline: Deadline, busy: frozenset[str] = BUSY_CODES
    ) -> T:
        with translate_errors(action):
            return retry_busy(call, deadline=deadline, sleep=self.sleep, busy=busy)

    # --- stream -------------------------------------------------------------------------------------

    def wait_table(self, table: str, *, deadline: Deadline, say: Say) -> None:
        seen = self._seen(table, "update")
        if seen is not None and _settled(seen):
            self._remember(table, "wait", seen)  # UpdateTable answered ACTIVE (with the stream): done
            return
        last: dict[str, str] = {}

        def active() -> bool | None:
            found = self._describe(table, "wait")
            last["status"] = found.get("TableStatus", "")
            say(f"waiting for table {table} to be ACTIVE ({last['status']})")
            return True if last["status"] == "ACTIVE" else None

        poll(
            active,
            deadline=deadline,
            sleep=self.sleep,
            timeout_message=lambda: (
                f"timed out waiting for table {table} to be ACTIVE (it is {last.get('status')})"
            ),
        )

    def update_stream(self, step: UpdateStream, *, deadline: Deadline, say: Say) -> None:
        spec: StreamSpecificationTypeDef = {"StreamEnabled": step.enabled}
        if step.view_type is not None:
            spec["StreamViewType"] = step.view_type
        verb = "enable" if step.enabled else "disable"
        ddb = self.factory.client("dynamodb")
        waited = self._seen(step.table, "wait")  # the wait just before ended on this description
        if _stream_as(waited or self._describe(step.table, "read"), spec):
            return  # already so (another apply got there first): nothing to do
        action = f"{verb} the stream of table {step.table}"
        say(action)
        try:
            updated = retry_busy(
                lambda: ddb.update_table(TableName=step.table, StreamSpecification=spec),
                deadline=deadline,
                sleep=self.sleep,
            )
            self._remember(step.table, "update", updated["TableDescription"])
        except Exception as e:
            # Someone changed the stream between our read and our write ("Table already has an enabled
            # stream"): done if it is now as wanted, else a conflict, never a raw ValidationException.
            if error_code(e) != "ValidationException":
                with translate_errors(action):
                    raise
            if not _stream_as(self._describe(step.table, "read"), spec):
                raise Conflict(f"changed underneath us: could not {action}: {error_message(e)}") from e

    def _describe(self, table: str, how: str) -> TableDescriptionTypeDef:
        """DescribeTable, remembered as learnt ``how``."""
        with translate_errors(f"describe table {table}"):
            found = self.factory.client("dynamodb").describe_table(TableName=table)["Table"]
        self._remember(table, how, found)
        return found

    def _remember(self, table: str, how: str, found: TableDescriptionTypeDef) -> None:
        with self._tables_lock:
            self._tables[table] = (how, found)

    def _seen(self, table: str, how: str | None = None) -> TableDescriptionTypeDef | None:
        """What this run last saw of ``table`` (only if learnt ``how``); taken once when ``how`` is given,
        so a wait or a check never reuses a description another step already relied on."""
        with self._tables_lock:
            learnt, found = self._tables.get(table, ("", None))
            if how is not None and learnt != how:
                return None
            if how is not None and found is not None:
                self._tables[table] = ("used", found)
            return found

    def _latest_stream(self, table: str) -> str:
        seen = self._seen(table)
        stream = seen.get("StreamSpecification") if seen else None
        if seen is None or not (stream and stream.get("StreamEnabled")) or not seen.get("LatestStreamArn"):
            seen = self._describe(table, "read")
        arn = seen.get("LatestStreamArn")
        if not arn:
            raise NotFound(f"table {table} has no stream to map")
        return str(arn)

    # --- mapping ------------------------------------------------------------------------------------

    def create_mapping(self, step: CreateMapping, *, deadline: Deadline, say: Say) -> str:
        stream = self._latest_stream(step.table)
        say(f"create the mapping {step.function} <- {step.table}")
        # A conflict right after our delete (replace) is the old mapping still going: wait. Otherwise it
        # is someone else's mapping on this stream: fail ("changed underneath us"), never wait it out.
        busy = BUSY_CODES if step.after_delete else frozenset({"ResourceInUseException"})
        params: dict[str, Any] = dict(step.params)
        created = self._retry(
            f"create the event source mapping of {step.function} on table {step.table}",
            lambda: self._lambda().create_event_source_mapping(
                EventSourceArn=stream, FunctionName=step.function, **params
            ),
            deadline,
            busy,
        )
        return str(created["UUID"])

    def update_mapping(self, step: UpdateMapping, *, deadline: Deadline, say: Say) -> None:
        say(f"update mapping {step.uuid}")
        params: dict[str, Any] = dict(step.params)
        self._retry(
            f"update event source mapping {step.uuid}",
            lambda: self._lambda().update_event_source_mapping(UUID=step.uuid, **params),
            deadline,
        )

    def delete_mapping(self, uuid: str, *, deadline: Deadline, say: Say) -> None:
        say(f"delete mapping {uuid}")
        with contextlib.suppress(NotFound):  # already gone: what we wanted
            self._retry(
                f"delete event source mapping {uuid}",
                lambda: self._lambda().delete_event_source_mapping(UUID=uuid),
                deadline,
            )

    def _get_mapping(self, uuid: str) -> Mapping[str, Any] | None:
        try:
            return self._lambda().get_event_source_mapping(UUID=uuid)
        except Exception as e:
            if error_code(e) == "ResourceNotFoundException":
                return None
            with translate_errors(f"get event source mapping {uuid}"):
                raise
        return None  # pragma: no cover

    def wait_mapping(self, uuid: str, *, deadline: Deadline, say: Say) -> None:
        last: dict[str, Any] = {}

        def settled() -> bool | None:
            found = self._get_mapping(uuid)
            if found is None:
                raise NotFound(f"event source mapping {uuid} disappeared while waiting for it to settle")
            last.update(found)
            say(f"waiting for mapping {uuid} to settle ({found.get('State')})")
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

    def wait_mapping_gone(self, uuid: str, *, deadline: Deadline, say: Say) -> None:
        last: dict[str, Any] = {}

        def gone() -> bool | None:
            found = self._get_mapping(uuid)
            last.update(found or {})
            say(f"waiting for mapping {uuid} to be deleted")
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

    def mapping_arn(self, uuid: str) -> str:
        return str((self._get_mapping(uuid) or {}).get("EventSourceMappingArn", ""))

    def tag_mapping(self, arn: str, tags: Mapping[str, str], *, deadline: Deadline) -> None:
        self._retry(
            "tag the event source mapping",
            lambda: self._lambda().tag_resource(Resource=arn, Tags=dict(tags)),
            deadline,
        )

    def untag_mapping(self, arn: str, keys: tuple[str, ...], *, deadline: Deadline) -> None:
        self._retry(
            "untag the event source mapping",
            lambda: self._lambda().untag_resource(Resource=arn, TagKeys=list(keys)),
            deadline,
        )

    # --- alarms -------------------------------------------------------------------------------------

    def put_alarm(self, step: PutAlarm, *, deadline: Deadline, say: Say) -> None:
        say(f"put alarm {step.name}")
        params: dict[str, Any] = dict(step.params)
        cloudwatch = self.factory.client("cloudwatch")
        self._retry(f"put alarm {step.name}", lambda: cloudwatch.put_metric_alarm(**params), deadline)

    def delete_alarms(self, names: tuple[str, ...], *, deadline: Deadline, say: Say) -> None:
        """DeleteAlarms (up to 100 names a call; a name already gone is no error for CloudWatch)."""
        say("delete alarm " + ", ".join(names))
        cloudwatch = self.factory.client("cloudwatch")
        for start in range(0, len(names), 100):
            chunk = list(names[start : start + 100])

            def delete(chunk: list[str] = chunk) -> object:
                return cloudwatch.delete_alarms(AlarmNames=chunk)

            with contextlib.suppress(NotFound):  # already gone: what we wanted
                self._retry("delete alarms", delete, deadline)

    # --- failure destination: the one seam to the destination adapters ------------------------------

    def destination(self, step: DestinationStep, *, say: Say) -> None:
        where = step.destination
        if step.action != "tag":
            say(f"{step.action} {where.type} {where.name}")
        params = {
            "type": where.type,
            "name": where.name,
            "trigger": where.trigger,
            "arn": where.arn,
            "url": where.url,
            "inspect_queue": where.inspect_queue,
            "attributes": where.attributes,
            "tags": where.tags,
        }
        write = {
            "create": dest.create_destination,
            "update": dest.update_destination,
            "tag": dest.tag_destination,
            "delete": dest.delete_destination,
        }[step.action]
        write(self.factory, params)


def _stream_as(found: TableDescriptionTypeDef, spec: StreamSpecificationTypeDef) -> bool:
    """Whether the described table's stream is as ``spec`` asks (enabled with its view type, or off)."""
    current = found.get("StreamSpecification") or {"StreamEnabled": False}
    if not spec["StreamEnabled"]:
        return not current.get("StreamEnabled")
    return bool(current.get("StreamEnabled")) and current.get("StreamViewType") == spec.get("StreamViewType")


def _settled(found: TableDescriptionTypeDef) -> bool:
    """ACTIVE, and with its latest stream when the stream is on: nothing left to wait for."""
    stream = found.get("StreamSpecification")
    return found.get("TableStatus") == "ACTIVE" and (
        not (stream and stream.get("StreamEnabled")) or bool(found.get("LatestStreamArn"))
    )

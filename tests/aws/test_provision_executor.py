"""The executor's waits and retries, against real boto3 clients answered by botocore's ``Stubber`` with a
fake clock (no AWS, no real sleep).

Every call is validated against the service model and compared with the exact parameters expected, so a
wrong or misspelt parameter fails the test (a hand-written fake taking ``**kwargs`` would accept it).
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.executor import Executor
from ddbtrigger.core.plan import (
    Change,
    CreateMapping,
    DeleteMapping,
    Output,
    Plan,
    Step,
    UpdateMapping,
    UpdateStream,
    WaitMapping,
    WaitMappingGone,
    WaitTable,
)
from ddbtrigger.errors import AwsError, Conflict, WaitTimeout
from tests.helpers import FakeTime

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
REASON = "USER_INITIATED: still creating"
U1 = "11111111-1111-1111-1111-111111111111"  # Lambda's model wants 36-character UUIDs
OLD = "22222222-2222-2222-2222-222222222222"
NEW = "33333333-3333-3333-3333-333333333333"


@functools.cache
def session() -> boto3.Session:
    """One session for the module: it loads each service model once (each test gets fresh clients)."""
    return boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )


SHORT = {
    "UpdateEventSourceMapping": "update",
    "CreateEventSourceMapping": "create",
    "DeleteEventSourceMapping": "delete",
}


class Stubbed:
    """A ``ClientFactory`` whose Lambda and DynamoDB clients are answered by ``Stubber``, in order.

    ``calls`` records the Lambda operations asked for (``get <uuid>`` for GetEventSourceMapping).
    botocore's own retries are off (one attempt) so only the executor's retries are seen.
    """

    def __init__(self) -> None:
        target = AwsTarget(region="us-east-1", max_attempts=1)
        self.factory = ClientFactory(target, session=session())
        lam, ddb = self.factory.client("lambda"), self.factory.client("dynamodb")
        self.lam, self.ddb = Stubber(lam), Stubber(ddb)
        self.calls: list[str] = []
        lam.meta.events.register("before-parameter-build.lambda", self._record)
        self.lam.activate()
        self.ddb.activate()

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        name = model.name
        self.calls.append(f"get {params['UUID']}" if name == "GetEventSourceMapping" else SHORT[name])

    def fail(self, method: str, code: str, params: dict[str, Any], message: str = "") -> None:
        self.lam.add_client_error(method, code, message or code, http_status_code=400, expected_params=params)

    def update(self, *, error: str | None = None, message: str = "") -> None:
        params = {"UUID": U1, "BatchSize": 5}
        if error:
            self.fail("update_event_source_mapping", error, params, message)
        else:
            self.lam.add_response("update_event_source_mapping", {"UUID": U1}, params)

    def create(self, *, error: str | None = None, message: str = "") -> None:
        params = {"EventSourceArn": STREAM, "FunctionName": "fn", "StartingPosition": "LATEST"}
        if error:
            self.fail("create_event_source_mapping", error, params, message)
        else:
            self.lam.add_response("create_event_source_mapping", {"UUID": NEW}, params)

    def state(self, uuid: str, state: str) -> None:
        if state == "gone":
            self.fail("get_event_source_mapping", "ResourceNotFoundException", {"UUID": uuid})
            return
        answer = {"UUID": uuid, "State": state, "StateTransitionReason": REASON}
        self.lam.add_response("get_event_source_mapping", answer, {"UUID": uuid})

    def table(self, **fields: Any) -> None:
        answer = {"Table": {"TableName": "orders", "TableStatus": "ACTIVE", **fields}}
        self.ddb.add_response("describe_table", answer, {"TableName": "orders"})

    def assert_all_used(self) -> None:
        self.lam.assert_no_pending_responses()
        self.ddb.assert_no_pending_responses()


def one_change(*steps: Step, action: str = "update") -> Plan:
    return Plan((Change("t", "mapping", action, "why", {}, steps),))  # type: ignore[arg-type]


def executor(stubbed: Stubbed, clock: FakeTime, timeout: float = 600) -> Executor:
    return Executor(stubbed.factory, timeout=timeout, sleep=clock.sleep, clock=clock.clock)


UPDATE = UpdateMapping(U1, {"BatchSize": 5})
WAIT = WaitMapping(U1)


def test_busy_mapping_is_retried_with_backoff() -> None:
    clock, lam = FakeTime(), Stubbed()
    lam.update(error="ResourceInUseException")
    lam.update(error="ResourceConflictException")
    lam.update()
    done = executor(lam, clock).run(one_change(UPDATE))
    assert len(done) == 1
    assert lam.calls == ["update", "update", "update"]
    assert clock.sleeps == [0.5, 1.0]
    lam.assert_all_used()


def test_iam_propagation_is_retried_but_other_invalid_parameters_are_not() -> None:
    clock, lam = FakeTime(), Stubbed()
    lam.update(
        error="InvalidParameterValueException",
        message="The role defined for the function cannot be assumed by Lambda.",
    )
    lam.update()
    executor(lam, clock).run(one_change(UPDATE))
    assert lam.calls == ["update", "update"]
    bad = Stubbed()
    bad.update(error="InvalidParameterValueException", message="BatchSize out of range")
    with pytest.raises(AwsError, match="BatchSize out of range"):
        executor(bad, FakeTime()).run(one_change(UPDATE))
    assert bad.calls == ["update"]


def test_mapping_wait_polls_until_settled() -> None:
    clock, lam = FakeTime(), Stubbed()
    lam.update()
    for state in ("Updating", "Updating", "Enabled"):
        lam.state(U1, state)
    executor(lam, clock).run(one_change(UPDATE, WAIT))
    assert lam.calls.count(f"get {U1}") == 3
    assert clock.sleeps == [0.5, 1.0]
    lam.assert_all_used()


def test_timeout_reports_state_transition_reason_and_what_was_not_done() -> None:
    clock, lam = FakeTime(), Stubbed()
    lam.update()
    for _ in range(10):  # 0.5 + 1 + 2 + 4 + 8 + 10 + ... reaches 30 s within ten polls
        lam.state(U1, "Creating")
    with pytest.raises(WaitTimeout) as caught:
        executor(lam, clock, timeout=30).run(one_change(UPDATE, WAIT))
    assert REASON in caught.value.message
    assert "Creating" in caught.value.message
    assert caught.value.exit_code == 1
    assert "not done: t: update mapping" in caught.value.details
    assert clock.now <= 30.0 + 1e-9  # never sleeps past the deadline


CREATE = CreateMapping("orders", "fn", {"StartingPosition": "LATEST"})


def test_replace_deletes_waits_until_gone_then_creates() -> None:
    clock, lam = FakeTime(), Stubbed()
    lam.lam.add_response("delete_event_source_mapping", {"UUID": OLD}, {"UUID": OLD})
    lam.state(OLD, "Deleting")
    lam.state(OLD, "gone")
    lam.table(LatestStreamArn=STREAM)
    lam.create()
    lam.state(NEW, "Enabled")
    create = CreateMapping("orders", "fn", {"StartingPosition": "LATEST"}, after_delete=True)
    steps = (DeleteMapping(OLD), WaitMappingGone(OLD), create, WaitMapping(Output(create.output)))
    executor(lam, clock).run(one_change(*steps, action="replace"))
    assert lam.calls == ["delete", f"get {OLD}", f"get {OLD}", "create", f"get {NEW}"]
    lam.assert_all_used()


def test_create_conflict_is_retried_in_a_replace_but_fails_fast_otherwise() -> None:
    create = CreateMapping("orders", "fn", {"StartingPosition": "LATEST"}, after_delete=True)
    lam = Stubbed()
    lam.table(LatestStreamArn=STREAM)
    lam.create(error="ResourceConflictException", message="mapping already exists")
    lam.create()
    executor(lam, FakeTime()).run(one_change(create, action="replace"))
    assert lam.calls == ["create", "create"]
    other = Stubbed()
    other.table(LatestStreamArn=STREAM)
    other.create(error="ResourceConflictException", message="mapping already exists")
    with pytest.raises(Conflict, match="changed underneath"):
        executor(other, FakeTime()).run(one_change(CREATE, action="create"))
    assert other.calls == ["create"]


def test_a_wrong_parameter_fails_before_any_call() -> None:
    """What a ``**kwargs`` fake let through: a misspelt parameter is refused by the service model."""
    lam = Stubbed()
    lam.lam.add_response("update_event_source_mapping", {"UUID": U1})  # what a fake would answer
    wrong = UpdateMapping(U1, {"BatchSizes": 5})
    with pytest.raises(AwsError, match="BatchSizes"):
        executor(lam, FakeTime()).run(one_change(wrong))
    assert lam.calls == ["update"]  # built, refused by validation, never answered


def raced(lam: Stubbed, after: dict[str, Any]) -> None:
    """UpdateTable loses a race: another run enabled the stream between our read and our write."""
    lam.table(StreamSpecification={"StreamEnabled": False})
    params = {
        "TableName": "orders",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    }
    lam.ddb.add_client_error(
        "update_table",
        "ValidationException",
        "Table already has an enabled stream",
        http_status_code=400,
        expected_params=params,
    )
    lam.table(StreamSpecification=after)


ENABLE = UpdateStream("orders", enabled=True, view_type="KEYS_ONLY")


def test_stream_enabled_by_someone_else_as_wanted_is_done() -> None:
    lam = Stubbed()
    raced(lam, {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
    assert len(executor(lam, FakeTime()).run(one_change(ENABLE, action="create"))) == 1
    lam.assert_all_used()


def test_stream_enabled_by_someone_else_differently_is_a_conflict() -> None:
    lam = Stubbed()
    raced(lam, {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    with pytest.raises(Conflict, match="changed underneath us"):
        executor(lam, FakeTime()).run(one_change(ENABLE, action="create"))
    lam.assert_all_used()


ENABLED = {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}


def stream_then_mapping(
    lam: Stubbed, *, answered: str, polls: tuple[dict[str, Any], ...], stream: str
) -> Plan:
    """A stream created (wait, enable, wait) then a mapping on it: UpdateTable answers ``answered``, the
    wait after it reads ``polls``, and the mapping is expected on ``stream``."""
    lam.table(StreamSpecification={"StreamEnabled": False})  # the wait before: its answer is checked too
    answer = {"TableName": "orders", "TableStatus": answered, "StreamSpecification": ENABLED}
    lam.ddb.add_response(
        "update_table",
        {"TableDescription": {**answer, "LatestStreamArn": STREAM}},
        {"TableName": "orders", "StreamSpecification": ENABLED},
    )
    for fields in polls:
        lam.table(**fields)
    params = {"EventSourceArn": stream, "FunctionName": "fn", "StartingPosition": "LATEST"}
    lam.lam.add_response("create_event_source_mapping", {"UUID": NEW}, params)
    lam.state(NEW, "Enabled")
    steps = (WaitTable("orders"), ENABLE, WaitTable("orders"))
    stream_change = Change("t", "stream", "create", "why", {}, steps)
    mapping = Change("t", "mapping", "create", "why", {}, (CREATE, WaitMapping(Output(CREATE.output))))
    return Plan((stream_change, mapping))


def test_a_table_is_read_once_before_its_stream_change_and_not_after_an_active_answer() -> None:
    lam = Stubbed()
    plan = stream_then_mapping(lam, answered="ACTIVE", polls=(), stream=STREAM)
    assert len(executor(lam, FakeTime()).run(plan)) == 2
    lam.assert_all_used()  # one DescribeTable; the mapping made on the stream UpdateTable answered
    assert lam.calls == ["create", f"get {NEW}"]


def test_an_updating_answer_is_waited_out_and_the_mapping_made_on_the_stream_last_described() -> None:
    lam, clock = Stubbed(), FakeTime()
    later = STREAM.replace("2026-01-01", "2026-01-02")
    polls = (
        {"TableStatus": "UPDATING", "StreamSpecification": ENABLED, "LatestStreamArn": later},
        {"StreamSpecification": ENABLED, "LatestStreamArn": later},
    )
    plan = stream_then_mapping(lam, answered="UPDATING", polls=polls, stream=later)
    assert len(executor(lam, clock).run(plan)) == 2
    lam.assert_all_used()
    assert clock.sleeps == [0.5]

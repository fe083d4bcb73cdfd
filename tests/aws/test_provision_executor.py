"""The executor's waits and retries, against fake clients with a fake clock (no AWS, no real sleep)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ddbtrigger.aws.executor import Executor
from ddbtrigger.core.plan import Change, Plan, Step
from ddbtrigger.errors import AwsError, Conflict, WaitTimeout


def client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message or code}}, "Op")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeLambda:
    """Scripted answers: a list of exceptions to raise before succeeding, and the states to report."""

    def __init__(self, *, fail_first: list[Exception] | None = None, states: list[str] | None = None) -> None:
        self.fail_first = list(fail_first or [])
        self.states = list(states or ["Enabled"])
        self.calls: list[str] = []

    def _maybe_fail(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_first:
            raise self.fail_first.pop(0)

    def update_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        self._maybe_fail("update")
        return {}

    def create_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        self._maybe_fail("create")
        return {"UUID": "new"}

    def delete_event_source_mapping(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("delete")
        return {}

    def get_event_source_mapping(self, UUID: str) -> dict[str, Any]:
        self.calls.append(f"get {UUID}")
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if state == "gone":
            raise client_error("ResourceNotFoundException")
        return {"UUID": UUID, "State": state, "StateTransitionReason": "USER_INITIATED: still creating"}


class FakeDynamo:
    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {"Table": {"TableStatus": "ACTIVE", "LatestStreamArn": "arn:stream"}}


class FakeFactory:
    def __init__(self, lam: FakeLambda) -> None:
        self.clients = {"lambda": lam, "dynamodb": FakeDynamo()}
        self.region = "us-east-1"

    def client(self, name: str) -> Any:
        return self.clients[name]


def one_change(*steps: Step, action: str = "update") -> Plan:
    return Plan((Change("t", "mapping", action, "why", {}, steps),))  # type: ignore[arg-type]


def executor(lam: FakeLambda, clock: FakeClock, timeout: float = 600) -> Executor:
    return Executor(FakeFactory(lam), timeout=timeout, sleep=clock.sleep, clock=clock.clock)  # type: ignore[arg-type]


UPDATE = Step("update_mapping", {"uuid": "u1", "params": {"BatchSize": 5}})
WAIT = Step("wait_mapping", {"uuid": "u1"})


def test_busy_mapping_is_retried_with_backoff() -> None:
    clock = FakeClock()
    lam = FakeLambda(
        fail_first=[client_error("ResourceInUseException"), client_error("ResourceConflictException")]
    )
    done = executor(lam, clock).run(one_change(UPDATE))
    assert len(done) == 1
    assert lam.calls == ["update", "update", "update"]
    assert clock.sleeps == [0.5, 1.0]


def test_iam_propagation_is_retried_but_other_invalid_parameters_are_not() -> None:
    clock = FakeClock()
    iam = client_error(
        "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."
    )
    lam = FakeLambda(fail_first=[iam])
    executor(lam, clock).run(one_change(UPDATE))
    assert lam.calls == ["update", "update"]
    bad = FakeLambda(fail_first=[client_error("InvalidParameterValueException", "BatchSize out of range")])
    with pytest.raises(AwsError, match="BatchSize out of range"):
        executor(bad, FakeClock()).run(one_change(UPDATE))
    assert bad.calls == ["update"]


def test_mapping_wait_polls_until_settled() -> None:
    clock = FakeClock()
    lam = FakeLambda(states=["Updating", "Updating", "Enabled"])
    executor(lam, clock).run(one_change(UPDATE, WAIT))
    assert lam.calls.count("get u1") == 3
    assert clock.sleeps == [0.5, 1.0]


def test_timeout_reports_state_transition_reason_and_what_was_not_done() -> None:
    clock = FakeClock()
    lam = FakeLambda(states=["Creating"])
    with pytest.raises(WaitTimeout) as caught:
        executor(lam, clock, timeout=30).run(one_change(UPDATE, WAIT))
    assert "USER_INITIATED: still creating" in caught.value.message
    assert "Creating" in caught.value.message
    assert caught.value.exit_code == 1
    assert "not done: t: update mapping" in caught.value.details
    assert clock.now <= 30.0 + 1e-9  # never sleeps past the deadline


def test_replace_deletes_waits_until_gone_then_creates() -> None:
    clock = FakeClock()
    lam = FakeLambda(states=["Deleting", "gone", "Enabled"])
    steps = (
        Step("delete_mapping", {"uuid": "old"}),
        Step("wait_mapping_gone", {"uuid": "old"}),
        Step("create_mapping", {"table": "orders", "function": "fn", "params": {}}),
        Step("wait_mapping", {"uuid": None}),
    )
    executor(lam, clock).run(one_change(*steps, action="replace"))
    assert lam.calls == ["delete", "get old", "get old", "create", "get new"]


def test_create_conflict_is_retried_in_a_replace_but_fails_fast_otherwise() -> None:
    create = Step("create_mapping", {"table": "orders", "function": "fn", "params": {}, "after_delete": True})
    lam = FakeLambda(fail_first=[client_error("ResourceConflictException", "mapping already exists")])
    executor(lam, FakeClock()).run(one_change(create, action="replace"))
    assert lam.calls == ["create", "create"]
    other = FakeLambda(fail_first=[client_error("ResourceConflictException", "mapping already exists")])
    alone = Step("create_mapping", {"table": "orders", "function": "fn", "params": {}})
    with pytest.raises(Conflict, match="changed underneath"):
        executor(other, FakeClock()).run(one_change(alone, action="create"))
    assert other.calls == ["create"]


class RacedDynamo:
    """UpdateTable loses a race: another run enabled the stream between our read and our write."""

    def __init__(self, *, after: dict[str, Any]) -> None:
        self.reads = 0
        self.after = after

    def describe_table(self, TableName: str) -> dict[str, Any]:
        self.reads += 1
        spec = {"StreamEnabled": False} if self.reads == 1 else self.after
        return {"Table": {"TableStatus": "ACTIVE", "StreamSpecification": spec}}

    def update_table(self, **kwargs: Any) -> dict[str, Any]:
        raise client_error("ValidationException", "Table already has an enabled stream")


ENABLE = Step("update_stream", {"table": "orders", "enabled": True, "view_type": "KEYS_ONLY"})


def test_stream_enabled_by_someone_else_as_wanted_is_done() -> None:
    ex = executor(FakeLambda(), FakeClock())
    ex.factory.clients["dynamodb"] = RacedDynamo(after={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})  # type: ignore[attr-defined]
    assert len(ex.run(one_change(ENABLE, action="create"))) == 1


def test_stream_enabled_by_someone_else_differently_is_a_conflict() -> None:
    ex = executor(FakeLambda(), FakeClock())
    ex.factory.clients["dynamodb"] = RacedDynamo(after={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})  # type: ignore[attr-defined]
    with pytest.raises(Conflict, match="changed underneath us"):
        ex.run(one_change(ENABLE, action="create"))

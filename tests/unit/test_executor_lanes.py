"""``apply`` runs independent triggers side by side, each trigger's changes in the plan's order, and the
first hard error still stops the run with what was done and what was not.

A hand-written ``StepGateway`` records every step per thread; the overlap is proven with a barrier both
triggers must reach (deadline-bounded: a run that serialised them fails with ``BrokenBarrierError``
instead of hanging), never with sleeps.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.executor import Executor
from ddbtrigger.core.lanes import lanes
from ddbtrigger.core.plan import (
    Change,
    CreateMapping,
    Destination,
    DestinationStep,
    Output,
    Plan,
    PutAlarm,
    UpdateStream,
    WaitMapping,
    WaitTable,
)
from ddbtrigger.errors import Conflict

BOUND = 5.0  # seconds any test waits for another thread at most


def trigger_changes(name: str, table: str | None = None) -> list[Change]:
    """A trigger from nothing: its queue, its stream, its mapping, one alarm (the plan's order)."""
    table = table or f"{name}-table"
    queue = Destination("sqs", f"{name}-dlq", name)
    create = CreateMapping(table, f"{name}-fn", {"StartingPosition": "LATEST"})
    stream = (WaitTable(table), UpdateStream(table, enabled=True, view_type="KEYS_ONLY"), WaitTable(table))
    return [
        Change(name, "on_failure", "create", "why", {}, (DestinationStep("create", queue),)),
        Change(name, "stream", "create", "why", {}, stream),
        Change(name, "mapping", "create", "why", {}, (create, WaitMapping(Output(create.output)))),
        Change(name, "alarm", "create", "why", {}, (PutAlarm(f"{name}-age", {}),), name=f"{name}-age"),
    ]


class Gateway:
    """Records ``(trigger, step)`` as each step runs; ``on(step, trigger)`` hooks a step (block, fail)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str]] = []
        self.hooks: dict[tuple[str, str], Callable[[], None]] = {}
        self._lock = threading.Lock()

    def on(self, op: str, trigger: str, hook: Callable[[], None]) -> None:
        self.hooks[(op, trigger)] = hook

    def _step(self, op: str, trigger: str) -> None:
        with self._lock:
            self.steps.append((trigger, op))
        hook = self.hooks.get((op, trigger))
        if hook is not None:
            hook()

    def of(self, trigger: str) -> list[str]:
        return [op for t, op in self.steps if t == trigger]

    # StepGateway: the trigger is read back from the resource names of ``trigger_changes``
    def wait_table(self, table: str, **_: Any) -> None:
        self._step("wait_table", table.removesuffix("-table"))

    def update_stream(self, step: UpdateStream, **_: Any) -> None:
        self._step("update_stream", step.table.removesuffix("-table"))

    def create_mapping(self, step: CreateMapping, **_: Any) -> str:
        self._step("create_mapping", step.function.removesuffix("-fn"))
        return f"uuid-{step.function.removesuffix('-fn')}"

    def wait_mapping(self, uuid: str, **_: Any) -> None:
        self._step("wait_mapping", uuid.removeprefix("uuid-"))

    def destination(self, step: DestinationStep, **_: Any) -> None:
        self._step("create_destination", step.destination.trigger)

    def put_alarm(self, step: PutAlarm, **_: Any) -> None:
        self._step("put_alarm", step.name.removesuffix("-age"))

    def update_mapping(self, *a: Any, **k: Any) -> None: ...
    def delete_mapping(self, *a: Any, **k: Any) -> None: ...
    def wait_mapping_gone(self, *a: Any, **k: Any) -> None: ...
    def mapping_arn(self, uuid: str) -> str:
        return uuid

    def tag_mapping(self, arn: str, tags: Mapping[str, str], **_: Any) -> None: ...
    def untag_mapping(self, arn: str, keys: tuple[str, ...], **_: Any) -> None: ...
    def delete_alarms(self, names: tuple[str, ...], **_: Any) -> None: ...


ORDER = [
    "create_destination",
    "wait_table",
    "update_stream",
    "wait_table",
    "create_mapping",
    "wait_mapping",
    "put_alarm",
]


def executor(gateway: Gateway, **kw: Any) -> Executor:
    return Executor(ClientFactory(AwsTarget(region="us-east-1")), gateway=gateway, **kw)


def test_independent_triggers_wait_at_the_same_time() -> None:
    gw = Gateway()
    both_waiting = threading.Barrier(2, timeout=BOUND)  # broken (an error) if the waits do not overlap
    gw.on("wait_mapping", "a", both_waiting.wait)
    gw.on("wait_mapping", "b", both_waiting.wait)
    done = executor(gw).run(Plan(tuple(trigger_changes("a") + trigger_changes("b"))))
    assert len(done) == 8
    assert gw.of("a") == ORDER
    assert gw.of("b") == ORDER


def test_one_at_a_time_keeps_the_plans_order_exactly() -> None:
    gw = Gateway()
    changes = trigger_changes("a") + trigger_changes("b")
    done = executor(gw, concurrency=1).run(Plan(tuple(changes)))
    assert done == changes
    assert [t for t, _ in gw.steps] == ["a"] * len(ORDER) + ["b"] * len(ORDER)


def test_each_trigger_keeps_its_order_among_many() -> None:
    gw = Gateway()
    names = [f"t{i}" for i in range(12)]
    done = executor(gw).run(Plan(tuple(c for n in names for c in trigger_changes(n))))
    assert len(done) == 4 * len(names)
    for name in names:
        assert gw.of(name) == ORDER


def test_triggers_sharing_a_table_run_in_the_plans_order() -> None:
    a, b = trigger_changes("a", table="shared"), trigger_changes("b", table="shared")
    b = [c for c in b if c.resource != "stream"]  # the plan changes one table's stream once
    assert len(lanes([*a, *b])) == 1
    assert len(lanes(trigger_changes("a") + trigger_changes("b"))) == 2
    gw = Gateway()
    executor(gw).run(Plan(tuple(a + b)))
    assert gw.steps.index(("b", "create_mapping")) > gw.steps.index(("shared", "wait_table"))
    assert [t for t, _ in gw.steps if t in ("a", "b")] == ["a"] * 4 + ["b"] * 4


def test_first_error_stops_what_has_not_started_and_running_changes_finish() -> None:
    """a fails while b's mapping is running: b's mapping finishes (done), b's alarm and c never start."""
    gw = Gateway()
    a_failed = threading.Event()

    def fail() -> None:
        raise Conflict("changed underneath us: a's stream")

    def until_a_failed() -> None:
        assert a_failed.wait(BOUND)

    b_waiting = threading.Event()
    gw.on("create_mapping", "b", b_waiting.set)
    gw.on("wait_mapping", "b", until_a_failed)
    gw.on("update_stream", "a", lambda: (b_waiting.wait(BOUND), fail()))

    def progress(change: Change, message: str) -> None:
        if message == "failed":
            a_failed.set()

    plan = Plan(tuple(trigger_changes("a") + trigger_changes("b") + trigger_changes("c")))
    with pytest.raises(Conflict, match="a's stream") as caught:
        executor(gw, concurrency=2, progress=progress).run(plan)
    assert gw.of("c") == []
    assert gw.of("b") == ORDER[:-1]  # its running mapping finished; its alarm was not started
    details = caught.value.details
    assert "done: b: create mapping" in details
    assert "done: a: create on_failure" in details
    assert "not done: a: create stream" in details
    assert "not done: b: create alarm b-age" in details
    assert "not done: c: create on_failure" in details
    assert details[-1].startswith("rerun the command")


def test_errors_in_two_lanes_raise_the_first_and_name_the_other() -> None:
    gw = Gateway()
    second_running, first_failed = threading.Event(), threading.Event()

    def fail_first() -> None:
        assert second_running.wait(BOUND)
        raise Conflict("a first")

    def fail_second() -> None:
        second_running.set()
        assert first_failed.wait(BOUND)
        raise Conflict("b second")

    gw.on("create_destination", "a", fail_first)
    gw.on("create_destination", "b", fail_second)

    def progress(change: Change, message: str) -> None:
        if message == "failed" and change.trigger == "a":
            first_failed.set()

    plan = Plan(tuple(trigger_changes("a") + trigger_changes("b")))
    with pytest.raises(Conflict, match="a first") as caught:
        executor(gw, progress=progress).run(plan)
    assert "also failed: b: create on_failure: b second" in caught.value.details
    assert "done: nothing" in caught.value.details


def test_a_bug_in_a_lane_is_raised_as_it_is() -> None:
    gw = Gateway()

    def bug() -> None:
        raise KeyError("oops")

    gw.on("put_alarm", "b", bug)
    with pytest.raises(KeyError, match="oops"):
        executor(gw).run(Plan(tuple(trigger_changes("a") + trigger_changes("b"))))


def test_ctrl_c_stops_every_lane_and_leaves_the_waits() -> None:
    """Ctrl-C reaches the main thread while the lanes run: no lane starts another change, and a wait
    in progress is left at its next sleep (the gateway's sleep is the executor's ``_pause``)."""
    gw = Gateway()
    run = executor(gw, concurrency=2)

    def interrupt() -> None:
        main = threading.main_thread().ident
        assert main is not None
        signal.pthread_kill(main, signal.SIGINT)  # Ctrl-C, to the main thread waiting on the lanes
        assert run._stop.stopped.wait(BOUND)

    b_running = threading.Event()

    def until_stopped() -> None:
        b_running.set()
        assert run._stop.stopped.wait(BOUND)

    gw.on("create_destination", "b", until_stopped)
    gw.on("create_destination", "a", lambda: (b_running.wait(BOUND), interrupt()))
    with pytest.raises(KeyboardInterrupt):
        run.run(Plan(tuple(trigger_changes("a") + trigger_changes("b"))))
    assert gw.of("a") == ["create_destination"]
    assert gw.of("b") == ["create_destination"]  # the change it had started finished; no other began
    slept: list[float] = []
    paused = Executor(ClientFactory(AwsTarget(region="us-east-1")), sleep=slept.append)
    paused._pause(0.5)
    paused._stop.aborted.set()
    with pytest.raises(BaseException) as caught:
        paused._pause(0.5)
    assert type(caught.value).__name__ == "_Interrupted"
    assert slept == [0.5]

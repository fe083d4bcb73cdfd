"""``usecases.replay_lambda.Runner`` against an in-memory gateway: the mapping always goes."""

from __future__ import annotations

from typing import Any

import pytest

from ddbtrigger.core.replay_watch import Observation, ShardPosition
from ddbtrigger.core.selection import parse_selection
from ddbtrigger.core.windows import TimeWindow
from ddbtrigger.errors import NotFound, WaitTimeout
from ddbtrigger.usecases.replay_lambda import LambdaReplayPlan, Runner
from ddbtrigger.usecases.stream_target import StreamTarget


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.01)


class Gateway:
    def __init__(self, clock: Clock, *, past_after: float, fail_observe: bool = False) -> None:
        self.clock, self.past_after, self.fail_observe = clock, past_after, fail_observe
        self.created: list[dict[str, Any]] = []
        self.removed: list[str] = []

    def create(self, table: str, function: str, params: Any, **_: Any) -> str:
        self.created.append(dict(params))
        return "uuid-1"

    def wait_enabled(self, uuid: str, **_: Any) -> None: ...

    def remove(self, uuid: str, **_: Any) -> None:
        self.removed.append(uuid)

    def observe(self, uuid: str, function: str, *, now: float) -> Observation:
        if self.fail_observe:
            raise NotFound("the mapping vanished")
        read = 1100.0 if self.clock.t >= self.past_after else 900.0
        return Observation(now, "Enabled", shards={"s": ShardPosition(read, False)})


def plan() -> LambdaReplayPlan:
    target = StreamTarget("t", "orders", "arn:stream", "fn", 10)
    sel = parse_selection(window=TimeWindow(500.0, 1000.0))
    return LambdaReplayPlan(target, "fn", sel, "abc", {"BatchSize": 10}, 0)


def runner(clock: Clock, gw: Gateway) -> Runner:
    return Runner(gw, sleep=clock.sleep, clock=clock, monotonic=clock, interval=1.0)


def test_done_then_removed() -> None:
    clock = Clock()
    gw = Gateway(clock, past_after=1005.0)
    report = runner(clock, gw).run(plan(), timeout=60)
    assert report.done and report.removed and gw.removed == ["uuid-1"] and report.error is None


@pytest.mark.parametrize("fail", [False, True])
def test_timeout_or_error_still_removes(fail: bool) -> None:
    clock = Clock()
    gw = Gateway(clock, past_after=10**9, fail_observe=fail)
    report = runner(clock, gw).run(plan(), timeout=30)
    assert not report.done and report.removed and gw.removed == ["uuid-1"]
    assert isinstance(report.error, NotFound if fail else WaitTimeout)


def test_ctrl_c_removes() -> None:
    clock = Clock()
    gw = Gateway(clock, past_after=10**9)

    def interrupt(_: float) -> None:
        raise KeyboardInterrupt

    report = Runner(gw, sleep=interrupt, clock=clock, monotonic=clock).run(plan(), timeout=60)
    assert report.interrupted and report.removed and gw.removed == ["uuid-1"]


def test_dry_run_creates_nothing() -> None:
    clock = Clock()
    gw = Gateway(clock, past_after=0)
    report = runner(clock, gw).run(plan(), timeout=60, dry_run=True)
    assert report.dry_run and gw.created == [] and gw.removed == []

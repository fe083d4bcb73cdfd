"""SIGKILL ``redrive`` at random moments, then let it finish: no record is lost, order is kept.

300 failures (one-record batches) over 3 shards (3 tables, 3 triggers, 3 SQS destinations), their
pointers crafted from the streams' real sequence numbers and sent in a shuffled order. The function is
a handler that logs every record it receives. ``redrive`` runs as a subprocess against an in-process
sandbox and is killed (SIGKILL) at 25 random moments: after a random number of deliveries seen in the
handler's log, or at a random time during start-up and the scan of the queues.

A killed redrive leaves the messages it held invisible until its ``--hold-seconds`` (5 s here) pass;
``redrive`` itself does not wait for them (it reads what is visible). A rerun started earlier would see
only part of a shard's failures, so the test does what the runbook says: wait until the destination
shows no message in flight. The first wait is real time (proving that the held messages do come back);
after that, moto's SQS clock is moved forward by the hold time instead of sleeping.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.world import (
    FailureWorld,
    SqsClock,
    cli_env,
    record_figures,
    run,
    sigkill,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow

SHARDS, PER_SHARD, KILLS, HOLD = 3, 100, 25, 5


def redrive_args(world: FailureWorld) -> list[str]:
    return [
        "redrive",
        "-f",
        str(world.spec),
        "--yes",
        "--hold-seconds",
        str(HOLD),
        "--reads-per-second",
        "100",
        "--concurrency",
        "3",
        "--output",
        "json",
    ]


def wait_released(world: FailureWorld, clock: SqsClock, *, real_time: bool) -> float:
    """Wait until no failure is held invisible by a killed run; returns the seconds waited."""
    began = time.monotonic()
    if real_time:
        wait_for(lambda: world.depth()[1] == 0, timeout=HOLD * 3 + 10, what="held failures to reappear")
        return time.monotonic() - began
    deadline = began + 20
    while world.depth()[1]:
        clock.advance(HOLD + 1)
        assert time.monotonic() < deadline, "held failures never reappeared"
        time.sleep(0.05)
    return 0.0


def kill_once(world: FailureWorld, rng: random.Random, env: dict[str, str], tmp: Path) -> str:
    """One run killed at a random moment; returns where it was killed ('startup', 'deliveries', 'finished').

    The handler holds every invocation from the chosen delivery on (``DeliveryLog.hold_from``), so the
    run is still working when it is killed, on a fast machine as on a slow one; the other workers are
    caught wherever they are (reading the queue, the stream, deleting). A start-up kill is a random
    time, with the hold at the first delivery so the run cannot finish before it."""
    remaining = sum(world.depth())
    before = world.log.count
    startup = rng.random() < 0.2
    target = 1 if startup else rng.randint(1, max(1, remaining // 3))
    world.log.hold_from(before + target)
    proc = start(redrive_args(world), env, cwd=tmp, log=tmp / "redrive.log")
    try:
        if startup:
            delay = time.monotonic() + rng.uniform(0.0, 1.5)
            wait_for(lambda: proc.poll() is not None or time.monotonic() > delay, timeout=10, what="start-up")
            phase = "startup" if world.log.count == before else "deliveries"
        else:
            wait_for(
                lambda: proc.poll() is not None or world.log.count - before >= target,
                timeout=90,
                what=f"{target} deliveries",
            )
            jitter = time.monotonic() + rng.uniform(0.0, 0.03)
            wait_for(lambda: time.monotonic() > jitter, timeout=1)
            phase = "deliveries"
    finally:
        killed = sigkill(proc)
        world.log.release()
    return phase if killed else "finished"


def first_delivery_order_kept(entries: list[dict[str, str]]) -> dict[str, bool]:
    seen: set[tuple[str, str]] = set()
    firsts: dict[str, list[int]] = {}
    for e in entries:
        if (e["arn"], e["seq"]) not in seen:
            seen.add((e["arn"], e["seq"]))
            firsts.setdefault(e["arn"], []).append(int(e["seq"]))
    return {arn: seqs == sorted(seqs) for arn, seqs in firsts.items()}


def test_redrive_killed_at_random_moments_loses_nothing_and_keeps_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: Any
) -> None:
    from ddbtrigger.sandbox import Sandbox

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    clock = SqsClock(monkeypatch)
    with Sandbox(poll_interval=0.5, state_seconds=0) as sb:
        world = FailureWorld(sb, tmp_path, shards=SHARDS, per_shard=PER_SHARD, rng=rng)
        env = cli_env(sb.endpoint_url)
        phases: dict[str, int] = {}
        real_wait = 0.0
        for n in range(KILLS):
            phase = kill_once(world, rng, env, tmp_path)
            phases[phase] = phases.get(phase, 0) + 1
            real_wait += wait_released(world, clock, real_time=n == 0)
        assert sum(world.depth()) > 0 or phases.get("finished"), "the kills left nothing to finish"
        final = run(redrive_args(world), env, cwd=tmp_path, timeout=180)
        assert final.returncode == 0, final.stderr[-2000:]
        assert world.depth() == (0, 0), "the destination is not empty after the final run"

        entries = world.log.entries()
        delivered = {(e["arn"], int(e["seq"])) for e in entries}
        expected = {(arn, s) for arn, seqs in world.expected.items() for s in seqs}
        lost = expected - delivered
        assert not lost, f"{len(lost)} record(s) never delivered (seed {seed})"
        assert delivered == expected
        order = first_delivery_order_kept(entries)
        assert all(order.values()) and len(order) == SHARDS, f"per-shard order broken (seed {seed}): {order}"
        kills = KILLS - phases.get("finished", 0)
        assert kills == KILLS, f"only {kills} of {KILLS} runs were killed mid-way (seed {seed}): {phases}"
        record_figures(
            request.config,
            "kill_redrive",
            {
                "seed": seed,
                "runs": KILLS + 1,
                "kills": kills,
                "kill_phases": phases,
                "failures": world.records,
                "records": world.records,
                "deliveries": len(entries),
                "lost": len(lost),
                "duplicates": len(entries) - len(expected),
                "real_seconds_waited_for_release": round(real_wait, 1),
            },
        )


def test_rerun_right_after_a_kill_does_not_call_the_destination_empty(tmp_path: Path) -> None:
    """A rerun inside the killed run's hold time sees no failure: it must say that N are held by
    another reader and exit 1, not call the destination empty (and it must not touch them)."""
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=0.5, state_seconds=0) as sb:
        world = FailureWorld(sb, tmp_path, shards=1, per_shard=30, rng=random.Random(5))
        env = cli_env(sb.endpoint_url)
        args = [*redrive_args(world)[:-2], "--hold-seconds", "300"]
        world.log.hold_from(3)
        proc = start(args, env, cwd=tmp_path, log=tmp_path / "first.log")
        try:
            wait_for(lambda: proc.poll() is not None or world.log.count >= 3, timeout=60, what="deliveries")
        finally:
            killed = sigkill(proc)
            world.log.release()
        assert killed, "the first run finished before it could be killed"
        assert world.depth()[1] > 0, "nothing was held by the killed run"
        rerun = run(args, env, cwd=tmp_path)
        held = world.depth()[1]
        text = rerun.stdout + rerun.stderr
        assert "destination is empty" not in text, text[-1500:]
        assert rerun.returncode == 1, text[-1500:]
        assert "held invisible" in text and str(held) in text, text[-1500:]
        assert world.depth() == (0, held), "the rerun changed what the killed run held"

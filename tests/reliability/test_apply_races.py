"""``apply`` killed mid-way, and two ``apply`` runs at once: both end where one clean run ends.

A round is 3 triggers on 3 fresh tables without streams (one SQS, one SNS with its inspect queue, one S3
destination), so ``apply`` has ~10 steps: enable each stream, create each destination, create each
mapping and wait for it. Kill rounds SIGKILL ``apply`` after a random number of those steps is seen in
the sandbox (plus a random jitter); the next ``apply`` must converge and ``plan --detailed-exitcode``
must then be 0. Race rounds start two ``apply`` processes at once: each succeeds, or exits 1 with a
"changed underneath" message; afterwards there is exactly one mapping per trigger and the plan is empty.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ddbtrigger_executable
from tests.reliability.world import (
    cli_env,
    make_table,
    record_figures,
    run,
    sigkill,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow

KILL_ROUNDS, RACE_ROUNDS = 3, 2


class ApplyRound:
    """Three triggers with fresh names; ``steps()`` counts what ``apply`` has done so far."""

    def __init__(self, sb: Any, tmp: Path, tag: str) -> None:
        self.sb, self.tag = sb, tag
        self.tables = [f"{tag}-table-{i}" for i in range(3)]
        self.functions = [f"{tag}-fn-{i}" for i in range(3)]
        for table, function in zip(self.tables, self.functions, strict=True):
            make_table(sb, table, stream=False)
            sb.register_handler(function, lambda event, context: None)
        destinations = [
            f"{{type: sqs, name: {tag}-dlq}}",
            f"{{type: sns, name: {tag}-topic, inspect_queue: {tag}-topic-tap}}",
            f"{{type: s3, name: {tag}-failures}}",
        ]
        lines = ["version: 1", "triggers:"]
        for i, destination in enumerate(destinations):
            lines += [
                f"  - name: {tag}-trigger-{i}",
                f"    table: {self.tables[i]}",
                f"    function: {self.functions[i]}",
                "    stream: {view_type: NEW_AND_OLD_IMAGES}",
                f"    on_failure: {destination}",
            ]
        self.spec = tmp / f"{tag}.yaml"
        self.spec.write_text("\n".join(lines) + "\n")

    def mappings(self) -> list[int]:
        lam = self.sb.client("lambda")
        return [
            len(lam.list_event_source_mappings(FunctionName=f)["EventSourceMappings"]) for f in self.functions
        ]

    def steps(self) -> int:
        ddb, sqs = self.sb.client("dynamodb"), self.sb.client("sqs")
        streams = sum(
            1 for t in self.tables if ddb.describe_table(TableName=t)["Table"].get("LatestStreamArn")
        )
        queues = len(sqs.list_queues(QueueNamePrefix=self.tag).get("QueueUrls", []))
        topics = sum(
            1 for t in self.sb.client("sns").list_topics()["Topics"] if f":{self.tag}-" in t["TopicArn"]
        )
        buckets = sum(
            1 for b in self.sb.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(self.tag)
        )
        return streams + queues + topics + buckets + sum(self.mappings())

    def converged(self, env: dict[str, str], cwd: Path) -> None:
        plan = run(["plan", "-f", str(self.spec), "--detailed-exitcode"], env, cwd=cwd)
        assert plan.returncode == 0, f"plan is not a no-op:\n{plan.stdout[-3000:]}{plan.stderr[-2000:]}"
        assert self.mappings() == [1, 1, 1], f"mappings per trigger: {self.mappings()}"


@contextmanager
def serialized_update_table() -> Iterator[None]:
    """The sandbox checks "stream already enabled" and then enables it without a lock, so two
    concurrent UpdateTable calls can both pass the check and make two streams (AWS serialises them: the
    table is UPDATING and the second call is refused). Until the sandbox locks it, the test does."""
    from moto.dynamodb.models import DynamoDBBackend

    patched = DynamoDBBackend.update_table_streams
    lock = threading.Lock()

    def locked(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return patched(*args, **kwargs)

    DynamoDBBackend.update_table_streams = locked  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.update_table_streams = patched  # type: ignore[method-assign]


def apply_args(spec: Path) -> list[str]:
    return ["apply", "-f", str(spec), "--yes", "--timeout", "120"]


def test_apply_killed_mid_way_converges_on_the_next_apply(tmp_path: Path, request: Any) -> None:
    from ddbtrigger.sandbox import Sandbox

    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    kills, steps_at_kill = 0, []
    with Sandbox(poll_interval=0.1, state_seconds=0) as sb:
        env = cli_env(sb.endpoint_url)
        for n in range(KILL_ROUNDS):
            rnd = ApplyRound(sb, tmp_path, f"k{n}")
            target = rng.randint(0, 9)
            proc = start(apply_args(rnd.spec), env, cwd=tmp_path, log=tmp_path / f"k{n}.log")
            try:
                wait_for(
                    lambda: proc.poll() is not None or rnd.steps() >= target,  # noqa: B023
                    timeout=120,
                    what=f"{target} apply steps",
                )
                jitter = time.monotonic() + rng.uniform(0, 0.2)
                wait_for(lambda: time.monotonic() > jitter, timeout=1)  # noqa: B023
            finally:
                killed = sigkill(proc)
            kills += killed
            steps_at_kill.append(rnd.steps() if killed else -1)
            again = run(apply_args(rnd.spec), env, cwd=tmp_path, timeout=180)
            assert again.returncode == 0, f"seed {seed} round {n}: {again.stderr[-2000:]}"
            rnd.converged(env, tmp_path)
    assert kills >= KILL_ROUNDS // 2, (
        f"only {kills} of {KILL_ROUNDS} applies were killed mid-way (seed {seed})"
    )
    record_figures(
        request.config,
        "kill_apply",
        {"seed": seed, "runs": KILL_ROUNDS * 2, "kills": kills, "steps_done_at_kill": steps_at_kill},
    )


def test_two_applies_at_once_end_as_one(tmp_path: Path, request: Any) -> None:
    from ddbtrigger.sandbox import Sandbox

    outcomes: list[tuple[int, int]] = []
    losers: list[str] = []
    with Sandbox(poll_interval=0.1, state_seconds=0) as sb, serialized_update_table():
        env = cli_env(sb.endpoint_url)
        for n in range(RACE_ROUNDS):
            rnd = ApplyRound(sb, tmp_path, f"r{n}")
            procs = [
                subprocess.Popen(
                    [*ddbtrigger_executable(), *apply_args(rnd.spec)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    stdin=subprocess.DEVNULL,
                    text=True,
                    env=env,
                    cwd=tmp_path,
                )
                for _ in range(2)
            ]
            results = [p.communicate(timeout=240) for p in procs]
            codes = (procs[0].returncode, procs[1].returncode)
            outcomes.append(codes)
            for (out, err), code in zip(results, codes, strict=True):
                assert "Traceback" not in out + err
                assert code in (0, 1), f"round {n}: exit {code}\n{err[-2000:]}"
                if code == 1:
                    errors = [line for line in err.splitlines() if line.startswith("error:")]
                    assert len(errors) == 1, f"round {n}: expected one error line:\n{err[-2000:]}"
                    assert "changed underneath" in errors[0], f"round {n}: unclear loser: {errors[0]}"
                    losers.append(errors[0])
            assert 0 in codes, f"round {n}: both applies failed: {[e[-500:] for _, e in results]}"
            rnd.converged(env, tmp_path)
    record_figures(
        request.config,
        "concurrent_apply",
        {
            "rounds": RACE_ROUNDS,
            "runs": RACE_ROUNDS * 2,
            "both_succeeded": sum(1 for c in outcomes if c == (0, 0)),
            "one_lost": sum(1 for c in outcomes if 1 in c),
            "loser_messages": losers[:3],
        },
    )


# -- the loser's message, made deterministic: another operator acts just before apply's own call ------
def _meddled_apply(tmp_path: Path, operation: str, act: Any) -> subprocess.CompletedProcess[str]:
    """Run ``apply`` through a proxy that lets ``act(sb, body)`` make the same change first."""
    from ddbtrigger.sandbox import Sandbox
    from tests.reliability.faults import FaultProxy

    done: list[str] = []
    with Sandbox(poll_interval=0.1, state_seconds=0) as sb:
        rnd = ApplyRound(sb, tmp_path, "m")

        def meddle(op: str, body: bytes) -> None:
            if op.startswith(operation) and not done:
                done.append(op)
                act(sb, body)

        with FaultProxy(sb.endpoint_url, rate=0.0, seed=0, meddle=meddle) as proxy:
            result = run(apply_args(rnd.spec), cli_env(proxy.endpoint_url), cwd=tmp_path, timeout=180)
        assert done, f"apply never called {operation}"
        assert "Traceback" not in result.stdout + result.stderr
        assert result.returncode in (0, 1), result.stderr[-2000:]
        if result.returncode == 1:
            errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, result.stderr[-2000:]
        again = run(apply_args(rnd.spec), cli_env(sb.endpoint_url), cwd=tmp_path, timeout=180)
        assert again.returncode == 0, again.stderr[-2000:]
        rnd.converged(cli_env(sb.endpoint_url), tmp_path)
    return result


def _enable_stream(sb: Any, body: bytes) -> None:
    import json

    request = json.loads(body)
    sb.client("dynamodb").update_table(
        TableName=request["TableName"], StreamSpecification=request["StreamSpecification"]
    )


def _create_mapping(sb: Any, body: bytes) -> None:
    import json

    request = json.loads(body)
    sb.client("lambda").create_event_source_mapping(
        EventSourceArn=request["EventSourceArn"],
        FunctionName=request["FunctionName"],
        StartingPosition=request.get("StartingPosition", "TRIM_HORIZON"),
    )


def test_mapping_created_underneath_is_a_clear_conflict(tmp_path: Path) -> None:
    result = _meddled_apply(tmp_path, "lambda:POST /2015-03-31/event-source-mappings", _create_mapping)
    assert result.returncode == 0 or "changed underneath" in result.stderr, result.stderr[-2000:]


def test_stream_enabled_underneath_is_a_clear_conflict(tmp_path: Path) -> None:
    result = _meddled_apply(tmp_path, "DynamoDB_20120810.UpdateTable", _enable_stream)
    assert result.returncode == 0 or "changed underneath" in result.stderr, result.stderr[-2000:]

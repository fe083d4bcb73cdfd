"""Fault injection: ``apply``, ``status``, ``inspect-dlq`` and ``redrive`` through a proxy that fails
10 % or 30 % of the calls (throttling, 500s, connection resets, answers lost after the call ran).

Each command either succeeds or exits 1 with one clear ``error:`` line and no traceback; none leaves an
SQS message invisible once it has exited; ``redrive`` deletes no failure whose records were not
delivered; and a clean rerun of ``apply`` converges (``plan --detailed-exitcode`` is 0, one mapping per
trigger). The proxy's RNG is seeded per case, so a failing case can be replayed exactly.
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.faults import FaultProxy
from tests.reliability.world import FailureWorld, cli_env, make_table, record_figures, run

pytestmark = pytest.mark.slow

RATES = (0.1, 0.3)
SEEDS = (11, 22)
CASES = [(rate, seed) for rate in RATES for seed in SEEDS]
APPLY_SPEC = """\
version: 1
triggers:
  - name: ap-sqs
    table: ap-table-0
    function: ap-fn-0
    stream: {view_type: NEW_AND_OLD_IMAGES}
    on_failure: {type: sqs, name: ap-dlq-0}
  - name: ap-s3
    table: ap-table-1
    function: ap-fn-1
    stream: {view_type: KEYS_ONLY}
    on_failure: {type: s3, name: ap-failures-bucket-1}
"""
FIGURES: dict[str, Any] = {"cases": 0, "runs": 0, "requests": 0, "faults": 0, "exit_1": 0, "kinds": {}}


def assert_clean_exit(
    result: subprocess.CompletedProcess[str], what: str, *, attention: bool = False
) -> None:
    """Exit 0, or exit 1 with one ``error:`` line (or, for a command that reports, 3: attention needed,
    with its whole result); never a traceback, never an unexpected error."""
    text = result.stdout + result.stderr
    allowed = (0, 1, 3) if attention else (0, 1)
    assert result.returncode in allowed, f"{what}: exit {result.returncode}\n{text[-3000:]}"
    assert "Traceback" not in text, f"{what}: traceback\n{text[-3000:]}"
    assert "unexpected" not in result.stderr, f"{what}: unexpected error\n{result.stderr[-2000:]}"
    if result.returncode == 1:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, f"{what}: expected one error line\n{result.stderr[-2000:]}"


def apply_world(sb: Any, tmp: Path) -> Path:
    for i in range(2):
        make_table(sb, f"ap-table-{i}", stream=False)
        sb.register_handler(f"ap-fn-{i}", lambda event, context: None)
    spec = tmp / "apply.yaml"
    spec.write_text(APPLY_SPEC)
    return spec


def mappings_per_function(sb: Any) -> dict[str, int]:
    lam = sb.client("lambda")
    return {
        f"ap-fn-{i}": len(lam.list_event_source_mappings(FunctionName=f"ap-fn-{i}")["EventSourceMappings"])
        for i in range(2)
    }


def gone_but_undelivered(world: FailureWorld) -> set[tuple[str, int]]:
    """Failures no longer in the destination whose record the handler never received."""
    left = set()
    sqs = world.sb.client("sqs")
    for url in world.queues:
        handles = []
        while True:  # read everything that is left, then make it visible again
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
                "Messages", []
            )
            if not messages:
                break
            for m in messages:
                info = json.loads(m["Body"])["DDBStreamBatchInfo"]
                left.add((info["streamArn"], int(info["startSequenceNumber"])))
                handles.append(m["ReceiptHandle"])
        for i in range(0, len(handles), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for n, h in enumerate(handles[i : i + 10])
            ]
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
    delivered = {(e["arn"], int(e["seq"])) for e in world.log.entries()}
    expected = {(arn, s) for arn, seqs in world.expected.items() for s in seqs}
    return expected - left - delivered


@pytest.mark.parametrize(("rate", "seed"), CASES, ids=[f"{int(r * 100)}pct-seed{s}" for r, s in CASES])
def test_commands_under_faults(rate: float, seed: int, tmp_path: Path, request: Any) -> None:
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=0.1, state_seconds=0) as sb:
        world = FailureWorld(sb, tmp_path, shards=2, per_shard=10, rng=random.Random(seed))
        apply_spec = apply_world(sb, tmp_path)
        clean = cli_env(sb.endpoint_url)
        with FaultProxy(sb.endpoint_url, rate=rate, seed=seed) as proxy:
            faulty = cli_env(proxy.endpoint_url)
            outcomes = {}

            # apply: succeeds or fails cleanly; a clean rerun converges with one mapping per trigger
            result = run(["apply", "-f", str(apply_spec), "--yes"], faulty, cwd=tmp_path, timeout=240)
            assert_clean_exit(result, "apply")
            outcomes["apply"] = result.returncode
            if result.returncode:
                rerun = run(["apply", "-f", str(apply_spec), "--yes"], clean, cwd=tmp_path, timeout=240)
                assert rerun.returncode == 0, rerun.stderr[-2000:]
            plan = run(["plan", "-f", str(apply_spec), "--detailed-exitcode"], clean, cwd=tmp_path)
            assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
            assert mappings_per_function(sb) == {"ap-fn-0": 1, "ap-fn-1": 1}

            # status: read-only
            result = run(["status", "-f", str(world.spec), "--output", "json"], faulty, cwd=tmp_path)
            assert_clean_exit(result, "status", attention=True)  # 3: failures are waiting
            outcomes["status"] = result.returncode

            # inspect-dlq: reads, holds, and must release everything on its way out
            result = run(["inspect-dlq", "-f", str(world.spec), "--output", "json"], faulty, cwd=tmp_path)
            assert_clean_exit(result, "inspect-dlq", attention=True)  # 3: some held by a fault's leftovers
            outcomes["inspect-dlq"] = result.returncode
            assert world.depth() == (world.records, 0), "inspect-dlq left messages invisible or lost some"
            if result.returncode == 0:
                assert len(json.loads(result.stdout)["failures"]) == world.records

            # redrive: deletes only what was delivered, releases the rest
            args = ["redrive", "-f", str(world.spec), "--yes", "--hold-seconds", "30", "--output", "json"]
            result = run([*args, "--reads-per-second", "50"], faulty, cwd=tmp_path, timeout=240)
            assert_clean_exit(result, "redrive")
            outcomes["redrive"] = result.returncode
            assert world.depth()[1] == 0, "redrive left messages invisible after it exited"
            assert not gone_but_undelivered(world), "redrive deleted an undelivered failure"
            figures = proxy.figures()

        final = run([*args, "--reads-per-second", "50"], clean, cwd=tmp_path, timeout=240)
        assert final.returncode == 0, final.stderr[-2000:]
        assert world.depth() == (0, 0)

    FIGURES["cases"] += 1
    FIGURES["runs"] += len(outcomes)
    FIGURES["exit_1"] += sum(1 for code in outcomes.values() if code)
    FIGURES["requests"] += figures["requests"]
    FIGURES["faults"] += figures["faults"]
    for kind in ("throttle", "500", "reset", "lost"):
        FIGURES["kinds"][kind] = FIGURES["kinds"].get(kind, 0) + figures.get(kind, 0)
    record_figures(request.config, f"faults_{int(rate * 100)}_{seed}", {**figures, "exits": outcomes})


@pytest.mark.parametrize(
    "denied",
    ["DynamoDBStreams_20120810.GetRecords", "lambda:POST /2015-03-31/functions/"],
    ids=["get-records", "invoke"],
)
def test_redrive_without_a_permission_exits_1_and_deletes_nothing(denied: str, tmp_path: Path) -> None:
    """A permission missing mid-run (reading the stream, or invoking) stops the run with one line;
    every failure stays, visible again, and nothing was delivered."""
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=0.2, state_seconds=0) as sb:
        world = FailureWorld(sb, tmp_path, shards=2, per_shard=5, rng=random.Random(1))
        with FaultProxy(sb.endpoint_url, rate=0.0, seed=0, deny=(denied,)) as proxy:
            args = ["redrive", "-f", str(world.spec), "--yes", "--hold-seconds", "30"]
            result = run(args, cli_env(proxy.endpoint_url), cwd=tmp_path)
        assert result.returncode == 1, result.stdout[-1500:] + result.stderr[-1500:]
        assert_clean_exit(result, "redrive")
        assert "denied" in result.stderr.lower(), result.stderr[-1500:]
        assert world.depth() == (world.records, 0), "a failure was deleted or left invisible"
        assert world.log.entries() == []


@pytest.mark.parametrize("rate", RATES, ids=[f"{int(r * 100)}pct" for r in RATES])
def test_redrive_in_process_with_read_timeouts(rate: float, tmp_path: Path, request: Any) -> None:
    """The same promise with botocore's own exceptions, raised by a ``before-send`` hook in-process:
    ``ReadTimeoutError`` and ``ConnectionClosedError`` on a share of calls. Nothing undelivered is
    deleted, nothing stays held, and the run either finishes or raises one of our errors."""
    import boto3
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    from ddbtrigger.aws.clients import AwsTarget, ClientFactory
    from ddbtrigger.errors import DdbtError
    from ddbtrigger.sandbox import Sandbox
    from ddbtrigger.usecases.redrive import RedriveOptions, open_redrive
    from ddbtrigger.usecases.spec_file import read_spec

    rng = random.Random(int(rate * 1000))
    injected = {"read-timeout": 0, "connection-closed": 0, "calls": 0}

    def hook(request: Any, **kwargs: Any) -> None:
        injected["calls"] += 1
        if rng.random() < rate:
            if rng.random() < 0.5:
                injected["read-timeout"] += 1
                raise ReadTimeoutError(endpoint_url=request.url)
            injected["connection-closed"] += 1
            raise ConnectionClosedError(endpoint_url=request.url)

    with Sandbox(poll_interval=0.2, state_seconds=0) as sb:
        world = FailureWorld(sb, tmp_path, shards=2, per_shard=10, rng=random.Random(7))
        session = boto3.Session(region_name="us-east-1")
        session.events.register("before-send", hook)
        factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url=sb.endpoint_url), session=session)
        triggers = read_spec(world.spec).triggers
        outcome = "finished"
        try:
            with open_redrive(
                factory, triggers, RedriveOptions(reads_per_second=50), hold_seconds=30
            ) as run_:
                report = run_.run()
            assert not report.left_failing
        except DdbtError as e:
            outcome = f"error: {e.message}"
            assert "\n" not in e.message
        assert world.depth()[1] == 0, "messages left invisible"
        assert not gone_but_undelivered(world), "a failure was deleted before its delivery"
    assert sum(injected.values()) - injected["calls"] > 0, "no fault was injected"
    record_figures(request.config, f"faults_inproc_{int(rate * 100)}", {**injected, "outcome": outcome})

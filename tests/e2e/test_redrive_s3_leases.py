"""Two ``redrive`` runs on an S3 destination never deliver the same failure at the same time.

Subprocesses against the sandbox (which makes moto's conditional writes atomic, as S3's are): S3
failures are leased before they are read, so concurrent runs split the work; a killed run's leases
hold its failures until they expire, then the next run takes them over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ddbtrigger_executable
from tests.helpers import create_table, failure_record, first_shard, shard_records, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("sandbox")]

BUCKET = "orders-failures"
SPEC = f"""version: 1
region: us-east-1
triggers:
  - {{name: orders-audit, table: orders, function: orders-fn, on_failure: {{type: s3, name: {BUCKET}}}}}
"""
HANDLER = """
import os, time
HERE = os.path.dirname(__file__)
def handler(event, context):
    with open(os.path.join(HERE, "delivered.log"), "a") as f:
        for r in event["Records"]:
            f.write(r["dynamodb"]["SequenceNumber"] + "\\n")
    time.sleep(float(os.environ.get("SLOW_SECONDS", "0.2")))
"""
FAILURES = 6


class World:
    def __init__(self, sb: Any, tmp: Path) -> None:
        from ddbtrigger.core.events import lambda_event

        self.sb, self.tmp = sb, tmp
        ddb, streams, self.s3 = sb.client("dynamodb"), sb.client("dynamodbstreams"), sb.client("s3")
        arn = create_table(ddb)["LatestStreamArn"]
        self.s3.create_bucket(Bucket=BUCKET)
        for i in range(FAILURES):
            ddb.put_item(TableName="orders", Item={"pk": {"S": f"k{i}"}})
        shard = first_shard(streams, arn)
        records = shard_records(streams, arn, shard)
        self.seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
        for n, record in enumerate(records):
            seq = record["dynamodb"]["SequenceNumber"]
            body = failure_record(stream_arn=arn, shard_id=shard, start=seq, end=seq, batch_size=1)
            body["payload"] = json.dumps(lambda_event([record], stream_arn=arn))
            key = f"aws/lambda/uuid/{shard}/2026/12/02/{n:03d}.json"
            self.s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode())
        (tmp / "ddbtrigger.yaml").write_text(SPEC)
        (tmp / "h.py").write_text(HANDLER)

    def start(self, *args: str, slow: float = 0.2) -> subprocess.Popen[str]:
        argv = [*ddbtrigger_executable(), "redrive", "--handler", f"{self.tmp / 'h.py'}:handler"]
        return subprocess.Popen(
            [*argv, "--delete-on-success", "--yes", "-o", "json", *args],
            cwd=self.tmp,
            env={**os.environ, **self.sb.environment(), "SLOW_SECONDS": str(slow)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def delivered(self) -> list[str]:
        path = self.tmp / "delivered.log"
        return path.read_text().split() if path.exists() else []

    def objects(self) -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]

    def leased(self) -> int:
        from ddbtrigger.aws.s3_leases import count_leased

        return count_leased(self.s3, BUCKET)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(handlers={}) as sb:
        yield World(sb, tmp_path)


def test_two_concurrent_runs_deliver_each_failure_once(world: World) -> None:
    runs = [world.start("--hold-seconds", "30"), world.start("--hold-seconds", "30")]
    docs = []
    for run in runs:
        stdout, stderr = run.communicate(timeout=120)
        assert run.returncode in (0, 1), stderr
        docs.append(json.loads(stdout))
    assert Counter(world.delivered()) == Counter(world.seqs)  # every failure, exactly once
    assert sum(d["redriven"] for d in docs) == FAILURES
    assert sum(d["redriven"] + d["held"] for d in docs) >= FAILURES  # what one skipped, it called held
    assert world.objects() == []  # failures and leases gone


def test_a_killed_runs_leases_hold_until_they_expire_then_are_taken_over(world: World) -> None:
    victim = world.start("--hold-seconds", "5", slow=2.0)
    wait_until(lambda: world.delivered(), "the first delivery")
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=30)
    blocked = world.start("--hold-seconds", "5", slow=0)
    stdout, _ = blocked.communicate(timeout=120)
    doc = json.loads(stdout)
    assert blocked.returncode == 1 and doc["held"] >= FAILURES - 1 and doc["redriven"] == 0
    assert world.delivered() == world.seqs[:1]  # nobody delivered a leased failure
    wait_until(lambda: world.leased() == 0, "the killed run's leases to expire", timeout=20)
    rerun = world.start("--hold-seconds", "5", slow=0)
    stdout, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert set(world.delivered()) == set(world.seqs) and world.objects() == []


def test_inspect_and_status_report_leased_s3_failures_as_held(world: World) -> None:
    """Issue 13: never "empty" while failures are held, for every destination type: a failure under
    another run's lease is held, with when it reappears, and both commands exit 3."""
    from ddbtrigger.aws.s3_leases import S3Leases

    first = next(k for k in world.objects() if k.startswith("aws/lambda/"))
    assert S3Leases(world.s3, BUCKET, hold_seconds=600).acquire(first)
    env = {**os.environ, **world.sb.environment()}

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        proc = subprocess.run(
            [*ddbtrigger_executable(), *args, "-o", "json"],
            cwd=world.tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return proc.returncode, json.loads(proc.stdout)

    code, inspected = run("inspect-dlq")
    assert code == 3
    assert inspected["held"]["count"] == 1 and inspected["held"]["reappear_by"] is not None
    assert len(inspected["failures"]) == FAILURES - 1  # the leased one is held, not listed twice
    assert inspected["counts"]["held"] == 1
    code, status = run("status")
    assert code == 3
    (trigger,) = status["triggers"]
    assert trigger["on_failure"]["held"]["count"] == 1
    assert trigger["on_failure"]["depth"] == FAILURES  # visible + held, as SQS depth counts in flight

"""Killing ``ddbtrigger redrive`` (SIGKILL) mid-run and running it again loses no record.

The sandbox runs here with a function that logs what it receives; redrive runs as a subprocess and is
killed once some failures were delivered. The failures it held come back after ``--hold-seconds``; the
rerun finishes the job. Every record must have reached the function at least once, in per-shard order
of first delivery, and the destination must end empty. (The reliability suite repeats this at many
random moments; this is the one-kill version that keeps redrive's own tests honest.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ddbtrigger_executable
from tests.helpers import create_table, failure_record, first_shard, queue_counts, shard_records, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("sandbox")]

SPEC = """version: 1
region: us-east-1
triggers:
  - {name: orders-audit, table: orders, function: orders-fn, on_failure: {type: sqs, name: orders-dlq}}
"""
FAILURES = 30


class Logger:
    def __init__(self) -> None:
        self.seqs: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        time.sleep(0.03)
        with self.lock:
            self.seqs.extend(r["dynamodb"]["SequenceNumber"] for r in event["Records"])


def pointer(stream_arn: str, shard: str, seq: str) -> str:
    return json.dumps(failure_record(stream_arn=stream_arn, shard_id=shard, start=seq, end=seq, batch_size=1))


def test_sigkill_then_rerun_loses_nothing(tmp_path: Path) -> None:
    from ddbtrigger.sandbox import Sandbox

    logger = Logger()
    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)
    with Sandbox(handlers={"orders-fn": logger}, state_seconds=0) as sb:
        ddb, streams, sqs = sb.client("dynamodb"), sb.client("dynamodbstreams"), sb.client("sqs")
        stream = create_table(ddb)["LatestStreamArn"]
        url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        for i in range(FAILURES):
            ddb.put_item(TableName="orders", Item={"pk": {"S": f"k{i}"}})
        shard = first_shard(streams, stream)
        seqs = [r["dynamodb"]["SequenceNumber"] for r in shard_records(streams, stream, shard)]
        assert len(seqs) == FAILURES
        for seq in seqs:
            sqs.send_message(QueueUrl=url, MessageBody=pointer(stream, shard, seq))

        def visible() -> int:
            return queue_counts(sqs, url)[0]

        def depth() -> int:
            return sum(queue_counts(sqs, url))

        env = {**os.environ, **sb.environment()}
        args = [*ddbtrigger_executable(), "redrive", "--yes", "--hold-seconds", "5", "-o", "json"]
        victim = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        wait_until(lambda: len(logger.seqs) >= 5, "the first deliveries")
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
        assert victim.returncode == -signal.SIGKILL
        wait_until(lambda: visible() == depth(), "the killed run's held failures to come back", timeout=20)
        # Counted only now: an invoke the killed run had sent may still finish in the sandbox after the kill.
        killed_at = len(logger.seqs)
        assert killed_at < FAILURES, "the run finished before it could be killed"
        rerun = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert depth() == 0
        assert set(logger.seqs) == set(seqs)  # nothing lost
        first_seen = list(dict.fromkeys(logger.seqs))
        assert first_seen == seqs  # per-shard order of first deliveries kept
        duplicates = len(logger.seqs) - len(seqs)
        assert duplicates <= killed_at  # only what the killed run delivered but had not deleted yet

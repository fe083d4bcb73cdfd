"""Shared pieces of the reliability tests: a sandbox world with crafted failures, a logging handler,
the figures file, a fault-injecting proxy, and a credential/image scanner.

The figures of each run (kills, faults, records, duplicates, ...) are written to pytest's cache
(``.pytest_cache/d/reliability/``); ``python -m tests.reliability.figures`` prints them as the table
that RELIABILITY.md quotes.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.conftest import FAKE_KEY_ID, FAKE_SECRET, REGION, ddbtrigger_executable
from tests.helpers import create_table, failure_record, queue_counts

POLL = 0.02


# -- figures -----------------------------------------------------------------------------------------
def record_figures(config: Any, name: str, figures: dict[str, Any]) -> None:
    """Keep this test's figures of the last run (read back by ``tests.reliability.figures``)."""
    figures = {**figures, "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    config.cache.set(f"reliability/{name}", figures)


# -- polling -----------------------------------------------------------------------------------------
def wait_for(predicate: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(POLL)


# -- subprocesses ------------------------------------------------------------------------------------
def cli_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: the test's fake credentials, aimed at ``endpoint``."""
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "NO_COLOR": "1", "COLUMNS": "200"}
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = FAKE_KEY_ID, FAKE_SECRET
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"] = REGION
    env.pop("DDBTRIGGER_DEBUG", None)
    env.update(extra)
    return env


def run(
    args: list[str], env: dict[str, str], *, cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ddbtrigger_executable(), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start(args: list[str], env: dict[str, str], *, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """A CLI subprocess whose stdout and stderr go to ``log`` (so a kill cannot block on a pipe)."""
    out = log.open("ab")
    try:
        return subprocess.Popen(
            [*ddbtrigger_executable(), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
    finally:
        out.close()


def sigkill(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the process if it still runs; True when it was killed (not already finished)."""
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    return proc.returncode == -signal.SIGKILL


# -- the sandbox world -------------------------------------------------------------------------------
class DeliveryLog:
    """A handler that accepts every record and logs it to a JSONL file (stream ARN, sequence, key).

    ``hold_from(n)`` makes every invocation that brings the count to ``n`` or more block (after logging)
    until ``release()``: a run is then caught mid-invoke, however fast the machine, so a kill test
    kills it before it could finish instead of racing it."""

    HOLD_LIMIT = 60.0  # seconds a held invocation waits at most, so a failed test cannot hang the sandbox

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.count = 0
        self.gate: int | None = None
        self.released = threading.Event()
        path.write_text("")

    def hold_from(self, count: int) -> None:
        self.released.clear()
        self.gate = count

    def release(self) -> None:
        self.gate = None
        self.released.set()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        lines = [
            json.dumps(
                {
                    "arn": r["eventSourceARN"],
                    "seq": r["dynamodb"]["SequenceNumber"],
                    "key": r["dynamodb"]["Keys"]["pk"]["S"],
                }
            )
            for r in event["Records"]
        ]
        with self.lock, self.path.open("a") as f:
            f.write("".join(line + "\n" for line in lines))
            f.flush()
            self.count += len(lines)
            held = self.gate is not None and self.count >= self.gate
        if held:
            self.released.wait(self.HOLD_LIMIT)

    def entries(self) -> list[dict[str, str]]:
        with self.lock:
            text = self.path.read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def make_table(sb: Any, name: str, *, stream: bool = True) -> str | None:
    ddb = sb.client("dynamodb")
    create_table(ddb, name, view="NEW_AND_OLD_IMAGES" if stream else None)
    return ddb.describe_table(TableName=name)["Table"].get("LatestStreamArn")


def put_items(sb: Any, table: str, count: int, *, marker: str | None = None) -> None:
    """``count`` items, 25 per BatchWriteItem, in key order (so the stream holds them in that order);
    with ``marker``, each item has an attribute ``personal`` = ``<marker>-<n>`` (to look for in output)."""
    ddb = sb.client("dynamodb")

    def item(n: int) -> dict[str, Any]:
        extra = {"personal": {"S": f"{marker}-{n}"}} if marker else {}
        return {"pk": {"S": f"{table}/{n:05d}"}, "n": {"N": str(n)}, **extra}

    for start in range(0, count, 25):
        requests = [{"PutRequest": {"Item": item(n)}} for n in range(start, min(count, start + 25))]
        assert not ddb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems")


def stream_records(sb: Any, stream_arn: str) -> tuple[str, list[dict[str, Any]]]:
    """(shard id, every record of the stream's first shard), paging GetRecords until an empty page."""
    streams = sb.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    iterator, records = it["ShardIterator"], []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        if not page["Records"]:
            break
        records.extend(page["Records"])
        iterator = page.get("NextShardIterator")
    return shard, records


def pointer(
    stream_arn: str, shard_id: str, first: dict[str, Any], last: dict[str, Any], size: int, function: str
) -> str:
    """Lambda's invocation record for a failed batch, as it lands in an SQS destination."""
    arrival = first["dynamodb"]["ApproximateCreationDateTime"]
    stamp = arrival.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(
        failure_record(
            stream_arn=stream_arn,
            shard_id=shard_id,
            start=first["dynamodb"]["SequenceNumber"],
            end=last["dynamodb"]["SequenceNumber"],
            batch_size=size,
            function=function,
            arrival=stamp,
            request_id=f"req-{first['dynamodb']['SequenceNumber']}",
        )
    )


class FailureWorld:
    """``shards`` tables with a stream, each with ``per_shard`` items whose one-record batches failed:
    one pointer per record in the trigger's SQS destination (sent in a shuffled order), one trigger per
    table, every function served by one logging handler."""

    def __init__(
        self,
        sb: Any,
        tmp: Path,
        *,
        shards: int,
        per_shard: int,
        rng: Any,
        prefix: str = "r",
        marker: str | None = None,
    ) -> None:
        self.sb, self.tmp = sb, tmp
        self.log = DeliveryLog(tmp / "deliveries.jsonl")
        self.tables = [f"{prefix}-table-{i}" for i in range(shards)]
        self.queues: list[str] = []
        self.expected: dict[str, list[int]] = {}  # stream ARN -> its records' sequence numbers in order
        sqs = sb.client("sqs")
        messages: list[tuple[str, str]] = []
        spec = ["version: 1", "triggers:"]
        for i, table in enumerate(self.tables):
            function, queue = f"{prefix}-fn-{i}", f"{prefix}-dlq-{i}"
            stream_arn = make_table(sb, table)
            assert stream_arn
            sb.register_handler(function, self.log)
            url = sqs.create_queue(QueueName=queue)["QueueUrl"]
            self.queues.append(url)
            put_items(sb, table, per_shard, marker=marker)
            shard, records = stream_records(sb, stream_arn)
            assert len(records) == per_shard
            self.expected[stream_arn] = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
            messages += [(url, pointer(stream_arn, shard, r, r, 1, function)) for r in records]
            spec += [
                f"  - name: {prefix}-trigger-{i}",
                f"    table: {table}",
                f"    function: {function}",
                f"    on_failure: {{type: sqs, name: {queue}}}",
            ]
        rng.shuffle(messages)
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            for url in {u for u, _ in chunk}:
                entries = [{"Id": str(n), "MessageBody": b} for n, (u, b) in enumerate(chunk) if u == url]
                assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        self.spec = tmp / "ddbtrigger.yaml"
        self.spec.write_text("\n".join(spec) + "\n")
        self.records = sum(len(v) for v in self.expected.values())

    def depth(self) -> tuple[int, int]:
        """(visible, not visible) messages over every destination queue."""
        counts = [queue_counts(self.sb.client("sqs"), url) for url in self.queues]
        return sum(v for v, _ in counts), sum(i for _, i in counts)


# -- SQS's clock, moved forward by the test (the wait for a visibility timeout, without waiting) -----
class SqsClock:
    """moto's SQS clock (visibility, delays) plus an offset. ``advance(s)`` is ``s`` seconds of waiting."""

    def __init__(self, monkeypatch: Any) -> None:
        import moto.sqs.models as sqs_models

        self.offset_ms = 0.0
        monkeypatch.setattr(sqs_models, "unix_time_millis", self.now_ms)

    def now_ms(self, dt: Any = None) -> float:
        """moto's own ``unix_time_millis`` builds datetimes and costs ~40 us; SQS calls it ~100 times
        per queued message on every receive, which makes a 100-message queue take ~0.5 s to read."""
        if dt is not None:
            naive_utc = dt.replace(tzinfo=None) - (dt.utcoffset() or timedelta(0))
            return (naive_utc - datetime(1970, 1, 1)).total_seconds() * 1000 + self.offset_ms
        return time.time() * 1000 + self.offset_ms

    def advance(self, seconds: float) -> None:
        self.offset_ms += seconds * 1000


# -- what must never be printed ----------------------------------------------------------------------
SECRET_PATTERNS = [re.escape(FAKE_KEY_ID), re.escape(FAKE_SECRET), "fakeSecretDdbtrigger", "AKIAFAKE"]


def leaked_secrets(text: str) -> list[str]:
    """The credential values (or recognisable parts) that appear in ``text``."""
    return [p for p in SECRET_PATTERNS if re.search(p, text)]


def iter_lines(*texts: str) -> Iterator[str]:
    for text in texts:
        yield from text.splitlines()

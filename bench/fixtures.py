"""Building what the benchmarks measure: triggers, specs, stream records, and crafted failures.

Failures are not produced by waiting for the sandbox's mapping emulator to give up on a batch: real
records are written to each table's stream, their sequence numbers read back, and Lambda-shaped
invocation records (AWS-NOTES.md) pointing at runs of ``batch`` consecutive records are sent to the
trigger's queue. That is exactly what a mapping would have sent, in a fraction of the time.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.env import LocalAws
from bench.harness import BenchError, Proc, Unavailable, ddbtrigger_cmd, floor_cmd, run_proc

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE = "bench-lambda-role"


@dataclass(frozen=True)
class Trig:
    """One benchmark trigger: a table, a function and an SQS destination of the same name."""

    name: str

    @property
    def table(self) -> str:
        return self.name

    @property
    def function(self) -> str:
        return self.name

    @property
    def queue(self) -> str:
        return f"{self.name}-dlq"


def triggers(prefix: str, n: int) -> list[Trig]:
    return [Trig(f"{prefix}-{i:03d}") for i in range(n)]


def spec_text(trigs: Sequence[Trig], *, enabled: bool = True) -> str:
    """A spec with one SQS-destination trigger per table (the common shape)."""
    lines = ["version: 1", f"region: {REGION}", "triggers:"]
    for t in trigs:
        lines += [
            f"  - name: {t.name}",
            f"    table: {t.table}",
            "    stream:",
            "      view_type: NEW_AND_OLD_IMAGES",
            f"    function: {t.function}",
            "    mapping:",
            f"      enabled: {'true' if enabled else 'false'}",
            "      batch_size: 10",
            "    on_failure:",
            "      type: sqs",
            f"      name: {t.queue}",
        ]
    return "\n".join(lines) + "\n"


def write_spec(directory: Path, trigs: Sequence[Trig], *, enabled: bool = True) -> Path:
    path = directory / f"spec-{len(trigs)}.yaml"
    path.write_text(spec_text(trigs, enabled=enabled))
    return path


def parallel(fn: Callable[[Any], Any], items: Iterable[Any], workers: int = 16) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("handler.py", "def handler(event, context):\n    return {'batchItemFailures': []}\n")
    return buf.getvalue()


def create_role(aws: LocalAws) -> str:
    iam = aws.client("iam")
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "lambda.amazonaws.com"}}
        ],
    }
    try:
        return str(iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"])
    except iam.exceptions.EntityAlreadyExistsException:
        return str(iam.get_role(RoleName=ROLE)["Role"]["Arn"])


def create_tables_and_functions(aws: LocalAws, trigs: Sequence[Trig], *, stream: bool = True) -> None:
    """What the user owns and ddbtrigger never creates: tables (stream on, unless not) and functions."""
    role = create_role(aws)
    code = _zip()
    streams = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}

    def one(t: Trig) -> None:
        aws.client("dynamodb").create_table(
            TableName=t.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            **(streams if stream else {}),
        )
        from botocore.exceptions import ClientError

        try:
            aws.client("lambda").create_function(
                FunctionName=t.function,
                Runtime="python3.12",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": code},
            )
        except ClientError as e:  # the sandbox made it when its handler was registered
            if e.response.get("Error", {}).get("Code") != "ResourceConflictException":
                raise

    parallel(one, trigs)


def create_queues_and_mappings(aws: LocalAws, trigs: Sequence[Trig], *, enabled: bool) -> None:
    """What ``apply`` would create, made directly (for benchmarks that must not depend on apply)."""

    def one(t: Trig) -> None:
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName=t.queue, tags={"ddbtrigger:trigger": t.name})["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        stream = aws.client("dynamodb").describe_table(TableName=t.table)["Table"]["LatestStreamArn"]
        aws.client("lambda").create_event_source_mapping(
            EventSourceArn=stream,
            FunctionName=t.function,
            Enabled=enabled,
            BatchSize=10,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=3,
            MaximumRecordAgeInSeconds=3600,
            BisectBatchOnFunctionError=True,
            FunctionResponseTypes=["ReportBatchItemFailures"],
            DestinationConfig={"OnFailure": {"Destination": arn}},
        )

    parallel(one, trigs)


def require_command(name: str) -> None:
    """Skip (not fail) a benchmark whose command has not landed yet."""
    proc = run_proc([*ddbtrigger_cmd(), name, "--help"], count_calls=False)
    if proc.returncode != 0:
        raise Unavailable(f"`ddbtrigger {name}` does not exist yet")


def apply(aws: LocalAws, spec: Path) -> None:
    require_command("apply")
    tool(aws, "apply", "-f", str(spec), "--yes", count_calls=False).check()


def tool(aws: LocalAws, *args: str, count_calls: bool = True) -> Proc:
    """Run ``ddbtrigger ARGS --endpoint-url <the local AWS>`` once."""
    return run_proc(
        [*ddbtrigger_cmd(), *args, "--endpoint-url", aws.endpoint_url], count_calls=count_calls, timeout=1800
    )


def floor(aws: LocalAws, script: str, *args: str) -> Proc:
    return run_proc([*floor_cmd(script), *args, "--endpoint-url", aws.endpoint_url], timeout=1800)


def queue_url(aws: LocalAws, t: Trig) -> str:
    return str(aws.client("sqs").get_queue_url(QueueName=t.queue)["QueueUrl"])


def write_items(aws: LocalAws, t: Trig, count: int) -> None:
    """``count`` items, 25 per BatchWriteItem (each one stream record)."""
    ddb = aws.client("dynamodb")
    for start in range(0, count, 25):
        items = [
            {"PutRequest": {"Item": {"pk": {"S": f"item-{i:06d}"}, "n": {"N": str(i)}}}}
            for i in range(start, min(start + 25, count))
        ]
        ddb.batch_write_item(RequestItems={t.table: items})


@dataclass(frozen=True)
class StreamRecord:
    stream_arn: str
    shard_id: str
    sequence_number: str
    arrival: datetime


def read_stream(aws: LocalAws, t: Trig) -> list[StreamRecord]:
    """Every record of the table's latest stream, in order (the fixture's only GetRecords)."""
    arn = aws.client("dynamodb").describe_table(TableName=t.table)["Table"]["LatestStreamArn"]
    streams = aws.client("dynamodbstreams")
    out: list[StreamRecord] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while it:
            page = streams.get_records(ShardIterator=it, Limit=1000)
            if not page["Records"]:
                break
            out += [
                StreamRecord(
                    arn,
                    shard["ShardId"],
                    r["dynamodb"]["SequenceNumber"],
                    r["dynamodb"].get("ApproximateCreationDateTime") or datetime.now(UTC),
                )
                for r in page["Records"]
            ]
            it = page.get("NextShardIterator")
    return out


def pointer(records: Sequence[StreamRecord], function: str) -> str:
    """The invocation record Lambda sends to an SQS destination (AWS-NOTES.md), for these records."""
    first, last = records[0], records[-1]

    def iso(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return json.dumps(
        {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "condition": "RetryAttemptsExhausted",
                "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}",
                "approximateInvokeCount": 4,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "DDBStreamBatchInfo": {
                "shardId": first.shard_id,
                "startSequenceNumber": first.sequence_number,
                "endSequenceNumber": last.sequence_number,
                "approximateArrivalOfFirstRecord": iso(first.arrival),
                "approximateArrivalOfLastRecord": iso(last.arrival),
                "batchSize": len(records),
                "streamArn": first.stream_arn,
            },
        }
    )


def pointers(records: Sequence[StreamRecord], function: str, batch: int) -> list[str]:
    """One pointer per run of ``batch`` consecutive records."""
    return [pointer(records[i : i + batch], function) for i in range(0, len(records) - batch + 1, batch)]


def send_bodies(aws: LocalAws, url: str, bodies: Sequence[str], *, workers: int = 8) -> None:
    """SendMessageBatch, 10 per call, a few calls in flight."""
    sqs = aws.client("sqs")

    def send(start: int) -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        result = sqs.send_message_batch(QueueUrl=url, Entries=entries)
        if result.get("Failed"):
            raise BenchError(f"send_message_batch failed: {result['Failed'][:1]}")

    parallel(send, range(0, len(bodies), 10), workers=workers)


def clear(queue: str) -> None:
    """Empty a queue of the in-process emulator (moto allows one PurgeQueue a minute)."""
    from moto.sqs.models import sqs_backends

    q = sqs_backends[ACCOUNT][REGION].queues[queue]
    with q._messages_lock:
        q._messages = []
        q.pending_messages.clear()


def depth(aws: LocalAws, url: str) -> tuple[int, int]:
    attrs = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


def inject(aws: LocalAws, queue: str, bodies: Sequence[str]) -> None:
    """Put messages straight into the in-process emulator's queue.

    moto's SendMessage rescans the whole queue for every message (O(n) each, O(n²) to fill 10,000), so
    filling through the API would take minutes; the benchmark measures reading, not filling.
    """
    from moto.sqs.models import Message, sqs_backends

    q = sqs_backends[ACCOUNT][REGION].queues[queue]
    messages = []
    for body in bodies:
        message = Message(str(uuid.uuid4()), body)
        message.mark_sent(delay_seconds=0)
        messages.append(message)
    with q._messages_lock:
        q._messages.extend(messages)

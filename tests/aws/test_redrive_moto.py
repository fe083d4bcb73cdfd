"""Redrive against moto in-process: real stream reads, SQS holds and batch deletes, Lambda invoke."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.redrive import Status
from ddbtrigger.usecases.redrive import RedriveOptions, open_redrive
from tests.helpers import create_table, failure_record, first_shard, queue_counts, shard_records

REGION = "us-east-1"

SPEC = """
version: 1
triggers:
  - name: orders-audit
    table: orders
    function: orders-fn
    on_failure: {type: sqs, name: orders-dlq}
{extra}
"""


def spec_triggers(extra: str = "") -> Any:
    return load_spec(SPEC.replace("{extra}", extra), "ddbtrigger.yaml").triggers


class World:
    """A table with a stream, a queue, a function; helpers to write items and fake Lambda's pointers."""

    def __init__(self, factory: Any) -> None:
        self.factory = factory
        self.calls: dict[str, int] = {}
        factory.session.events.register("before-call.*.*", self._count)
        ddb = factory.client("dynamodb")
        self.stream_arn = create_table(ddb)["LatestStreamArn"]
        sqs = factory.client("sqs")
        self.queue_url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        self.sqs = sqs
        streams = factory.client("dynamodbstreams")
        self.shard_id = first_shard(streams, self.stream_arn)
        self.seqs: list[str] = []

    def _count(self, event_name: str, **kwargs: Any) -> None:
        op = event_name.split(".")[-1]
        self.calls[op] = self.calls.get(op, 0) + 1

    def counting(self) -> dict[str, int]:
        self.calls.clear()
        return self.calls

    def write(self, n: int, *, status: str = "new") -> list[str]:
        ddb = self.factory.client("dynamodb")
        for i in range(n):
            ddb.put_item(
                TableName="orders", Item={"pk": {"S": f"k{len(self.seqs) + i}"}, "status": {"S": status}}
            )
        streams = self.factory.client("dynamodbstreams")
        records = shard_records(streams, self.stream_arn, self.shard_id)
        new = [r["dynamodb"]["SequenceNumber"] for r in records][len(self.seqs) :]
        self.seqs.extend(new)
        return new

    def fail(self, start: str, end: str, batch: int, function: str = "orders-fn") -> None:
        body = failure_record(
            stream_arn=self.stream_arn,
            shard_id=self.shard_id,
            start=start,
            end=end,
            batch_size=batch,
            function=function,
            invoke_count=4,
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))

    def depth(self) -> tuple[int, int]:
        return queue_counts(self.sqs, self.queue_url)


def handler_file(tmp_path: Path, *, poison: set[str] | None = None) -> str:
    log = tmp_path / "delivered.jsonl"
    path = tmp_path / "h.py"
    path.write_text(f"""
import json
POISON = {sorted(poison or set())!r}
def handler(event, context):
    for r in event["Records"]:
        if r["dynamodb"]["NewImage"]["status"]["S"] in POISON:
            raise ValueError("poison " + r["dynamodb"]["SequenceNumber"])
    with open({str(log)!r}, "a") as f:
        f.write(json.dumps(event) + "\\n")
""")
    return f"{path}:handler"


def delivered(tmp_path: Path) -> list[dict[str, Any]]:
    log = tmp_path / "delivered.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def world(moto_aws: Any) -> World:
    return World(moto_aws)


def run(world: World, options: RedriveOptions, extra: str = "", warnings: list[str] | None = None) -> Any:
    with open_redrive(
        world.factory,
        spec_triggers(extra),
        options,
        warn=(warnings.append if warnings is not None else lambda _: None),
    ) as session:
        return session.run()


def test_redrive_delivers_in_order_deletes_in_batches_and_shares_reads(world: World, tmp_path: Path) -> None:
    seqs = world.write(30)
    for i in range(0, 30, 3):
        world.fail(seqs[i], seqs[i + 2], 3)
    calls = world.counting()
    report = run(world, RedriveOptions(handler=handler_file(tmp_path), delete_on_success=True))
    assert report.as_json()["redriven"] == 10 and report.as_json()["records"] == 30
    got = [r["dynamodb"]["SequenceNumber"] for e in delivered(tmp_path) for r in e["Records"]]
    assert got == seqs
    assert world.depth() == (0, 0)
    assert calls.get("DeleteMessageBatch") == 1 and "DeleteMessage" not in calls
    assert calls.get("GetRecords", 0) <= 2 and calls.get("GetShardIterator") == 1
    event = delivered(tmp_path)[0]
    assert event["Records"][0]["eventSourceARN"] == world.stream_arn
    assert isinstance(event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"], int | float)


def test_a_poison_pill_keeps_its_failure_and_the_later_ones(world: World, tmp_path: Path) -> None:
    first = world.write(2)
    pill = world.write(1, status="poison")
    later = world.write(2)
    world.fail(first[0], first[1], 2)
    world.fail(pill[0], pill[0], 1)
    world.fail(later[0], later[1], 2)
    report = run(
        world, RedriveOptions(handler=handler_file(tmp_path, poison={"poison"}), delete_on_success=True)
    )
    statuses = [r.status for r in report.results]
    assert statuses == [Status.REDRIVEN, Status.FAILED, Status.NOT_ATTEMPTED]
    assert "poison" in (report.results[1].error or "") and "not attempted" in (report.results[2].error or "")
    assert world.depth() == (2, 0)  # both kept, and released (visible) after the run
    assert report.left_failing


def test_dry_run_changes_nothing(world: World, tmp_path: Path) -> None:
    seqs = world.write(4)
    world.fail(seqs[0], seqs[1], 2)
    world.fail(seqs[2], seqs[3], 2)
    report = run(world, RedriveOptions(dry_run=True, handler=handler_file(tmp_path)))
    assert [r.status for r in report.results] == [Status.DRY_RUN, Status.DRY_RUN]
    assert [r.records for r in report.results] == [2, 2]
    assert delivered(tmp_path) == [] and world.depth() == (2, 0)


def test_malformed_messages_are_counted_and_kept(world: World, tmp_path: Path) -> None:
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody="hello")
    report = run(world, RedriveOptions(handler=handler_file(tmp_path), delete_on_success=True))
    assert report.as_json()["malformed"] == 1 and world.depth() == (1, 0)


def test_filters_of_the_spec_apply(world: World, tmp_path: Path) -> None:
    seqs = world.write(2) + world.write(1, status="skip")
    world.fail(seqs[0], seqs[2], 3)
    extra = "    mapping:\n      filters:\n        - dynamodb: {NewImage: {status: {S: [new]}}}"
    report = run(world, RedriveOptions(handler=handler_file(tmp_path), delete_on_success=True), extra)
    assert report.results[0].records == 2
    assert [r["dynamodb"]["SequenceNumber"] for r in delivered(tmp_path)[0]["Records"]] == seqs[:2]


def test_lambda_invoke_path_deletes_after_success(world: World) -> None:
    iam = world.factory.client("iam")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def handler(e, c):\n    return None\n")
    world.factory.client("lambda").create_function(
        FunctionName="orders-fn",
        Runtime="python3.12",
        Role=role,
        Handler="h.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    seqs = world.write(2)
    world.fail(seqs[0], seqs[1], 2)
    calls = world.counting()
    report = run(world, RedriveOptions())
    assert report.results[0].status is Status.REDRIVEN and world.depth() == (0, 0)
    assert calls["Invoke"] == 1 and calls["DeleteMessageBatch"] == 1, calls


def test_sns_without_inspect_queue_and_no_destination(world: World) -> None:
    warnings: list[str] = []
    with open_redrive(
        world.factory,
        load_spec("version: 1\ntriggers:\n  - {name: t, table: orders, function: f}\n", "x.yaml").triggers,
        RedriveOptions(),
        warn=warnings.append,
    ) as session:
        assert session.total == 0 and session.run().results == ()
    assert "no failure destination" in warnings[0]


# The example DynamoDB Streams event of the AWS Lambda Developer Guide ("Using Lambda with DynamoDB",
# https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), first record, as published.
AWS_DOCS_EVENT: dict[str, Any] = {
    "Records": [
        {
            "eventID": "1",
            "eventVersion": "1.0",
            "dynamodb": {
                "ApproximateCreationDateTime": 1693997155.0,
                "Keys": {"Id": {"N": "101"}},
                "NewImage": {"Message": {"S": "New item!"}, "Id": {"N": "101"}},
                "StreamViewType": "NEW_AND_OLD_IMAGES",
                "SequenceNumber": "111",
                "SizeBytes": 26,
            },
            "awsRegion": "us-west-2",
            "eventName": "INSERT",
            "eventSourceARN": "arn:aws:dynamodb:us-west-2:111122223333:table/TestTable/stream/2015-05-11T21:21:33.291",
            "eventSource": "aws:dynamodb",
        }
    ]
}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def test_redriven_event_has_the_shape_lambda_sends(world: World, tmp_path: Path) -> None:
    seqs = world.write(1)
    world.fail(seqs[0], seqs[0], 1)
    run(world, RedriveOptions(handler=handler_file(tmp_path), delete_on_success=True))
    (event,) = delivered(tmp_path)
    assert list(event) == list(AWS_DOCS_EVENT)
    (ours,) = event["Records"]
    (theirs,) = AWS_DOCS_EVENT["Records"]
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert json_type(ours[key]) == json_type(value), key
    assert set(ours["dynamodb"]) == set(theirs["dynamodb"])
    for key, value in theirs["dynamodb"].items():
        assert json_type(ours["dynamodb"][key]) == json_type(value), key
    assert ours["eventSource"] == "aws:dynamodb" and ours["eventName"] == "INSERT"
    assert ours["eventSourceARN"] == world.stream_arn and ours["awsRegion"] == REGION
    assert ours["dynamodb"]["SequenceNumber"] == seqs[0]
    assert ours["dynamodb"]["Keys"] == {"pk": {"S": "k0"}}
    assert ours["dynamodb"]["NewImage"] == {"pk": {"S": "k0"}, "status": {"S": "new"}}
    assert abs(ours["dynamodb"]["ApproximateCreationDateTime"] - datetime.now(UTC).timestamp()) < 120


def test_two_triggers_of_one_table_sharing_a_queue_each_get_their_own_failures(
    world: World, tmp_path: Path
) -> None:
    seqs = world.write(2)
    world.fail(seqs[0], seqs[0], 1, function="orders-fn")
    world.fail(seqs[1], seqs[1], 1, function="archive-fn")
    extra = "  - {name: orders-archive, table: orders, function: archive-fn, on_failure: {type: sqs, name: orders-dlq}}"
    report = run(world, RedriveOptions(handler=handler_file(tmp_path), delete_on_success=True), extra)
    assert sorted((r.trigger, r.status.value) for r in report.results) == [
        ("orders-archive", "redriven"),
        ("orders-audit", "redriven"),
    ]
    assert len(delivered(tmp_path)) == 2 and world.depth() == (0, 0)


def test_s3_destination_uses_the_stored_records_and_deletes_the_object(world: World, tmp_path: Path) -> None:
    from ddbtrigger.core.events import lambda_event

    s3 = world.factory.client("s3")
    s3.create_bucket(Bucket="orders-failures")
    world.write(2)
    streams = world.factory.client("dynamodbstreams")
    it = streams.get_shard_iterator(
        StreamArn=world.stream_arn, ShardId=world.shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    world.fail(world.seqs[0], world.seqs[1], 2)
    body = json.loads(world.sqs.receive_message(QueueUrl=world.queue_url)["Messages"][0]["Body"])
    body["payload"] = json.dumps(lambda_event(records, stream_arn=world.stream_arn))
    key = f"failures/aws/lambda/uuid/{world.shard_id}/2024/01/01/x.json"
    s3.put_object(Bucket="orders-failures", Key=key, Body=json.dumps(body).encode())
    world.sqs.purge_queue(QueueUrl=world.queue_url)
    world.counting()
    spec = SPEC.replace(
        "on_failure: {type: sqs, name: orders-dlq}",
        "on_failure: {type: s3, name: orders-failures, prefix: failures/}",
    )
    triggers = load_spec(spec.replace("{extra}", ""), "x.yaml").triggers
    with open_redrive(
        world.factory, triggers, RedriveOptions(handler=handler_file(tmp_path), delete_on_success=True)
    ) as session:
        report = session.run()
    assert [r.status for r in report.results] == [Status.REDRIVEN] and report.results[0].records == 2
    assert "GetRecords" not in world.calls and world.calls.get("DeleteObjects") == 2  # failures, then leases
    assert s3.list_objects_v2(Bucket="orders-failures").get("KeyCount") == 0
    assert [r["dynamodb"]["SequenceNumber"] for r in delivered(tmp_path)[0]["Records"]] == world.seqs


def test_failures_stay_invisible_while_a_long_run_works(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    seqs = world.write(2)
    world.fail(seqs[0], seqs[0], 1)
    world.fail(seqs[1], seqs[1], 1)
    seen_by_others: list[int] = []

    def slow(event: dict[str, Any], context: Any) -> None:
        if event["Records"][0]["dynamodb"]["SequenceNumber"] == seqs[0]:
            time.sleep(2.5)  # longer than the 2 s hold: only the heartbeat keeps the messages hidden
            messages = world.sqs.receive_message(QueueUrl=world.queue_url, MaxNumberOfMessages=10)
            seen_by_others.append(len(messages.get("Messages", [])))

    monkeypatch.setattr("ddbtrigger.usecases.redrive.load_local_handler", lambda reference: slow)
    options = RedriveOptions(handler="slow:handler", delete_on_success=True)
    with open_redrive(world.factory, spec_triggers(), options, hold_seconds=2) as session:
        report = session.run()
    assert seen_by_others == [0]
    assert [r.status for r in report.results] == [Status.REDRIVEN, Status.REDRIVEN]
    assert world.depth() == (0, 0)

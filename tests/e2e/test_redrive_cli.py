"""``ddbtrigger redrive`` as a subprocess against a moto server: JSON shape, exit codes, confirmation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import create_table, failure_record, first_shard, shard_records

pytestmark = pytest.mark.e2e

SPEC = """version: 1
region: us-east-1
triggers:
  - name: orders-audit
    table: orders
    function: orders-fn
    on_failure: {type: sqs, name: orders-dlq}
"""

HANDLER = """
import json, os
def handler(event, context):
    for r in event["Records"]:
        if r["dynamodb"]["NewImage"]["status"]["S"] == "poison":
            raise ValueError("poison pill " + r["dynamodb"]["SequenceNumber"])
    with open(os.path.join(os.path.dirname(__file__), "log.jsonl"), "a") as f:
        f.write(json.dumps(event) + "\\n")
"""


class Server:
    def __init__(self, url: str, tmp: Path) -> None:
        import boto3

        self.url, self.tmp = url, tmp
        session = boto3.Session(region_name="us-east-1")
        self.ddb = session.client("dynamodb", endpoint_url=url)
        self.streams = session.client("dynamodbstreams", endpoint_url=url)
        self.sqs = session.client("sqs", endpoint_url=url)
        self.stream_arn = create_table(self.ddb)["LatestStreamArn"]
        self.shard = first_shard(self.streams, self.stream_arn)
        self.queue = self.sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
        (tmp / "ddbtrigger.yaml").write_text(SPEC)
        (tmp / "h.py").write_text(HANDLER)
        self.n = 0

    def write(self, status: str = "new") -> str:
        self.n += 1
        self.ddb.put_item(TableName="orders", Item={"pk": {"S": f"k{self.n}"}, "status": {"S": status}})
        records = shard_records(self.streams, self.stream_arn, self.shard)
        return str(records[-1]["dynamodb"]["SequenceNumber"])

    def fail(self, seq: str) -> None:
        body = failure_record(
            stream_arn=self.stream_arn, shard_id=self.shard, start=seq, end=seq, batch_size=1, invoke_count=4
        )
        self.sqs.send_message(QueueUrl=self.queue, MessageBody=json.dumps(body))

    def depth(self) -> int:
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["All"])["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def log(self) -> list[dict[str, Any]]:
        path = self.tmp / "log.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def server(moto_server: str, tmp_path: Path) -> Server:
    return Server(moto_server, tmp_path)


def redrive(run_cli: Any, server: Server, *args: str) -> Any:
    return run_cli(
        "redrive",
        "--endpoint-url",
        server.url,
        "--handler",
        f"{server.tmp / 'h.py'}:handler",
        *args,
        cwd=server.tmp,
    )


def test_json_document_and_exit_1_when_a_failure_is_left(run_cli: Any, server: Server) -> None:
    ok, pill, later = server.write(), server.write("poison"), server.write()
    for seq in (ok, pill, later):
        server.fail(seq)
    result = redrive(run_cli, server, "--delete-on-success", "--yes", "-o", "json")
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert list(doc)[:5] == ["redriven", "records", "failed", "expired", "malformed"]
    assert (doc["redriven"], doc["records"], doc["failed"], doc["expired"], doc["malformed"]) == (
        1,
        1,
        1,
        0,
        0,
    )
    assert doc["not_attempted"] == 1 and doc["kept"] == 2 and doc["interrupted"] is False
    assert doc["error"]["code"] == "incomplete"
    assert [r["status"] for r in doc["results"]] == ["redriven", "failed", "not-attempted"]
    assert all(set(r) == {"id", "trigger", "status", "records", "error"} for r in doc["results"])
    assert "poison pill" in doc["results"][1]["error"]
    assert server.depth() == 2
    assert [r["dynamodb"]["SequenceNumber"] for e in server.log() for r in e["Records"]] == [ok]


def test_table_output_summary_and_exit_0(run_cli: Any, server: Server) -> None:
    server.fail(server.write())
    result = redrive(run_cli, server, "--delete-on-success", "--yes")
    assert result.returncode == 0, result.stderr
    assert "redriven 1 (1 records)" in result.stdout and "redriven" in result.stdout
    assert server.depth() == 0


def test_refuses_without_a_terminal_and_without_yes(run_cli: Any, server: Server) -> None:
    server.fail(server.write())
    result = redrive(run_cli, server, "--delete-on-success")
    assert result.returncode == 2
    assert "--yes" in result.stderr and server.depth() == 1 and server.log() == []


def test_dry_run_needs_no_confirmation_and_changes_nothing(run_cli: Any, server: Server) -> None:
    server.fail(server.write())
    result = redrive(run_cli, server, "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["status"] == "dry-run"
    assert server.depth() == 1 and server.log() == []


def test_local_handler_without_delete_on_success_keeps_the_failure(run_cli: Any, server: Server) -> None:
    server.fail(server.write())
    result = redrive(run_cli, server, "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["redriven"] == 0 and doc["delivered_kept"] == 1 and doc["kept"] == 1
    assert doc["results"][0]["status"] == "delivered-kept"
    assert "--delete-on-success" in doc["results"][0]["error"]
    assert server.depth() == 1 and len(server.log()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--delete-on-success",), "--handler only"),
        (("--to-function", "x", "--handler", "h.py:handler"), "not both"),
    ],
)
def test_option_conflicts_are_usage_errors(
    run_cli: Any, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)
    result = run_cli("redrive", *args, "-o", "json", cwd=tmp_path)
    assert result.returncode == 2
    assert message in json.loads(result.stdout)["error"]["message"]


def test_failures_held_by_another_reader_are_not_called_an_empty_destination(
    run_cli: Any, server: Server
) -> None:
    server.fail(server.write())
    server.fail(server.write())
    server.sqs.receive_message(QueueUrl=server.queue, MaxNumberOfMessages=1, VisibilityTimeout=300)
    result = redrive(run_cli, server, "--delete-on-success", "--yes")
    assert result.returncode == 1, result.stderr
    assert "destination is empty" not in result.stdout + result.stderr
    assert "1 failure(s) are held invisible by another reader" in result.stderr
    assert "redriven 1" in result.stdout
    result = redrive(run_cli, server, "--delete-on-success", "--yes", "-o", "json")
    assert result.returncode == 1 and json.loads(result.stdout)["results"] == []
    assert "held invisible" in result.stderr

"""Spec-less targeting against the sandbox: a mapping made by plain boto3 (no spec anywhere) is worked
by ``--mapping UUID`` / ``--table T`` exactly as the spec ``export`` writes for it would be.

The sandbox's mapping really runs: it isolates each poison pill (bisect) and sends its pointer to the
queue. Then ``status``/``inspect-dlq`` must print the same documents as on the exported spec, and
``redrive --mapping`` keeps the guarantees of a declared trigger: nothing deleted that was not
delivered, failures held by another reader reported (exit 1, ``held`` in JSON), order kept.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.aws.conftest_sandbox import create_mapping, make_queue, make_table, put, wait_for
from tests.e2e.test_runbook import in_process
from tests.helpers import queue_counts

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sandbox")]

PILLS = (2, 5, 8)
NOW = "2030-01-01T00:00:00Z"
BROKEN = """
def handler(event, context):
    raise ValueError("still broken")
"""
FIXED = """
import json, os
def handler(event, context):
    with open(os.path.join(os.path.dirname(__file__), "delivered.jsonl"), "a") as log:
        for record in event["Records"]:
            log.write(json.dumps(record["dynamodb"]["SequenceNumber"]) + "\\n")
"""


class PoisonFails:
    """The live function: fails on every batch that holds a poison pill."""

    def __init__(self) -> None:
        self.accepted = 0
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        if any(r["dynamodb"].get("NewImage", {}).get("poison") for r in event["Records"]):
            raise ValueError("poison pill")
        with self.lock:
            self.accepted += len(event["Records"])


class World:
    def __init__(self, sb: Any, tmp: Path) -> None:
        self.sb, self.tmp = sb, tmp
        self.fn = PoisonFails()
        sb.register_handler("orders-fn", self.fn)
        stream = make_table(sb)
        make_table(sb, "quiet")
        self.url, arn = make_queue(sb, "orders-failures")
        for i in range(10):
            put(sb, f"k{i}", poison=i in PILLS)
        self.uuid = create_mapping(  # plain boto3, as CloudFormation or a console click would
            sb,
            stream or "",
            "orders-fn",
            BatchSize=10,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": arn}},
        )["UUID"]
        wait_for(
            lambda: self.depth() == len(PILLS) and self.fn.accepted == 10 - len(PILLS),
            timeout=30,
            what="the mapping to isolate every pill",
        )
        (tmp / "broken.py").write_text(BROKEN)
        (tmp / "fixed.py").write_text(FIXED)
        self.run = in_process({**sb.environment(), "NO_COLOR": "1", "COLUMNS": "160"})

    def depth(self) -> int:
        return sum(queue_counts(self.sb.client("sqs"), self.url))

    def json(self, *args: str, exit_code: int = 0) -> Any:
        result = self.run(*args, "-o", "json")
        assert result.returncode == exit_code, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def delivered(self) -> list[str]:
        log = self.tmp / "delivered.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.fixture
def world(sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.chdir(tmp_path)  # no ddbtrigger.yaml here: none is needed
    return World(sandbox, tmp_path)


def _without_read_time(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "read_at"}


def test_status_and_inspect_of_a_live_mapping_match_its_exported_spec(world: World) -> None:
    exported = world.run("export", "--table", "orders")
    assert exported.returncode == 0, exported.stderr
    (world.tmp / "exported.yaml").write_text(exported.stdout)

    by_table = world.json("status", "--table", "orders", exit_code=3)  # failures waiting
    by_spec = world.json("status", "-f", "exported.yaml", exit_code=3)
    assert _without_read_time(by_table) == _without_read_time(by_spec)
    [trigger] = by_table["triggers"]
    assert trigger["mapping"]["uuid"] == world.uuid and trigger["on_failure"]["depth"] == len(PILLS)

    by_mapping = world.json("inspect-dlq", "--mapping", world.uuid, "--now", NOW)
    by_spec = world.json("inspect-dlq", "-f", "exported.yaml", "--now", NOW)
    assert by_mapping == by_spec
    assert len(by_mapping["failures"]) == len(PILLS)

    table = world.run("inspect-dlq", "--mapping", world.uuid)
    assert f"ddbtrigger redrive --mapping {world.uuid}" in " ".join(table.stdout.split())


def test_redrive_by_mapping_keeps_a_declared_triggers_guarantees(world: World) -> None:
    base = ["redrive", "--mapping", world.uuid, "--delete-on-success", "--yes"]

    still = world.json(*base, "--handler", "broken.py:handler", exit_code=1)
    assert still["failed"] == 1 and still["not_attempted"] == len(PILLS) - 1  # order: the rest wait
    assert world.depth() == len(PILLS)  # nothing delivered, nothing deleted

    sqs = world.sb.client("sqs")
    held = sqs.receive_message(QueueUrl=world.url, MaxNumberOfMessages=1, VisibilityTimeout=60)["Messages"]
    inspect = world.json("inspect-dlq", "--mapping", world.uuid, exit_code=3)  # incomplete: one held
    assert inspect["held"]["count"] == 1

    partial = world.json(*base, "--handler", "fixed.py:handler", exit_code=1)
    assert partial["held"] == 1 and partial["redriven"] == len(PILLS) - 1
    first = world.delivered()
    assert len(first) == len(PILLS) - 1 and first == sorted(first, key=int)  # shard order
    assert world.depth() == 1  # only the held failure is left

    sqs.change_message_visibility(
        QueueUrl=world.url, ReceiptHandle=held[0]["ReceiptHandle"], VisibilityTimeout=0
    )
    done = world.json(*base, "--handler", "fixed.py:handler")
    assert done["redriven"] == 1 and done["held"] == 0
    assert world.depth() == 0
    assert len(set(world.delivered())) == len(world.delivered()) == len(PILLS)  # each delivered once


def test_bad_targets_are_clear_errors(world: World) -> None:
    missing = world.run("status", "--mapping", "00000000-0000-0000-0000-000000000000")
    assert missing.returncode == 1, missing.stderr
    assert "get event source mapping 00000000-0000-0000-0000-000000000000" in " ".join(missing.stderr.split())

    none = world.run("status", "--table", "quiet")
    assert none.returncode == 1 and "no event source mapping found" in none.stderr

    mixed = world.run("redrive", "--table", "orders", "--trigger", "x", "--yes")
    assert mixed.returncode == 2 and "cannot be combined with --trigger" in " ".join(mixed.stderr.split())


def test_tail_and_replay_work_a_mapping_no_spec_declares(world: World) -> None:
    """Issue 15 lists tail and replay among the commands that take --mapping/--table."""
    lines = world.run("tail", "--mapping", world.uuid, "--since", "1h", "-o", "json")
    assert lines.returncode == 0, lines.stderr
    keys = [json.loads(line)["dynamodb"]["Keys"]["pk"]["S"] for line in lines.stdout.splitlines()]
    assert keys == [f"k{i}" for i in range(10)]
    replayed = world.json("replay", "--table", "orders", "--since", "1h", "--dry-run", "--yes")
    assert replayed["selected"] == 10 and replayed["delivered"] == 0

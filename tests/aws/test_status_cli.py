"""``ddbtrigger status`` as a user runs it: the installed command, against a moto server endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.usecases.spec_file import read_spec

from .test_status import make_function, make_mapping, make_queue, make_table, trigger_doc, write_spec

pytestmark = pytest.mark.e2e


def healthy_world(moto_server: str, tmp_path: Path) -> tuple[Path, str, ClientFactory, str]:
    """orders-audit applied on the moto server: (spec path, destination queue URL, factory, mapping UUID)."""
    factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url=moto_server))
    path = write_spec(tmp_path, trigger_doc("orders-audit", table="orders", function="orders-fn"))
    spec = read_spec(path).triggers[0]
    table = make_table(factory, "orders")
    make_function(factory, "orders-fn")
    url = make_queue(factory, spec)
    uuid = make_mapping(factory, spec, table)
    return path, url, factory, uuid


def test_status_subprocess_json_and_table(moto_server: str, run_cli: Any, tmp_path: Path) -> None:
    path, url, factory, uuid = healthy_world(moto_server, tmp_path)
    factory.client("sqs").send_message(QueueUrl=url, MessageBody="{}")

    result = run_cli("status", "-f", str(path), "--endpoint-url", moto_server, "-o", "json")
    assert result.returncode == 3, result.stderr  # a failure waits in the destination: attention needed
    (doc,) = json.loads(result.stdout)["triggers"]
    assert doc["mapping"]["uuid"] == uuid and doc["on_failure"]["depth"] == 1
    assert doc["drift"] is False and doc["shards"][0]["open"] is True
    assert [h["code"] for h in doc["hints"]] == ["destination-not-empty"]

    table_run = run_cli("status", "-f", str(path), "--endpoint-url", moto_server, env={"COLUMNS": "120"})
    assert table_run.returncode == 3, table_run.stderr
    assert "orders-audit" in table_run.stdout and "orders-audit-dlq" in table_run.stdout
    assert "holds 1 failure" in table_run.stdout
    assert max(len(line) for line in table_run.stdout.splitlines()) <= 120


def test_status_exit_codes_drive_an_alert(moto_server: str, run_cli: Any, tmp_path: Path) -> None:
    """issue 13: 0 when all is well; 3 (attention needed) when failures are held by another reader
    (a redrive running, a killed run's hold), shown as held, never as an empty destination."""
    path, url, factory, _ = healthy_world(moto_server, tmp_path)
    args = ("status", "-f", str(path), "--endpoint-url", moto_server)
    ok = run_cli(*args, "-o", "json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["attention"] is False

    sqs = factory.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)  # another reader holds it
    held = run_cli(*args, "-o", "json")
    assert held.returncode == 3, held.stderr
    doc = json.loads(held.stdout)
    (trigger,) = doc["triggers"]
    assert doc["attention"] is True and trigger["attention"] == ["failures held"]
    assert trigger["on_failure"]["held"] == {"count": 1, "reappear_by": None}
    table = run_cli(*args, env={"COLUMNS": "80"})
    assert table.returncode == 3
    assert "+1 held" in table.stdout and "held invisible by another reader" in " ".join(table.stdout.split())


def test_status_exits_3_for_a_missing_table_and_mapping(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    """issue 13: a missing table (and so a missing mapping) is attention needed, not success."""
    path = write_spec(tmp_path, trigger_doc("orders-audit", table="nope", function="orders-fn"))
    result = run_cli("status", "-f", str(path), "--endpoint-url", moto_server, "-o", "json")
    assert result.returncode == 3, result.stderr
    (trigger,) = json.loads(result.stdout)["triggers"]
    assert {"table missing", "mapping missing"} <= set(trigger["attention"])


def test_status_at_80_columns_keeps_drift_and_iterator_age(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    """issue 13: at 80 columns no column silently disappears, and no line is wider than the terminal."""
    path, _, _, _ = healthy_world(moto_server, tmp_path)
    result = run_cli(
        "status", "-f", str(path), "--endpoint-url", moto_server, "--metrics", env={"COLUMNS": "80"}
    )
    assert result.returncode == 0, result.stderr
    assert "drift: no" in result.stdout and "iterator age:" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80

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


def test_status_subprocess_json_and_table(moto_server: str, run_cli: Any, tmp_path: Path) -> None:
    factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url=moto_server))
    path = write_spec(tmp_path, trigger_doc("orders-audit", table="orders", function="orders-fn"))
    spec = read_spec(path).triggers[0]
    table = make_table(factory, "orders")
    make_function(factory, "orders-fn")
    url = make_queue(factory, spec)
    uuid = make_mapping(factory, spec, table)
    factory.client("sqs").send_message(QueueUrl=url, MessageBody="{}")

    result = run_cli("status", "-f", str(path), "--endpoint-url", moto_server, "-o", "json")
    assert result.returncode == 0, result.stderr
    (doc,) = json.loads(result.stdout)["triggers"]
    assert doc["mapping"]["uuid"] == uuid and doc["on_failure"]["depth"] == 1
    assert doc["drift"] is False and doc["shards"][0]["open"] is True
    assert [h["code"] for h in doc["hints"]] == ["destination-not-empty"]

    table_run = run_cli("status", "-f", str(path), "--endpoint-url", moto_server, env={"COLUMNS": "120"})
    assert table_run.returncode == 0, table_run.stderr
    assert "orders-audit" in table_run.stdout and "orders-audit-dlq" in table_run.stdout
    assert "holds 1 failure" in table_run.stdout
    assert max(len(line) for line in table_run.stdout.splitlines()) <= 120

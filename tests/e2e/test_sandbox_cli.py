"""`ddbtrigger sandbox` as a user runs it: a server in one process, the product's commands in others."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ddbtrigger_executable
from tests.helpers import create_table

pytestmark = pytest.mark.e2e

HANDLERS = Path(__file__).resolve().parents[2] / "examples" / "handlers.py"
SPEC = """\
version: 1
region: us-east-1
triggers:
  - name: orders-audit
    table: orders
    function: orders-audit
    mapping:
      batch_size: 10
      maximum_retry_attempts: 1
    on_failure:
      type: sqs
      name: orders-audit-dlq
"""


def _read_exports(process: subprocess.Popen[str], *, timeout: float = 90) -> dict[str, str]:
    env: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while "AWS_REGION" not in env:
        assert time.monotonic() < deadline, "the sandbox printed no export lines in time"
        line = process.stdout.readline()
        assert line, f"the sandbox exited: {process.poll()}"
        if line.startswith("export "):
            key, _, value = line[len("export ") :].strip().partition("=")
            env[key] = value
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    command = [
        *ddbtrigger_executable(),
        "sandbox",
        "--port",
        "0",
        "--poll-interval",
        "0.05",
        "--state-seconds",
        "0",
        "--handler",
        f"orders-audit={HANDLERS}:audit",
        "--handler",
        f"orders-audit-fixed={HANDLERS}:audit_fixed",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        yield process, _read_exports(process)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _boto(env: dict[str, str], service: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


def _cli(run_cli: Any, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, cwd=cwd, timeout=60)  # type: ignore[no-any-return]


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def test_the_lifecycle_against_a_running_sandbox(served: Any, run_cli: Any, tmp_path: Path) -> None:
    process, env = served
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    ddb = _boto(env, "dynamodb")
    create_table(ddb, view=None)
    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)

    applied = _cli(run_cli, env, tmp_path, "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    for i in range(6):
        item: dict[str, Any] = {"pk": {"S": f"o{i}"}}
        if i == 4:
            item["poison"] = {"BOOL": True}
        ddb.put_item(TableName="orders", Item=item)

    sqs = _boto(env, "sqs")
    url = sqs.get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    deadline = time.monotonic() + 20
    while (
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
        != "1"
    ):
        assert time.monotonic() < deadline, "the poison pill never reached the queue"
        time.sleep(0.05)

    status = _json(_cli(run_cli, env, tmp_path, "status", "--output", "json"))
    trigger = status["triggers"][0]
    assert trigger["mapping"]["last_processing_result"] in ("OK", "PROBLEM: Function call failed")
    assert trigger["on_failure"]["depth"] == 1

    failures = _json(_cli(run_cli, env, tmp_path, "inspect-dlq", "--output", "json"))["failures"]
    assert len(failures) == 1 and failures[0]["batch_size"] == 1

    still = _cli(run_cli, env, tmp_path, "redrive", "--yes", "--output", "json")
    assert still.returncode == 1
    assert _json(still)["failed"] == 1

    fixed = _cli(
        run_cli, env, tmp_path, "redrive", "--yes", "--to-function", "orders-audit-fixed", "--output", "json"
    )
    assert fixed.returncode == 0, fixed.stderr
    assert _json(fixed)["redriven"] == 1
    assert _json(_cli(run_cli, env, tmp_path, "inspect-dlq", "--output", "json"))["failures"] == []

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    assert "sandbox stopped" in (process.stderr.read() if process.stderr else "")


def test_a_bad_handler_is_a_usage_error(run_cli: Any) -> None:
    result = run_cli("sandbox", "--port", "0", "--handler", "orders-audit=no_such_module_xyz:handler")
    assert result.returncode == 2
    assert "no_such_module_xyz" in result.stderr


def test_without_moto_the_sandbox_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['moto'] = None; sys.modules['moto.server'] = None; "
        "from ddbtrigger.cli.app import main; sys.argv = ['ddbtrigger', 'sandbox']; main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 2
    assert "pip install 'ddbtrigger[local]'" in result.stderr

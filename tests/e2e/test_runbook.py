"""Every ``ddbtrigger`` command of docs/runbook.md runs against the sandbox, so the runbook cannot rot.

The sandbox runs in this process (its function is a Python handler here); each command runs through
the CLI exactly as typed on the page (typer's runner, in process: a subprocess per command would cost
a second of interpreter start each), in the order of the page. ``tests/e2e/test_redrive_cli.py``
covers the installed executable. Before some sections the test
stages the situation the section is about: the function is fixed before "failures are piling up", and
the table's stream is disabled and re-enabled before "the stream was re-enabled". A command fails the
test when it exits 2 (a usage error: the runbook names an option that does not exist), prints a
traceback or an unexpected error, or exits 1 where only ``redrive`` (failures left) may.
"""

from __future__ import annotations

import json
import re
import shlex
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("sandbox")]

RUNBOOK = Path(__file__).resolve().parents[2] / "docs" / "runbook.md"
SPEC = """version: 1
region: us-east-1
triggers:
  - name: orders-audit
    table: orders
    function: orders-audit
    mapping:
      batch_size: 10
      maximum_retry_attempts: 0
    on_failure: {type: sqs, name: orders-audit-dlq}
"""
LOCAL_HANDLER = """
def handler(event, context):
    return {"batchItemFailures": []}
"""
CHANGES = ("apply", "redrive", "destroy")


def runbook_commands() -> list[tuple[str, str]]:
    """(section title, command) for each ``ddbtrigger`` line of each ``sh`` block, in page order."""
    commands, section = [], ""
    for block in re.finditer(r"^## ([^\n]+)$|^```sh\n(.*?)^```", RUNBOOK.read_text(), re.M | re.S):
        if block.group(1):
            section = block.group(1).strip()
            continue
        for line in block.group(2).splitlines():
            if line.strip().startswith("ddbtrigger "):
                commands.append((section, line.strip()))
    return commands


def test_the_runbook_has_commands_for_every_situation() -> None:
    sections = {s for s, _ in runbook_commands()}
    for wanted in ("poison pill", "piling up", "about to expire", "re-enabled"):
        assert any(wanted in s for s in sections), wanted
    assert len(runbook_commands()) >= 15


class Function:
    """The trigger's function: fails on poison pills until fixed."""

    def __init__(self) -> None:
        self.fixed = False
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            if record["dynamodb"].get("NewImage", {}).get("poison") and not self.fixed:
                raise ValueError("poison pill " + record["dynamodb"]["SequenceNumber"])


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def in_process(env: dict[str, str]) -> Callable[..., Ran]:
    """Run ``ddbtrigger ARGS`` through the typer app, with ``env`` set."""
    from typer.testing import CliRunner

    from ddbtrigger.cli.app import app

    runner = CliRunner()

    def run(*args: str, **_: Any) -> Ran:
        result = runner.invoke(app, list(args), env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Ran(result.exit_code, result.stdout, result.stderr)

    return run


def known_subcommands() -> set[str]:
    from ddbtrigger.cli.app import app

    return {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}


def test_every_runbook_command_runs_against_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ddbtrigger.sandbox import Sandbox

    function = Function()
    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)
    (tmp_path / "handler.py").write_text(LOCAL_HANDLER)
    monkeypatch.chdir(tmp_path)
    known = known_subcommands()
    skipped: list[str] = []
    with Sandbox(handlers={"orders-audit": function}, poll_interval=0.05, state_seconds=0) as sb:
        run_cli = in_process({**sb.environment(), "NO_COLOR": "1", "COLUMNS": "160"})
        env: dict[str, str] = {}
        sb.client("dynamodb").create_table(
            TableName="orders",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        applied = run_cli("apply", "--yes", env=env, cwd=tmp_path)
        assert applied.returncode == 0, applied.stderr
        for i in range(10):
            item = {"pk": {"S": f"order-{i}"}, **({"poison": {"BOOL": True}} if i in (3, 7) else {})}
            sb.client("dynamodb").put_item(TableName="orders", Item=item)
        wait_until(lambda: queue_depth(sb) == 2, "two poison pills in the destination")

        staged: set[str] = set()
        for section, command in runbook_commands():
            if section not in staged:
                staged.add(section)
                stage(section, sb, function)
            args = shlex.split(command)[1:]
            if args[0] not in known:
                skipped.append(command)
                continue
            if args[0] in CHANGES and "--yes" not in args:
                args.append("--yes")  # no terminal here; an operator answers the question instead
            started = time.monotonic()
            result = run_cli(*args, env=env, cwd=tmp_path)
            print(f"{time.monotonic() - started:6.1f}s  {result.returncode}  {command}")
            check(command, result)
            if section.startswith("Failures are piling up") and args[:2] == ["redrive", "--concurrency"]:
                assert queue_depth(sb) == 0, "the fixed function should have emptied the destination"
        assert queue_depth(sb) == 0
    if skipped:
        warnings.warn(f"runbook commands skipped (subcommand missing): {skipped}", stacklevel=1)


def stage(section: str, sb: Any, function: Function) -> None:
    """Put the sandbox in the situation a section is about."""
    if section.startswith("Failures are piling up"):
        function.fixed = True
    if section.startswith("The stream was re-enabled"):
        ddb = sb.client("dynamodb")
        old = ddb.describe_table(TableName="orders")["Table"]["LatestStreamArn"]
        ddb.update_table(TableName="orders", StreamSpecification={"StreamEnabled": False})
        wait_until(
            lambda: ddb.describe_table(TableName="orders")["Table"]["TableStatus"] == "ACTIVE", "table"
        )
        ddb.update_table(
            TableName="orders",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        wait_until(
            lambda: ddb.describe_table(TableName="orders")["Table"].get("LatestStreamArn") not in (None, old),
            "a new stream ARN",
        )


def check(command: str, result: Any) -> None:
    where = f"`{command}` exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, where
    allowed = (0, 1) if " redrive" in f" {command}" else (0,)
    assert result.returncode in allowed, where
    if "--output json" in command or "-o json" in command:
        json.loads(result.stdout)


def queue_depth(sb: Any) -> int:
    sqs = sb.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

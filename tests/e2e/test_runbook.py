"""Every command block of README.md and docs/*.md runs against the sandbox, so the docs cannot rot.

A command block is a fenced ``sh`` block; one that cannot run offline (installing from the network)
carries a ``<!-- not-run: reason -->`` comment on the line before it, and every other one must hold
only ``ddbtrigger`` commands, all of which run here, one sandbox per page. The runbook in detail:

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

from tests.helpers import create_table, queue_counts, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("sandbox")]

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "docs" / "runbook.md"
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = ("sh", "bash", "shell", "console")
BLOCKS = re.compile(r"^## ([^\n]+)$|(?:^<!-- not-run: ([^\n]*?) -->\n)?^```(\w*)\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Block:
    section: str
    lang: str
    text: str
    not_run: str | None

    def lines(self) -> list[str]:
        """The block's command lines (blank lines and comment lines left out)."""
        stripped = (line.strip() for line in self.text.splitlines())
        return [line for line in stripped if line and not line.startswith("#")]


def doc_blocks(doc: Path) -> list[Block]:
    """Every fenced block of ``doc`` with its section title and its not-run mark, in page order."""
    found, section = [], ""
    for m in BLOCKS.finditer(doc.read_text()):
        if m.group(1):
            section = m.group(1).strip()
        else:
            found.append(Block(section, m.group(3), m.group(4), m.group(2)))
    return found


def doc_commands(doc: Path) -> list[tuple[str, str]]:
    """(section title, command) for each line of each command block that is run, in page order."""
    return [
        (b.section, line)
        for b in doc_blocks(doc)
        if b.lang in SHELLS and b.not_run is None
        for line in b.lines()
    ]


def runbook_commands() -> list[tuple[str, str]]:
    return doc_commands(RUNBOOK)


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_every_command_block_is_run_or_marked_not_run(doc: Path) -> None:
    for block in doc_blocks(doc):
        if block.lang in SHELLS and block.not_run is None:
            assert all(line.startswith("ddbtrigger ") for line in block.lines()), (
                f"{doc.name} ({block.section}): a command block the test cannot run; mark it "
                f"<!-- not-run: reason --> if it cannot run offline:\n{block.text}"
            )
        elif block.lang in SHELLS:
            assert block.not_run.strip(), f"{doc.name}: a not-run mark needs its reason"
        else:  # an unmarked fence holds output or a usage synopsis, never commands to type
            commands = [line for line in block.lines() if line.startswith("ddbtrigger ")]
            assert all("[OPTIONS]" in line for line in commands), f"{doc.name}: fence it as sh: {commands}"


def test_the_readme_runs_the_sandbox_with_a_handler_that_exists() -> None:
    sandbox = [c for _, c in doc_commands(README) if c.startswith("ddbtrigger sandbox --handler")]
    assert sandbox, "the README shows how to serve a local AWS with a handler"
    assert len(doc_commands(README)) >= 10


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
RUNBOOK_SPEC = SPEC.replace(
    "region: us-east-1\n",
    # the runbook's spec has environments, as config.example.yaml does: every command names one, and the
    # account guard is checked against the sandbox's account before every change
    'environments:\n  prod: {region: us-east-1, account_id: "123456789012"}\n',
)
LOCAL_HANDLER = """
def handler(event, context):
    return {"batchItemFailures": []}
"""
CHANGES = ("apply", "redrive", "destroy")


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


def run_commands(
    commands: list[tuple[str, str]],
    run_cli: Callable[..., Ran],
    cwd: Path,
    before: Callable[[str, list[str]], None] = lambda section, args: None,
) -> list[str]:
    """Run each command as typed (``--yes`` added where a terminal would be asked); returns the ones
    skipped because their subcommand does not exist (yet)."""
    known, skipped = known_subcommands(), []
    for section, command in commands:
        args = shlex.split(command, comments=True)[1:]
        if args[0] not in known:
            skipped.append(command)
            continue
        before(section, args)
        if args[0] in CHANGES and "--yes" not in args:
            args.append("--yes")  # no terminal here; an operator answers the question instead
        target = None
        if ">" in args:  # `ddbtrigger schema > file`: the shell's redirection
            args, target = args[: args.index(">")], args[args.index(">") + 1]
        started = time.monotonic()
        result = serve_once(args, cwd) if args[0] == "sandbox" else run_cli(*args)
        print(f"{time.monotonic() - started:6.1f}s  {result.returncode}  {command}")
        check(command, result)
        if target is not None:
            (cwd / target).write_text(result.stdout)
    return skipped


def serve_once(args: list[str], cwd: Path) -> Ran:
    """``ddbtrigger sandbox ...`` (the installed executable, on a free port): it must start serving with
    the page's handlers, then stop on Ctrl-C."""
    import signal
    import subprocess

    from tests.conftest import ddbtrigger_executable

    argv = [*ddbtrigger_executable(), *args, *([] if "--port" in args else ["--port", "0"])]
    err = cwd / "sandbox.err"
    with err.open("w") as stderr:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            wait_until(lambda: "Ctrl-C to stop" in err.read_text() or proc.poll() is not None, "the sandbox")
            proc.send_signal(signal.SIGINT)
            out, _ = proc.communicate(timeout=30)
        finally:
            proc.kill()
    return Ran(proc.returncode, out, err.read_text())


def test_every_readme_command_runs_against_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ddbtrigger.sandbox import Sandbox

    (tmp_path / "ddbtrigger.yaml").write_text(SPEC)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    with Sandbox(handlers={"orders-audit": Function()}, poll_interval=0.05, state_seconds=0) as sb:
        run_cli = in_process({**sb.environment(), "NO_COLOR": "1", "COLUMNS": "160"})
        create_table(sb.client("dynamodb"), view=None)

        def before(section: str, args: list[str]) -> None:
            if args[0] == "export":  # the tour ended with destroy: export needs a mapping to read
                assert run_cli("apply", "--yes").returncode == 0

        skipped = run_commands(doc_commands(README), run_cli, tmp_path, before)
        assert "properties" in json.loads((tmp_path / "ddbtrigger.schema.json").read_text())
    assert skipped == []


def test_every_runbook_command_runs_against_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ddbtrigger.sandbox import Sandbox

    function = Function()
    (tmp_path / "ddbtrigger.yaml").write_text(RUNBOOK_SPEC)
    (tmp_path / "handler.py").write_text(LOCAL_HANDLER)
    monkeypatch.chdir(tmp_path)
    with Sandbox(handlers={"orders-audit": function}, poll_interval=0.05, state_seconds=0) as sb:
        run_cli = in_process({**sb.environment(), "NO_COLOR": "1", "COLUMNS": "160"})
        create_table(sb.client("dynamodb"), view=None)
        applied = run_cli("apply", "--env", "prod", "--yes")
        assert applied.returncode == 0, applied.stderr
        for i in range(10):
            item = {"pk": {"S": f"order-{i}"}, **({"poison": {"BOOL": True}} if i in (3, 7) else {})}
            sb.client("dynamodb").put_item(TableName="orders", Item=item)
        wait_until(lambda: queue_depth(sb) == 2, "two poison pills in the destination")

        staged: set[str] = set()

        def before(section: str, args: list[str]) -> None:
            if section not in staged:
                staged.add(section)
                stage(section, sb, function)

        def after_each(*args: str) -> Ran:
            result = run_cli(*args)
            if list(args[:2]) == ["redrive", "--concurrency"] and function.fixed:
                assert queue_depth(sb) == 0, "the fixed function should have emptied the destination"
            return result

        skipped = run_commands(runbook_commands(), after_each, tmp_path, before)
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


ALLOWED_EXITS = {
    "redrive": (0, 1),  # 1: a failure was left (still failing, or blocked behind one)
    "status": (0, 3),  # 3: attention needed (failures waiting, a PROBLEM result, drift)
    "inspect-dlq": (0, 3),  # 3: failures held by another reader
    "audit": (0, 3),  # 3: a finding at or above --fail-on
}


def check(command: str, result: Any) -> None:
    where = f"`{command}` exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, where
    allowed = ALLOWED_EXITS.get(shlex.split(command, comments=True)[1], (0,))
    assert result.returncode in allowed, where
    if "--output json" in command or "-o json" in command:
        json.loads(result.stdout)


def queue_depth(sb: Any) -> int:
    sqs = sb.client("sqs")
    url = sqs.get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    return sum(queue_counts(sqs, url))

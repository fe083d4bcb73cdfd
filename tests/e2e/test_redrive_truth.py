"""``redrive`` tells the truth (issue 13): counts that add up, honest footers, Ctrl-C, JSON errors.

Each test runs the installed ``ddbtrigger`` as a subprocess against a moto server (the ``Server``
world of ``test_redrive_cli``), with a local handler written next to the spec.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ddbtrigger_executable
from tests.e2e.test_redrive_cli import Server, redrive

pytestmark = pytest.mark.e2e

SLOW = """
import os, time
HERE = os.path.dirname(__file__)
def handler(event, context):
    seq = event["Records"][0]["dynamodb"]["SequenceNumber"]
    with open(os.path.join(HERE, "ready"), "a") as f:
        f.write(seq + "\\n")
    time.sleep(1.5)  # the test interrupts the run while this delivery is in progress
"""


@pytest.fixture
def server(moto_server: str, tmp_path: Path) -> Server:
    return Server(moto_server, tmp_path)


def visible(server: Server) -> int:
    attrs = server.sqs.get_queue_attributes(QueueUrl=server.queue, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def test_one_failure_and_four_blocked_are_not_failed_5(run_cli: Any, server: Server) -> None:
    pill = server.write("poison")
    later = [server.write() for _ in range(4)]
    for seq in (pill, *later):
        server.fail(seq)
    table = redrive(run_cli, server, "--delete-on-success", "--yes")
    assert table.returncode == 1, table.stderr
    assert "failed 1 · not attempted 4" in table.stdout and "failed 5" not in table.stdout
    assert "--keep-going" in table.stdout
    doc = json.loads(redrive(run_cli, server, "--delete-on-success", "--yes", "-o", "json").stdout)
    assert (doc["failed"], doc["not_attempted"], doc["redriven"], doc["kept"]) == (1, 4, 0, 5)
    assert [r["status"] for r in doc["results"]] == ["failed"] + ["not-attempted"] * 4
    assert server.depth() == 5


def test_a_failed_json_run_carries_an_error_object(run_cli: Any, server: Server) -> None:
    server.fail(server.write("poison"))
    result = redrive(run_cli, server, "--delete-on-success", "--yes", "-o", "json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["error"]["code"] == "incomplete" and "still failing" in doc["error"]["message"]
    assert doc["failed"] == 1 and len(doc["results"]) == 1


def test_a_fatal_error_mid_run_still_prints_one_json_document(tmp_path: Path) -> None:
    """The sandbox answers 404 for a function that does not exist (moto alone invokes anything)."""
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(handlers={}) as sb:
        world = Server(sb.endpoint_url, tmp_path)
        world.fail(world.write())
        args = ["redrive", "--to-function", "nope", "--yes", "-o", "json"]
        result = subprocess.run(
            [*ddbtrigger_executable(), *args],
            cwd=tmp_path,
            env={**os.environ, **sb.environment()},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2, result.stderr
        doc = json.loads(result.stdout)  # exactly one document
        assert doc["error"]["code"] == "usage" and "nope does not exist" in doc["error"]["message"]
        assert doc["results"][0]["status"] == "not-attempted" and world.depth() == 1


def test_after_drop_expired_the_footer_does_not_suggest_it_again(tmp_path: Path) -> None:
    """The sandbox trims the stream by its clock; 24 h later the record is gone."""
    from ddbtrigger.sandbox import Sandbox
    from tests.aws.conftest_sandbox import FakeClock

    clock = FakeClock()
    with Sandbox(handlers={}, clock=clock) as sb:
        world = Server(sb.endpoint_url, tmp_path)
        world.fail(world.write())
        clock.advance(86400 + 60)
        env = {**os.environ, **sb.environment()}
        handler = ["--handler", f"{tmp_path / 'h.py'}:handler", "--delete-on-success", "--yes"]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            argv = [*ddbtrigger_executable(), "redrive", *handler, *args]
            return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

        kept = run()
        assert kept.returncode == 1 and "with --drop-expired" in kept.stdout, kept.stdout + kept.stderr
        dropped = run("--drop-expired")
        assert dropped.returncode == 0, dropped.stderr
        assert "expired 1 (1 dropped)" in dropped.stdout
        footer = dropped.stdout.split("expired 1 (1 dropped)", 1)[1]
        assert "--drop-expired" not in footer and world.depth() == 0


def test_handler_without_delete_is_delivered_kept_in_the_summary(run_cli: Any, server: Server) -> None:
    server.fail(server.write())
    result = redrive(run_cli, server)
    assert result.returncode == 0, result.stderr
    assert "redriven 0 (0 records)" in result.stdout and "delivered, kept 1" in result.stdout
    assert "--delete-on-success" in result.stdout and server.depth() == 1


def wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {path}")
        time.sleep(0.02)


@pytest.mark.parametrize("output", ["json", "table"])
def test_ctrl_c_prints_the_summary_and_exits_130(server: Server, output: str) -> None:
    (server.tmp / "slow.py").write_text(SLOW)
    seqs = [server.write() for _ in range(3)]
    for seq in seqs:
        server.fail(seq)
    args = ["redrive", "--endpoint-url", server.url, "--handler", f"{server.tmp / 'slow.py'}:handler"]
    run = subprocess.Popen(
        [*ddbtrigger_executable(), *args, "--delete-on-success", "--yes", "-o", output],
        cwd=server.tmp,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(server.tmp / "ready")  # the first delivery is under way
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 130, stderr
    assert (server.tmp / "ready").read_text().split() == seqs[:1]  # nothing after the interrupt
    assert server.depth() == 2 and visible(server) == 2  # only the delivered one deleted; rest released
    if output == "json":
        doc = json.loads(stdout)
        assert doc["interrupted"] is True and "error" not in doc
        assert [r["status"] for r in doc["results"]] == ["redriven", "not-attempted", "not-attempted"]
        assert (doc["redriven"], doc["not_attempted"], doc["kept"]) == (1, 2, 2)
    else:
        assert "redriven 1 (1 records)" in stdout and "not attempted 2" in stdout
        assert "interrupted" in stdout and "interrupted" in stderr

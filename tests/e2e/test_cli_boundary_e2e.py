"""The CLI's boundary, on the installed executable (issue 13): usage errors as JSON under ``-o json``,
an ``--endpoint-url`` without a scheme as a usage error, and Ctrl-C as exit 130 with one line (the
demo cleaning up after itself)."""

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

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "-o", "json", "--bogus"],
        ["status", "--output=json", "--trigger"],  # a missing value
        ["redrive", "-ojson", "--max", "many"],
        ["--debug", "inspect-dlq", "-o", "JSON", "--nope"],
    ],
)
def test_usage_errors_under_json_print_the_error_document(run_cli: Any, args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "usage" and error["message"]
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_usage_errors_for_people_are_one_line_on_stderr(run_cli: Any) -> None:
    result = run_cli("plan", "--bogus")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "error: No such option: --bogus (see 'ddbtrigger plan --help')\n"


def test_endpoint_url_without_scheme_is_a_usage_error(run_cli: Any, tmp_path: Path) -> None:
    result = run_cli("status", "--endpoint-url", "127.0.0.1:4566", "-o", "json", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "usage"
    assert "http://127.0.0.1:4566" in error["message"] and "internal" not in result.stderr
    from_env = run_cli("plan", cwd=tmp_path, env={"AWS_ENDPOINT_URL": "localhost:4566"})
    assert from_env.returncode == 2 and "has no scheme" in from_env.stderr


def _wait_for(path: Path, text: str, proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text(errors="replace"):
        assert proc.poll() is None, f"exited {proc.returncode} before {text!r}: {path.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} within {timeout}s: {path.read_text()}"
        time.sleep(0.05)


def test_ctrl_c_in_demo_cleans_up_and_exits_130(tmp_path: Path) -> None:
    temp, out, err = tmp_path / "tmp", tmp_path / "out", tmp_path / "err"
    temp.mkdir()
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [*ddbtrigger_executable(), "demo"],
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "TMPDIR": str(temp)},
            cwd=tmp_path,
        )
        try:
            # Mid-tour, while the demo polls for the poison pill (seconds of waiting: the signal lands
            # in the demo's own loop or a short AWS call, never after the tour ended).
            _wait_for(out, "== Watch", proc)
            assert list(temp.glob("ddbtrigger-demo-*")), "the demo works in a temporary directory"
            proc.send_signal(signal.SIGINT)
            code = proc.wait(timeout=60)
            assert code == 130, f"exit {code}:\n{out.read_text()[-3000:]}\n{err.read_text()[-3000:]}"
        finally:
            proc.kill()
    text = out.read_text() + err.read_text()
    assert "demo interrupted" in text and "demo failed" not in text and "Traceback" not in text
    assert not list(temp.glob("ddbtrigger-demo-*")), "the temporary directory is removed"


def test_ctrl_c_at_a_prompt_is_one_line_and_exit_130(moto_server: str, tmp_path: Path) -> None:
    from ddbtrigger.aws.clients import AwsTarget, ClientFactory
    from tests.aws.conftest_provision import make_function, make_table, spec_text, trigger

    factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url=moto_server))
    make_table(factory, "orders")
    make_function(factory, "orders-fn")
    (tmp_path / "ddbtrigger.yaml").write_text(spec_text(trigger()))
    factory.client("sqs").create_queue(
        QueueName="orders-audit-dlq", tags={"ddbtrigger:trigger": "orders-audit"}
    )
    import pty

    leader, follower = pty.openpty()
    err = tmp_path / "err"
    with err.open("w") as stderr:
        proc = subprocess.Popen(
            [*ddbtrigger_executable(), "destroy", "--endpoint-url", moto_server],
            stdin=follower,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
        )
        os.close(follower)
        try:
            _wait_for(err, "Destroy 1 resource(s)?", proc)
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=30) == 130
        finally:
            proc.kill()
            os.close(leader)
    assert err.read_text().splitlines()[-1] == "error: interrupted"
    assert "Traceback" not in err.read_text() and "Aborted" not in err.read_text()

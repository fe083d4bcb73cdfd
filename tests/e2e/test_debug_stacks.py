"""With ``DDBTRIGGER_DEBUG`` set, ``kill -USR1`` makes a running command print every thread's stack to
stderr and go on (issue 19: what a quiet ``audit`` was waiting on)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import ddbtrigger_executable

pytestmark = pytest.mark.e2e


def _run_against_a_silent_server(
    tmp_path: Path, debug: bool
) -> tuple[subprocess.Popen[bytes], Path, socket.socket]:
    """``audit`` aimed at a server that accepts the connection and never answers; returns once the
    command has connected (past start-up, so its signal handlers are in place)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(60)
    err = tmp_path / "err"
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "AKIAFAKEDEBUGSTACKS1",
        "AWS_SECRET_ACCESS_KEY": "fake",
        "AWS_REGION": "us-east-1",
    }
    env.pop("DDBTRIGGER_DEBUG", None)
    if debug:
        env["DDBTRIGGER_DEBUG"] = "1"
    endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            [*ddbtrigger_executable(), "audit", "--region", "us-east-1", "--endpoint-url", endpoint],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            env=env,
        )
    try:
        conn, _ = server.accept()  # the command is waiting for a reply now
    except BaseException:
        proc.kill()
        raise
    server.close()
    return proc, err, conn


def test_sigusr1_dumps_every_thread_and_the_run_goes_on(tmp_path: Path) -> None:
    proc, err, conn = _run_against_a_silent_server(tmp_path, debug=True)
    try:
        proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while "File " not in err.read_text(errors="replace"):
            assert proc.poll() is None, f"exited {proc.returncode}: {err.read_text(errors='replace')[-2000:]}"
            assert time.monotonic() < deadline, "no stack dump within 30 s"
            time.sleep(0.05)
        time.sleep(0.2)
        text = err.read_text(errors="replace")
        assert "Thread 0x" in text and "most recent call first" in text
        assert "socket.py" in text or "ssl.py" in text or "connection.py" in text, text[-3000:]
        assert proc.poll() is None, "the run goes on after the dump"
    finally:
        proc.kill()
        proc.wait(timeout=30)
        conn.close()


def test_without_debug_sigusr1_is_left_alone(tmp_path: Path) -> None:
    """No handler is installed: SIGUSR1 keeps its default action (the process ends), nothing dumped."""
    proc, err, conn = _run_against_a_silent_server(tmp_path, debug=False)
    try:
        proc.send_signal(signal.SIGUSR1)
        assert proc.wait(timeout=30) == -signal.SIGUSR1
        assert "Thread 0x" not in err.read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        conn.close()

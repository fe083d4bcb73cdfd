"""Shared fixtures: fake credentials everywhere, moto in-process, and a moto server over HTTP.

The AWS-NOTES.md workarounds live here once: DynamoDB Streams needs the regional endpoint
(account-id endpoint mode disabled), and moto's own invoke-on-write is switched off because it empties
the shard that our code wants to read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws.conftest_sandbox import POLL, FakeClock

REGION = "us-east-1"
FAKE_KEY_ID = "AKIAFAKEDDBTRIGGER01"
FAKE_SECRET = "fakeSecretDdbtrigger0000000000000000000000"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recognisable fake credentials (tests can scan output for them), never a real profile."""
    for var in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_SESSION_TOKEN",
        "DDBTRIGGER_FILE",
        "DDBTRIGGER_ENV",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def clock() -> FakeClock:
    """The sandbox's clock: real time plus an offset a test moves forward."""
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[Any]:
    """A fresh sandbox per test, polling fast, mapping states settling at once."""
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=POLL, clock=clock, state_seconds=0) as sb:
        yield sb


@pytest.fixture
def metered_sandbox(clock: FakeClock) -> Iterator[Any]:
    """A sandbox that also publishes its metrics every poll, for the alarm and metric tests."""
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=POLL, clock=clock, state_seconds=0, metrics_interval=POLL) as sb:
        yield sb


def _silence_moto_stream_invokes(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.awslambda.models import LambdaBackend

    monkeypatch.setattr(LambdaBackend, "send_dynamodb_items", lambda *a, **k: None)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in-process; yields a ClientFactory aimed at it."""
    from moto import mock_aws

    from ddbtrigger.aws.clients import AwsTarget, ClientFactory

    _silence_moto_stream_invokes(monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield ClientFactory(AwsTarget(region=REGION, max_attempts=2))


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """A moto server on a free loopback port, for the whole session (reset per test by moto_server)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_server(moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared moto server, reset, with Lambda's Docker path off; yields its URL."""
    import json
    import urllib.request

    _silence_moto_stream_invokes(monkeypatch)
    for path, body in (
        ("/moto-api/reset", b""),
        ("/moto-api/config", json.dumps({"lambda": {"use_docker": False}}).encode()),
    ):
        req = urllib.request.Request(moto_server_url + path, data=body, method="POST")
        urllib.request.urlopen(req, timeout=10).read()
    return moto_server_url


def ddbtrigger_executable() -> list[str]:
    """The installed console script next to this interpreter (falls back to ``python -m``)."""
    script = Path(sys.executable).with_name("ddbtrigger")
    if script.exists():
        return [str(script)]
    found = shutil.which("ddbtrigger")
    return [found] if found else [sys.executable, "-m", "ddbtrigger"]


@pytest.fixture
def run_cli() -> Any:
    """Run the installed ``ddbtrigger`` as a subprocess; returns the CompletedProcess."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        input: str | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [*ddbtrigger_executable(), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=cwd,
            input=input,
            timeout=timeout,
        )

    return run

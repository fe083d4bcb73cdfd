"""The local AWS the benchmarks run against: ddbtrigger's sandbox, or plain moto with a latency shim.

Both serve over HTTP on a loopback port, in this process (the benchmarked commands are subprocesses,
so this process is idle while they run). ``latency_ms`` delays every AWS request by that much, as a
round trip to a real region would; concurrent requests are delayed concurrently.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

Handler = Callable[[dict[str, Any], Any], Any]
IDLE_POLL = 3600.0
"""A ``poll_interval`` for benchmarks that only read mappings: the emulator's first scan (at start) finds
none, and the next comes after the run, so no poller ever runs."""


def succeed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A handler that accepts every record."""
    return {"batchItemFailures": []}


def sandbox_available() -> bool:
    try:
        from ddbtrigger.sandbox import Sandbox  # noqa: F401
    except ImportError:
        return False
    return True


class LocalAws:
    """A running local AWS; ``factory()`` gives a ClientFactory aimed at it (for fixtures only)."""

    def __init__(self, endpoint_url: str, kind: str, latency_ms: int) -> None:
        self.endpoint_url = endpoint_url
        self.kind = kind
        self.latency_ms = latency_ms
        self._factory: Any = None
        self._lock = threading.Lock()
        self.sandbox: Any = None  # the Sandbox itself, when kind is "sandbox" (split_shard, handlers)

    def factory(self) -> Any:
        with self._lock:  # fixtures call this from many threads at once
            return self._build_factory()

    def _build_factory(self) -> Any:
        if self._factory is None:
            import boto3

            from ddbtrigger.aws.clients import AwsTarget, ClientFactory

            session = boto3.Session(
                aws_access_key_id="AKIAFAKEDDBTRIGGERB1",
                aws_secret_access_key="fakeBenchSecret000000000000",
                region_name="us-east-1",
            )
            self._factory = ClientFactory(
                AwsTarget(
                    region="us-east-1", endpoint_url=self.endpoint_url, max_attempts=3, read_timeout=120
                ),
                session=session,
            )
        return self._factory

    def client(self, service: str) -> Any:
        return self.factory().client(service)

    def moto_api(self, path: str, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        req = urllib.request.Request(self.endpoint_url + path, data=data, method="POST")
        urllib.request.urlopen(req, timeout=30).read()


@contextlib.contextmanager
def local_aws(
    kind: str = "auto",
    *,
    latency_ms: int = 0,
    handlers: dict[str, Handler] | None = None,
    poll_interval: float = 0.25,
) -> Iterator[LocalAws]:
    """Start one; ``kind`` is ``sandbox``, ``moto`` or ``auto`` (the sandbox when it exists).

    ``poll_interval``: how often the sandbox's mapping emulator looks for new mappings and each poller at
    its shard. Benchmarks whose mappings need not deliver records (``audit``, ``plan``/``apply``) pass
    ``IDLE_POLL``: with hundreds of enabled mappings, their pollers keep the server's GIL busy and slow
    every request (``audit`` of 500 took 77 s with them, 7.8 s for 200).
    """
    from bench.motofast import install

    install()
    if kind == "auto":
        kind = "sandbox" if sandbox_available() else "moto"
    if kind == "sandbox":
        from ddbtrigger.sandbox import Sandbox

        with Sandbox(
            port=0,
            handlers=dict(handlers or {}),
            latency_ms=latency_ms,
            state_seconds=0,
            poll_interval=poll_interval,
        ) as sandbox:
            env = LocalAws(sandbox.endpoint_url, "sandbox", latency_ms)
            env.sandbox = sandbox
            yield env
        return
    if handlers:
        raise ValueError("handlers need the sandbox; plain moto echoes every invoke as a success")
    with _moto_server(latency_ms) as url:
        env = LocalAws(url, "moto", latency_ms)
        env.moto_api("/moto-api/reset")
        env.moto_api("/moto-api/config", {"lambda": {"use_docker": False}})
        yield env


class _Latency:
    """WSGI middleware: wait ``latency_ms`` before each AWS request (not moto's own API)."""

    def __init__(self, app: Any, latency_ms: int) -> None:
        self.app = app
        self.latency_ms = latency_ms

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.latency_ms and not environ.get("PATH_INFO", "").startswith("/moto-api"):
            time.sleep(self.latency_ms / 1000)
        return self.app(environ, start_response)


@contextlib.contextmanager
def _moto_server(latency_ms: int) -> Iterator[str]:
    """moto's threaded server with the latency shim; moto's own invoke-on-write switched off."""
    import logging

    from moto.awslambda.models import LambdaBackend
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    original = LambdaBackend.send_dynamodb_items
    LambdaBackend.send_dynamodb_items = lambda *a, **k: None  # type: ignore[method-assign]

    class Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _Latency(DomainDispatcherApplication(create_backend_app), latency_ms)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    server = Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        LambdaBackend.send_dynamodb_items = original  # type: ignore[method-assign]

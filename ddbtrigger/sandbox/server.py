"""The sandbox: moto's server on 127.0.0.1 with the fidelity fixes and the mapping emulator.

    with Sandbox(handlers={"orders-audit": handle}) as sb:
        os.environ["AWS_ENDPOINT_URL"] = sb.endpoint_url

Several accounts: moto picks the account of a request by its access key id, so
``sb.environment(account="111111111111")`` (or ``sb.credentials(account)``, ``sb.client(service,
account=...)``, ``sb.write_profiles(path, {"dev": "111111111111"})``) gives keys of that account; the
default keys are account ``ACCOUNT_ID``. A role assumed through the sandbox's STS is in the role ARN's
account, so an environment's ``assume_role`` lands in its account as it would on AWS.

moto keeps its state in process-wide backends, and the sandbox patches moto's classes, so one sandbox
runs per process at a time; every patch is undone when it stops, and moto's state is reset on start and
stop.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from typing import Any

from moto.server import ThreadedMotoServer

from ddbtrigger.sandbox.deploy import install_redeploy
from ddbtrigger.sandbox.destinations import Destinations
from ddbtrigger.sandbox.handlers import Handler, HandlerRegistry
from ddbtrigger.sandbox.invocation_log import install_invocation_log
from ddbtrigger.sandbox.mapping_states import Dwell
from ddbtrigger.sandbox.mappings import MappingEmulator
from ddbtrigger.sandbox.monitoring import Monitoring
from ddbtrigger.sandbox.moto_lambda import install_lambda, invoke_function
from ddbtrigger.sandbox.moto_sns import install_sns
from ddbtrigger.sandbox.moto_streams import install_streams
from ddbtrigger.sandbox.patching import Patcher
from ddbtrigger.sandbox.s3_conditional import install_s3_conditional
from ddbtrigger.sandbox.streams import StreamsModel

ACCESS_KEY_ID = "sandbox"
SECRET_ACCESS_KEY = "sandbox"
DEFAULT_REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
METRICS_INTERVAL = 1.0  # seconds between metric flushes and alarm evaluations
STATE_SECONDS = 2.0  # how long a mapping stays Creating/Updating/Deleting...: real ones take seconds
ROLE_NAME = "ddbtrigger-sandbox-function-role"
TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}

_active = threading.Lock()
_session_lock = threading.RLock()
_session: Any = None
_dispatcher: Any = None


def _shared_session() -> Any:
    """One boto3 session per process, so service models load once (a new one costs ~0.2 s per client)."""
    global _session
    with _session_lock:
        if _session is None:
            import boto3

            _session = boto3.Session(
                aws_access_key_id=ACCESS_KEY_ID,
                aws_secret_access_key=SECRET_ACCESS_KEY,
                region_name=DEFAULT_REGION,
            )
        return _session


def _with_latency(app: Any, latency_ms: float) -> Any:
    """A WSGI wrapper that delays every request, to measure against a realistic round trip."""

    def wrapped(environ: Any, start_response: Any) -> Any:
        time.sleep(latency_ms / 1000)
        return app(environ, start_response)

    return wrapped


SANDBOX_API = "/_ddbtrigger/"
"""The sandbox's own routes (what AWS does not expose, for tools that use the sandbox as a test bed):
``GET /_ddbtrigger/mappings/<uuid>/shards`` -> ``{"shards": {shard_id: {"read_through", "at_end", "finished"}}}``."""


def _with_sandbox_api(app: Any, positions: Callable[[str], dict[str, Any]]) -> Any:
    """Serve ``SANDBOX_API`` in front of moto's app."""

    def wrapped(environ: Any, start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(SANDBOX_API):
            return app(environ, start_response)
        parts = path[len(SANDBOX_API) :].strip("/").split("/")
        body: dict[str, Any]
        if len(parts) == 3 and parts[0] == "mappings" and parts[2] == "shards":
            status, body = "200 OK", {"shards": positions(parts[1])}
        else:
            status, body = "404 Not Found", {"message": f"no sandbox route {path}"}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return wrapped


class _Server(ThreadedMotoServer):
    """moto's threaded server, with an optional delay in front of its WSGI app."""

    def __init__(
        self, port: int, latency_ms: float, positions: Callable[[str], dict[str, Any]] | None = None
    ) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self._latency_ms = latency_ms
        self._positions = positions

    def start(self) -> None:
        """Bind in the caller's thread, so a busy port raises here instead of hanging the caller."""
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        global _dispatcher
        with _session_lock:
            if _dispatcher is None:  # its per-service apps are built on first use: share them
                _dispatcher = DomainDispatcherApplication(create_backend_app)
            app: Any = _dispatcher
        if self._positions is not None:
            app = _with_sandbox_api(app, self._positions)
        if self._latency_ms > 0:
            app = _with_latency(app, self._latency_ms)
        try:
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
        except SystemExit:  # werkzeug exits on "address already in use"
            raise OSError(
                f"cannot listen on {self._ip_address}:{self._port}: address already in use"
            ) from None
        self._server_ready_event.set()
        self._thread = threading.Thread(target=self._serve, name="sandbox-server", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        assert self._server is not None
        self._server.serve_forever(poll_interval=0.05)


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("sandbox.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


class Sandbox:
    """A local AWS where triggers really run. Use as a context manager; see the module docstring."""

    def __init__(
        self,
        port: int = 0,
        handlers: Mapping[str, Handler] | None = None,
        retention_seconds: float = 86400,
        poll_interval: float = 0.25,
        latency_ms: float = 0,
        *,
        region: str = DEFAULT_REGION,
        clock: Callable[[], float] = time.time,
        state_seconds: float = STATE_SECONDS,
        metrics_interval: float = METRICS_INTERVAL,
    ) -> None:
        """``state_seconds``: the dwell of a mapping's transitional states (0 settles at once; tests that
        do not test waits use 0). ``clock`` drives record ages, the dwell, metric timestamps and alarm
        evaluation alike. ``metrics_interval``: how often metrics are published and alarms evaluated."""
        self.port = port
        self.region = region
        self.latency_ms = latency_ms
        self.poll_interval = poll_interval
        self.registry = HandlerRegistry()
        self.model = StreamsModel(retention_seconds=retention_seconds, clock=clock)
        self.dwell = Dwell(seconds=state_seconds, clock=clock)
        self._initial_handlers = dict(handlers or {})
        self._patcher = Patcher()
        self._server: _Server | None = None
        self._emulator: MappingEmulator | None = None
        self.monitoring = Monitoring(
            clock=clock,
            client=lambda service, region: self.client(service, region),
            interval=metrics_interval,
        )
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._keys: dict[str, tuple[str, str]] = {}
        self._saved_lambda_config: Any = None

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def start(self) -> None:
        if not _active.acquire(blocking=False):
            raise RuntimeError("a sandbox is already running in this process (moto's state is global)")
        try:
            self._start()
        except BaseException:
            self._teardown()
            raise

    def _start(self) -> None:
        from moto.core.config import default_user_config

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._saved_lambda_config = default_user_config.get("lambda")
        default_user_config["lambda"] = {"use_docker": False}
        install_streams(self._patcher, self.model)
        install_lambda(self._patcher, self.registry, self.model, self.dwell)
        install_redeploy(self._patcher, self.registry)
        install_invocation_log(self._patcher)
        self.monitoring.install(self._patcher)  # after the invocation log: it chains to it
        install_sns(self._patcher)
        install_s3_conditional(self._patcher)
        server = _Server(self.port, self.latency_ms, self._positions)
        server.start()  # raises OSError when the port is taken
        self._server = server
        self._post("/moto-api/reset")
        self._emulator = MappingEmulator(
            model=self.model,
            invoke=lambda arn, body: invoke_function(self.registry, arn, body),
            destinations=Destinations(self.client),
            poll_interval=self.poll_interval,
            on_batch=self.monitoring.publisher.on_batch,
        )
        self._emulator.start()
        self.monitoring.start()
        for name, handler in self._initial_handlers.items():
            self.register_handler(name, handler)

    def _positions(self, mapping_uuid: str) -> dict[str, Any]:
        return self._emulator.positions(mapping_uuid) if self._emulator is not None else {}

    def mapping_progress(self) -> tuple[int, dict[tuple[str, str], int]]:
        """The mapping emulator's scans and each running poller's looks (see ``MappingEmulator``)."""
        if self._emulator is None:
            raise RuntimeError("the sandbox is not running")
        return self._emulator.progress()

    def stop(self) -> None:
        if self._server is None and self._emulator is None:
            return
        self._teardown()

    def _teardown(self) -> None:
        from moto.core.config import default_user_config

        try:
            self.monitoring.stop()
            if self._emulator is not None:
                self._emulator.stop()
            if self._server is not None:
                try:
                    self._post("/moto-api/reset")
                finally:
                    self._server.stop()
        finally:
            self._emulator, self._server = None, None
            self._keys.clear()  # moto's reset forgot them, and the clients holding them are stale
            self._clients = {k: v for k, v in self._clients.items() if k[2] == ACCOUNT_ID}
            self._patcher.restore()
            if self._saved_lambda_config is not None:
                default_user_config["lambda"] = self._saved_lambda_config
            _active.release()

    def _post(self, path: str, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.endpoint_url + path, data=data, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    # -- clients and handlers -----------------------------------------------------------------
    def client(self, service: str, region: str | None = None, *, account: str | None = None) -> Any:
        """A boto3 client aimed at the sandbox, with the sandbox's fake credentials (``account``'s
        keys when given: see ``credentials``)."""
        key = (service, region or self.region, account or ACCOUNT_ID)
        with _session_lock:
            if key not in self._clients:
                from ddbtrigger.aws.clients import AwsTarget, ClientFactory

                target = AwsTarget(region=key[1], endpoint_url=self.endpoint_url, max_attempts=3)
                if account is None:
                    session = _shared_session()
                else:
                    import boto3

                    key_id, secret = self.credentials(account)
                    session = boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret)
                self._clients[key] = ClientFactory(target, session=session).client(service)
            return self._clients[key]

    def credentials(self, account: str) -> tuple[str, str]:
        """An access key id and secret that moto attributes to ``account`` (12 digits), made once per
        sandbox run (moto forgets its keys when the sandbox starts or stops)."""
        if account == ACCOUNT_ID:
            return ACCESS_KEY_ID, SECRET_ACCESS_KEY
        if not (len(account) == 12 and account.isdigit()):
            raise ValueError(f"an account id is 12 digits, not {account!r}")
        with _session_lock:
            if account not in self._keys:
                from moto.iam.models import iam_backends

                made = iam_backends[account]["aws"].create_temp_access_key()
                self._keys[account] = (made.access_key_id, made.secret_access_key)
            return self._keys[account]

    def environment(self, account: str | None = None) -> dict[str, str]:
        """The variables that point boto3 (and ddbtrigger) at the sandbox (as ``account``, when given)."""
        key_id, secret = self.credentials(account) if account else (ACCESS_KEY_ID, SECRET_ACCESS_KEY)
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def write_profiles(self, path: Any, accounts: Mapping[str, str]) -> None:
        """A shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``) with a profile per account:
        ``{"dev": "111111111111", "prod": "222222222222"}``, for a spec's environments' profiles."""
        import configparser
        from pathlib import Path

        parser = configparser.ConfigParser()
        for profile, account in accounts.items():
            key_id, secret = self.credentials(account)
            parser[profile] = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
        with Path(path).open("w", encoding="utf-8") as handle:
            parser.write(handle)

    def register_handler(self, function_name: str, handler: Handler) -> None:
        """Run ``handler`` for ``function_name`` from now on; creates the function if it is missing."""
        self.registry.set(function_name, handler)
        if self._server is not None:
            self.ensure_function(function_name)

    def ensure_function(self, function_name: str) -> str:
        """The function's ARN; a missing function is created (with a role) so nothing needs zipping."""
        lam = self.client("lambda")
        try:
            return str(lam.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"])
        except lam.exceptions.ResourceNotFoundException:
            pass
        created = lam.create_function(
            FunctionName=function_name,
            Runtime="python3.12",
            Role=self._role_arn(),
            Handler="sandbox.handler",
            Code={"ZipFile": _function_zip()},
            Timeout=30,
        )
        return str(created["FunctionArn"])

    def split_shard(
        self, table_name: str, *, into: int = 1, shard_id: str | None = None, region: str | None = None
    ) -> tuple[str, ...]:
        """Split an open stream shard of the table now: ``(parent id, child id, ...)``.

        The parent closes (``EndingSequenceNumber`` set) and keeps its records; new writes go to its
        ``into`` children (siblings, each with ``ParentShardId``), routed by a stable hash of the
        partition key so one key's records stay in one shard. ``shard_id`` picks the shard when several
        are open. The mapping emulator reads a child only once it has finished the parent, as Lambda
        does, and sibling children in parallel. ``ValueError`` when the table has no enabled stream,
        or several open shards and no ``shard_id``.
        """
        from moto.dynamodb.models import dynamodb_backends

        tables = dynamodb_backends[ACCOUNT_ID][region or self.region].tables
        if table_name not in tables:
            raise ValueError(f"no table {table_name} in the sandbox")
        parent, children = self.model.split(tables[table_name], into=into, shard_id=shard_id)
        return (parent.id, *(child.id for child in children))

    def _role_arn(self) -> str:
        iam = self.client("iam")
        try:
            return str(iam.get_role(RoleName=ROLE_NAME)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST_POLICY))
            return str(role["Role"]["Arn"])

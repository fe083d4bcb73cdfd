"""A small HTTP proxy on 127.0.0.1 that fails a chosen share of the requests it forwards to the sandbox.

Point a CLI subprocess at ``proxy.endpoint_url`` (``--endpoint-url``) and every AWS call goes through
it. For a share ``rate`` of requests (drawn from a seeded RNG, so a run can be replayed) it answers, in
turn, with one of these faults instead of the real answer:

- ``throttle``: 400 ``ThrottlingException`` (JSON services), 429 ``TooManyRequestsException`` (Lambda),
  503 ``SlowDown`` (S3) -- the request never reached the service;
- ``500``: 500 ``InternalFailure`` -- not reached either;
- ``reset``: the connection is reset (RST) before anything is forwarded;
- ``lost``: the request IS forwarded and executed, then the connection is closed without an answer,
  as after a read timeout. The client cannot tell whether it happened. SQS ``ReceiveMessage`` is never
  answered this way (see ``LOST_EXEMPT``): the messages it would receive stay invisible for their whole
  visibility timeout whatever the client does -- a property of SQS, reported in RELIABILITY.md.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

KINDS = ("throttle", "500", "reset", "lost")
LOST_EXEMPT = ("AmazonSQS.ReceiveMessage",)
_SERVICE = re.compile(r"Credential=[^/]+/[0-9]+/[^/]+/([^/]+)/aws4_request")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class FaultProxy:
    """``with FaultProxy(upstream, rate=0.3, seed=7) as proxy: ... proxy.endpoint_url``."""

    def __init__(
        self,
        upstream: str,
        *,
        rate: float,
        seed: int,
        kinds: tuple[str, ...] = KINDS,
        meddle: Callable[[str, bytes], None] | None = None,
        deny: tuple[str, ...] = (),
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.deny = deny
        """Operations (prefixes) answered with AccessDenied every time: a permission the caller lacks."""
        self.meddle = meddle
        """Called with (operation, body) before a request is forwarded: another operator acting first."""
        self.rate, self.kinds = rate, kinds
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def endpoint_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- decisions ----------------------------------------------------------------------------------
    def draw(self, operation: str) -> str | None:
        """The fault for this request, or None to forward it untouched."""
        with self.lock:
            self.requests += 1
            self.calls[operation] += 1
            if self.rng.random() >= self.rate:
                return None
            kinds = [k for k in self.kinds if not (k == "lost" and operation in LOST_EXEMPT)]
            kind = self.rng.choice(kinds)
            self.faults[kind] += 1
            return kind

    def figures(self) -> dict[str, Any]:
        with self.lock:
            return {"requests": self.requests, "faults": sum(self.faults.values()), **dict(self.faults)}


class _Handler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        service = _service(self.headers.get("Authorization", ""))
        operation = self.headers.get("X-Amz-Target") or f"{service}:{self.command} {self.path.split('?')[0]}"
        fault = self.owner.draw(operation)
        if any(operation.startswith(prefix) for prefix in self.owner.deny):
            self._error("denied", service)
            return
        if fault == "reset":
            self._reset()
            return
        if fault in ("throttle", "500"):
            self._error(fault, service)
            return
        if self.owner.meddle is not None:
            self.owner.meddle(operation, body)
        status, headers, payload = self._forward(body)
        if fault == "lost":
            self._reset()
            return
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _any

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        up = self.owner.upstream
        conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=60)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read() if self.command != "HEAD" else b""
            return response.status, response.getheaders(), payload
        finally:
            conn.close()

    def _reset(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _error(self, fault: str, service: str) -> None:
        code, status = _error_code(fault, service)
        if service == "s3":
            body = f"<Error><Code>{code}</Code><Message>injected fault</Message></Error>".encode()
            ctype = "application/xml"
        else:
            body = json.dumps({"__type": code, "message": "injected fault"}).encode()
            ctype = "application/x-amz-json-1.0"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("x-amzn-ErrorType", code)
        self.send_header("x-amzn-query-error", f"{code};Sender")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _error_code(fault: str, service: str) -> tuple[str, int]:
    """The error each service answers for throttling or an internal failure."""
    if fault == "denied":
        return ("AccessDenied", 403) if service == "s3" else ("AccessDeniedException", 400)
    if fault == "500":
        return ("InternalError", 500) if service == "s3" else ("InternalFailure", 500)
    return {
        "s3": ("SlowDown", 503),
        "lambda": ("TooManyRequestsException", 429),
        "sqs": ("RequestThrottled", 400),
    }.get(service, ("ThrottlingException", 400))


def _service(authorization: str) -> str:
    match = _SERVICE.search(authorization)
    return match.group(1) if match else "unknown"

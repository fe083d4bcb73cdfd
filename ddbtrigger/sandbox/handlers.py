"""Local Python handlers: what Lambda's Invoke runs in the sandbox.

A handler is any ``callable(event, context)``. It runs in-process, with a context object shaped like
Lambda's Python runtime's, and its outcome is judged as Lambda judges it: an exception is a
``FunctionError: Unhandled`` with ``{"errorMessage", "errorType", "stackTrace"}``; a return value is the
JSON payload. The Invoke API and the mapping emulator both go through ``run_handler``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Handler = Callable[[Any, Any], Any]


@dataclass
class LambdaContext:
    """The attributes and method of the context Lambda's Python runtime passes to a handler."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: float = 3.0
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    _started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


@dataclass(frozen=True)
class InvokeResult:
    """One invoke's outcome as Lambda reports it: the payload, and ``FunctionError`` if the code failed."""

    payload: bytes
    function_error: str | None
    request_id: str
    status_code: int = 200


class HandlerRegistry:
    """Function name -> handler. Replacing a handler takes effect on the next invoke."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()

    def set(self, function_name: str, handler: Handler) -> None:
        with self._lock:
            self._handlers[function_name] = handler

    def get(self, function_name: str) -> Handler | None:
        with self._lock:
            return self._handlers.get(function_name)

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._handlers)


def _error_payload(exc: BaseException, error_type: str | None = None) -> bytes:
    tb = exc.__traceback__
    frames = traceback.format_tb(tb.tb_next if tb is not None and tb.tb_next is not None else tb)
    return json.dumps(
        {"errorMessage": str(exc), "errorType": error_type or type(exc).__name__, "stackTrace": frames}
    ).encode()


def run_handler(
    handler: Handler, body: bytes | str | None, *, function_name: str, function_arn: str, timeout: float = 3.0
) -> InvokeResult:
    """Call the handler with the decoded event; never raises (errors become ``Unhandled``)."""
    request_id = str(uuid.uuid4())
    raw = body.decode() if isinstance(body, bytes) else (body or "")
    try:
        event = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        event = raw
    context = LambdaContext(function_name, function_arn, request_id, timeout_seconds=timeout)
    try:
        result = handler(event, context)
    except Exception as exc:
        return InvokeResult(_error_payload(exc), "Unhandled", request_id)
    try:
        payload = json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        return InvokeResult(_error_payload(exc, "Runtime.MarshalError"), "Unhandled", request_id)
    return InvokeResult(payload, None, request_id)


def load_handler(reference: str) -> Handler:
    """``module:callable`` or ``path/to/file.py:callable`` -> the callable."""
    target, sep, attribute = reference.rpartition(":")
    if not sep or not target or not attribute:
        raise ValueError(f"handler {reference!r} is not MODULE:CALLABLE or FILE.py:CALLABLE")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise ValueError(f"handler file {target} does not exist")
        spec = importlib.util.spec_from_file_location(f"ddbtrigger_handler_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load {target}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    else:
        import sys

        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as `python -m` would: modules of the working directory
        try:
            module = importlib.import_module(target)
        except ImportError as e:
            raise ValueError(f"cannot import {target}: {e}") from e
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise ValueError(f"{reference}: {attribute} is not a callable in {target}")
    return handler  # type: ignore[no-any-return]

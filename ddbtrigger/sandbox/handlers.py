"""Local Python handlers: what Lambda's Invoke runs in the sandbox.

A handler is any ``callable(event, context)``, called by the one local Lambda runtime
(``ddbtrigger.runtime.local_lambda``, shared with ``redrive --handler``). What the sandbox adds: the
Invoke API and the mapping emulator both go through ``run_handler``, which tells
``invocation_observer`` (the sandbox's invocation log) about each call; a registry of handlers by
function name; and deployment packages.

A handler can be redeployed without restarting anything: a ``--handler`` file (or module) is reloaded
when its source changes (the runtime's ``ReloadingHandler``), and ``UpdateFunctionCode`` with a zip
loads the module its ``Handler`` setting names (``load_zip_handler``).
"""

from __future__ import annotations

import atexit
import io
import json
import shutil
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ddbtrigger.runtime import local_lambda
from ddbtrigger.runtime.local_lambda import (
    Handler,
    HandlerLoadError,
    HandlerReferenceError,
    InvokeResult,
    LambdaContext,
    call_handler,
    error_type_of,
    exec_file,
    resolve_attribute,
)

__all__ = [
    "Handler",
    "HandlerRegistry",
    "Invocation",
    "InvokeResult",
    "load_handler",
    "load_zip_handler",
    "run_handler",
]


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


@dataclass(frozen=True)
class Invocation:
    """What the invocation log records of one call."""

    function_name: str
    function_arn: str
    request_id: str
    batch_size: int | None
    result: InvokeResult
    duration_ms: float
    instance: str
    """Which loaded code ran: it changes when the code is redeployed or reloaded (a new log stream)."""
    error: str | None = None
    """Lambda's ``[ERROR] Type: message`` line and the traceback, when the handler raised."""


invocation_observer: Callable[[Invocation], None] | None = None
"""Told of every ``run_handler`` call; the sandbox sets it (through its patcher) while it runs."""


def _error_log(exc: BaseException) -> str:
    """The Python runtime's log of an unhandled error: ``[ERROR] Type: message`` and the traceback."""
    tb = exc.__traceback__
    user = tb.tb_next if tb is not None and tb.tb_next is not None else tb  # from the handler's frame on
    text = "".join(traceback.format_exception(type(exc), exc, user)).rstrip()
    return f"[ERROR] {error_type_of(exc)}: {exc}\n{text}"


def _batch_size(event: Any) -> int | None:
    records = event.get("Records") if isinstance(event, dict) else None
    return len(records) if isinstance(records, list) else None


def _instance(handler: Handler) -> str:
    generation = getattr(handler, "generation", 0)
    return uuid.uuid5(uuid.NAMESPACE_OID, f"{id(handler)}-{generation}").hex


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
    started = time.monotonic()
    result, exc = call_handler(handler, event, context)
    error = _error_log(exc) if exc is not None else None
    observer = invocation_observer
    if observer is not None:
        duration = (time.monotonic() - started) * 1000
        observer(
            Invocation(
                function_name,
                function_arn,
                request_id,
                _batch_size(event),
                result,
                duration,
                _instance(handler),
                error,
            )
        )
    return result


def load_handler(reference: str) -> Handler:
    """``module:callable`` or ``path/to/file.py:callable`` -> a callable that follows edits of the file.

    The runtime's ``load_handler`` with reload on: a bad reference raises ``HandlerReferenceError``
    (a ``ValueError``) now, at start-up.
    """
    return local_lambda.load_handler(reference, reload=True)


_unpacked: list[str] = []


@atexit.register
def _remove_unpacked() -> None:
    while _unpacked:
        shutil.rmtree(_unpacked.pop(), ignore_errors=True)


def load_zip_handler(function_name: str, archive: bytes, handler_setting: str) -> Handler:
    """The code of a deployment package: the module ``Handler`` names (``app.handler`` -> ``app.py``,
    ``src/app.handler`` or ``src.app.handler`` -> ``src/app.py``) and its function, as Lambda's Python
    runtime finds them. A package without that module still deploys, and every invoke then fails with
    ``Runtime.ImportModuleError``, as on AWS.
    """
    module_path, _, attribute = handler_setting.rpartition(".")
    folder = Path(tempfile.mkdtemp(prefix=f"ddbtrigger-{function_name}-"))
    _unpacked.append(str(folder))
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as package:
            package.extractall(folder)
    except (zipfile.BadZipFile, ValueError) as e:
        return _failing(HandlerLoadError(f"Could not unzip the deployment package: {e}"))
    relative = module_path.replace(".", "/") if "/" not in module_path else module_path
    candidates = [folder / f"{relative}.py", folder / relative / "__init__.py"]
    source = next((c for c in candidates if c.is_file()), None)
    if not module_path or not attribute or source is None:
        message = f"Unable to import module '{module_path}': No module named '{module_path}'"
        return _failing(HandlerLoadError(message))
    name = f"ddbtrigger_zip_{function_name.replace('-', '_')}_{folder.name[-8:]}"
    try:
        module = exec_file(source, name, search=folder)
        return resolve_attribute(module, attribute, module_path)
    except HandlerReferenceError as e:
        cause = e.__cause__
        if isinstance(cause, SyntaxError):
            message = f"Syntax error in module '{module_path}': {cause}"
        elif cause is not None:
            message = f"Unable to import module '{module_path}': {cause}"
        else:
            message = f"Handler '{attribute}' missing on module '{module_path}'"
        return _failing(HandlerLoadError(message, e.lambda_error_type))


def _failing(error: HandlerLoadError) -> Handler:
    def handler(event: Any, context: Any) -> Any:
        raise error

    return handler

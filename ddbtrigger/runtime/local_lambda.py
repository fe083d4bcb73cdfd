"""One local Lambda runtime: load a handler and call it as Lambda's Python runtime would.

Shared by ``redrive --handler`` (so a poison pill can be stepped through under a debugger and judged as
a real invoke would be) and the sandbox (whose Invoke API and mapping emulator run local handlers).

- ``load_handler`` resolves ``module:callable`` or ``path/to/file.py:callable`` (dotted attributes
  allowed); a reference that cannot be loaded is a ``HandlerReferenceError`` (a ``ValueError``) whose
  message says why. Modules are imported as ``python -m`` would: the working directory is on the path.
  ``reload=True`` returns a ``ReloadingHandler`` that follows edits of the file (the sandbox's redeploy).
- ``call_handler`` calls ``handler(event, context)`` and judges the outcome as Lambda does: an exception
  is ``FunctionError: Unhandled`` with ``{"errorMessage", "errorType", "stackTrace"}``; a result that is
  not JSON is ``Runtime.MarshalError``; otherwise the result is the JSON payload.
- ``invoke_local`` is that call for redrive: a JSON event in, core's ``InvokeResponse`` out.
"""

from __future__ import annotations

import decimal
import importlib
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ddbtrigger.core.redrive import InvokeResponse

Handler = Callable[[Any, Any], Any]

REDRIVE_TIMEOUT_SECONDS = 900.0
"""A local redrive handler gets Lambda's longest timeout: nothing stops it early."""


class HandlerReferenceError(ValueError):
    """A handler reference that cannot be loaded; the message says why (no traceback needed).

    ``lambda_error_type`` and ``lambda_message`` are how Lambda's runtime reports the same failure when
    code that loaded before stops loading (a redeploy or an edit).
    """

    def __init__(
        self, message: str, error_type: str = "Runtime.ImportModuleError", lambda_message: str = ""
    ) -> None:
        super().__init__(message)
        self.lambda_error_type = error_type
        self.lambda_message = lambda_message or message


class HandlerLoadError(Exception):
    """Code that stopped loading after it first loaded; Lambda reports this with a ``Runtime.*`` type."""

    def __init__(self, message: str, error_type: str = "Runtime.ImportModuleError") -> None:
        super().__init__(message)
        self.lambda_error_type = error_type


@dataclass
class LambdaContext:
    """The attributes and method of the context Lambda's Python runtime passes to a handler."""

    function_name: str
    invoked_function_arn: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: float = 3.0
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    log_group_name: str = ""
    log_stream_name: str = ""
    _started: float = field(default_factory=time.monotonic, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{self.aws_request_id.replace('-', '')}"
        self.log_stream_name = self.log_stream_name or stream

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


# -- calling -----------------------------------------------------------------------------------------
def call_handler(
    handler: Handler, event: Any, context: LambdaContext
) -> tuple[InvokeResult, BaseException | None]:
    """Call the handler; never raises. Returns the result and, when the code failed, its exception."""
    request_id = context.aws_request_id
    try:
        result = handler(event, context)
    except Exception as exc:
        return InvokeResult(error_payload(exc), "Unhandled", request_id), exc
    try:
        payload = json.dumps(result, default=_lambda_json).encode()
    except (TypeError, ValueError) as exc:
        marshal = error_payload(exc, "Runtime.MarshalError", message=f"Unable to marshal response: {exc}")
        return InvokeResult(marshal, "Unhandled", request_id), exc
    return InvokeResult(payload, None, request_id), None


def _lambda_json(value: Any) -> Any:
    """What Lambda's Python runtime adds to ``json.dumps``: ``Decimal`` (as boto3's DynamoDB returns it)."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def invoke_local(
    handler: Handler,
    event: Mapping[str, Any],
    *,
    function_name: str = "local-handler",
    function_arn: str = "",
) -> InvokeResponse:
    """Call ``handler`` with ``event`` as a synchronous Lambda invoke would, answering core's response.

    The event goes through JSON first, so the handler sees exactly what Lambda would send (no tuples,
    no datetimes).
    """
    from ddbtrigger.core.redrive import InvokeResponse

    wire_event = json.loads(json.dumps(event))
    arn = function_arn or f"arn:aws:lambda:local:000000000000:function:{function_name}"
    context = LambdaContext(function_name, arn, timeout_seconds=REDRIVE_TIMEOUT_SECONDS)
    result, _ = call_handler(handler, wire_event, context)
    return InvokeResponse(result.status_code, result.function_error, result.payload)


def error_payload(exc: BaseException, error_type: str | None = None, *, message: str | None = None) -> bytes:
    """Lambda's error document; the stack trace starts at the handler's frame, not the runtime's."""
    tb = exc.__traceback__
    frames = traceback.format_tb(tb.tb_next if tb is not None and tb.tb_next is not None else tb)
    text = str(exc) if message is None else message
    return json.dumps(
        {"errorMessage": text, "errorType": error_type or error_type_of(exc), "stackTrace": frames}
    ).encode()


def error_type_of(exc: BaseException) -> str:
    """``Runtime.*`` for code that stopped loading, else the exception's class name."""
    return getattr(exc, "lambda_error_type", None) or type(exc).__name__


# -- loading -----------------------------------------------------------------------------------------
def load_handler(reference: str, *, reload: bool = False) -> Handler:
    """``module:callable`` or ``path/to/file.py:callable`` -> the callable (``reload``: one that follows
    edits of its file). Raises ``HandlerReferenceError`` when the reference cannot be loaded."""
    target, sep, attribute = reference.rpartition(":")
    if not sep or not target or not attribute:
        raise HandlerReferenceError(f"{reference!r} is not MODULE:CALLABLE or FILE.py:CALLABLE")
    reloading = ReloadingHandler(reference, target, attribute)
    return reloading if reload else reloading.current()


def is_file_reference(target: str) -> bool:
    """A target naming a file (``.py`` or a path) rather than an importable module."""
    return target.endswith(".py") or os.sep in target or "/" in target


class ReloadingHandler:
    """A handler reference, reloaded on the next call after its source file changes.

    The change is seen by the file's mtime and size. Code that no longer loads (a syntax error mid-edit)
    fails each invoke as Lambda's runtime would (``Runtime.UserCodeSyntaxError`` / ``ImportModuleError``)
    until the file is fixed. ``generation`` counts the loads, so the log can start a new stream.
    """

    def __init__(self, reference: str, target: str, attribute: str) -> None:
        self.reference, self.target, self.attribute = reference, target, attribute
        self.generation = 0
        self._module: Any = None
        self._handler: Handler | None = None
        self._source: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self.current()  # a bad reference fails now, at start-up, with HandlerReferenceError

    def __call__(self, event: Any, context: Any) -> Any:
        return self.current()(event, context)

    def current(self) -> Handler:
        with self._lock:
            source = self._stat()
            if self._handler is None or source != self._source:
                self._handler = self._load()  # a module's file is known once it is imported:
                self._source = source if source is not None else self._stat()
                self.generation += 1
            return self._handler

    def _path(self) -> Path | None:
        if is_file_reference(self.target):
            return Path(self.target)
        origin = getattr(self._module, "__file__", None)
        return Path(origin) if origin else None

    def _stat(self) -> tuple[int, int] | None:
        path = self._path()
        try:
            info = path.stat() if path is not None else None
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size) if info is not None else None

    def _load(self) -> Handler:
        first = self._handler is None
        try:
            self._module = self._import()
            return resolve_attribute(self._module, self.attribute, self.target)
        except HandlerReferenceError as e:
            if first:
                raise
            raise HandlerLoadError(e.lambda_message, e.lambda_error_type) from None

    def _import(self) -> Any:
        if is_file_reference(self.target):
            return exec_file(Path(self.target), f"ddbtrigger_handler_{Path(self.target).stem}")
        if self._module is not None:
            return _guarded(self.target, lambda: importlib.reload(self._module))
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as `python -m` would: modules of the working directory
        return _guarded(self.target, lambda: importlib.import_module(self.target))


def resolve_attribute(module: Any, attribute: str, target: str) -> Handler:
    """``module.a.b``: the callable a reference's attribute part names."""
    handler = module
    for part in attribute.split("."):
        handler = getattr(handler, part, None)
        if handler is None:
            raise HandlerReferenceError(f"{target} has no attribute {attribute!r}", "Runtime.HandlerNotFound")
    if not callable(handler):
        raise HandlerReferenceError(f"{attribute} is not callable in {target}", "Runtime.HandlerNotFound")
    return handler  # type: ignore[no-any-return]


def exec_file(path: Path, name: str, *, search: Path | None = None) -> Any:
    """Execute a Python file as a fresh module named ``name`` (``search``: a folder its own imports may
    come from). Registered in ``sys.modules``, as an import would, so dataclasses and pickling work."""
    if not path.is_file():
        raise HandlerReferenceError(f"no such file {path}")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise HandlerReferenceError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader = spec.loader
    with _on_path(search):
        _guarded(str(path), lambda: loader.exec_module(module))
    return module


def _guarded(target: str, load: Callable[[], Any]) -> Any:
    """Run ``load``; code that fails to load becomes a ``HandlerReferenceError`` naming the cause."""
    try:
        return load()
    except SyntaxError as e:
        message, lambda_message = (
            f"cannot load {target}: SyntaxError: {e}",
            f"Syntax error in module '{target}': {e}",
        )
        raise HandlerReferenceError(message, "Runtime.UserCodeSyntaxError", lambda_message) from e
    except ImportError as e:
        raise HandlerReferenceError(
            f"cannot import {target}: {e}", lambda_message=f"Unable to import module '{target}': {e}"
        ) from e
    except Exception as e:
        message, lambda_message = (
            f"cannot load {target}: {type(e).__name__}: {e}",
            f"Unable to import module '{target}': {e}",
        )
        raise HandlerReferenceError(message, lambda_message=lambda_message) from e


@contextmanager
def _on_path(folder: Path | None) -> Iterator[None]:
    if folder is None:
        yield
        return
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))

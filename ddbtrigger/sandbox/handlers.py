"""Local Python handlers: what Lambda's Invoke runs in the sandbox.

A handler is any ``callable(event, context)``. It runs in-process, with a context object shaped like
Lambda's Python runtime's, and its outcome is judged as Lambda judges it: an exception is a
``FunctionError: Unhandled`` with ``{"errorMessage", "errorType", "stackTrace"}``; a return value is the
JSON payload. The Invoke API and the mapping emulator both go through ``run_handler``, which tells
``invocation_observer`` (the sandbox's invocation log) about each call.

A handler can be redeployed without restarting anything: a ``--handler`` file (or module) is reloaded
when its source changes (``ReloadingHandler``), and ``UpdateFunctionCode`` with a zip loads the module
its ``Handler`` setting names (``load_zip_handler``).
"""

from __future__ import annotations

import atexit
import importlib
import importlib.util
import io
import json
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class HandlerLoadError(Exception):
    """The handler's code cannot be loaded; Lambda reports this with a ``Runtime.*`` error type."""

    def __init__(self, message: str, error_type: str = "Runtime.ImportModuleError") -> None:
        super().__init__(message)
        self.lambda_error_type = error_type


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


def _error_payload(exc: BaseException, error_type: str | None = None) -> bytes:
    tb = exc.__traceback__
    frames = traceback.format_tb(tb.tb_next if tb is not None and tb.tb_next is not None else tb)
    return json.dumps(
        {"errorMessage": str(exc), "errorType": error_type or _error_type(exc), "stackTrace": frames}
    ).encode()


def _error_type(exc: BaseException) -> str:
    return getattr(exc, "lambda_error_type", None) or type(exc).__name__


def _error_log(exc: BaseException) -> str:
    """The Python runtime's log of an unhandled error: ``[ERROR] Type: message`` and the traceback."""
    tb = exc.__traceback__
    user = tb.tb_next if tb is not None and tb.tb_next is not None else tb  # from the handler's frame on
    text = "".join(traceback.format_exception(type(exc), exc, user)).rstrip()
    return f"[ERROR] {_error_type(exc)}: {exc}\n{text}"


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
    started, error = time.monotonic(), None
    try:
        result = _call(handler, event, context, request_id)
    except _Raised as raised:
        result, error = raised.result, _error_log(raised.exc)
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


class _Raised(Exception):
    def __init__(self, exc: BaseException, result: InvokeResult) -> None:
        self.exc, self.result = exc, result


def _call(handler: Handler, event: Any, context: LambdaContext, request_id: str) -> InvokeResult:
    try:
        result = handler(event, context)
    except Exception as exc:
        raise _Raised(exc, InvokeResult(_error_payload(exc), "Unhandled", request_id)) from None
    try:
        payload = json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        error = InvokeResult(_error_payload(exc, "Runtime.MarshalError"), "Unhandled", request_id)
        raise _Raised(exc, error) from None
    return InvokeResult(payload, None, request_id)


# -- loading ---------------------------------------------------------------------------------------
class ReloadingHandler:
    """A ``--handler`` reference, reloaded on the next call after its source file changes.

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
        self.current()  # a bad reference fails now, at start-up, with ValueError

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
        if self.target.endswith(".py"):
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
        except ValueError as e:
            if first:
                raise
            raise HandlerLoadError(str(e)) from None
        except SyntaxError as e:
            if first:
                raise ValueError(f"cannot load {self.target}: {e}") from e
            raise HandlerLoadError(
                f"Syntax error in module '{self.target}': {e}", "Runtime.UserCodeSyntaxError"
            ) from None
        handler = getattr(self._module, self.attribute, None)
        if not callable(handler):
            message = f"{self.reference}: {self.attribute} is not a callable in {self.target}"
            if first:
                raise ValueError(message)
            raise HandlerLoadError(message, "Runtime.HandlerNotFound")
        return handler  # type: ignore[no-any-return]

    def _import(self) -> Any:
        if self.target.endswith(".py"):
            return _exec_file(Path(self.target), f"ddbtrigger_handler_{Path(self.target).stem}")
        if self._module is not None:
            return importlib.reload(self._module)
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as `python -m` would: modules of the working directory
        try:
            return importlib.import_module(self.target)
        except ImportError as e:
            raise ValueError(f"cannot import {self.target}: {e}") from e


def _exec_file(path: Path, name: str, *, search: Path | None = None) -> Any:
    """Execute a Python file as a fresh module (``search``: a folder its own imports may come from)."""
    if not path.is_file():
        raise ValueError(f"handler file {path} does not exist")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ValueError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    with _on_path(search):
        spec.loader.exec_module(module)
    return module


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


def load_handler(reference: str) -> Handler:
    """``module:callable`` or ``path/to/file.py:callable`` -> a callable that follows edits of the file."""
    target, sep, attribute = reference.rpartition(":")
    if not sep or not target or not attribute:
        raise ValueError(f"handler {reference!r} is not MODULE:CALLABLE or FILE.py:CALLABLE")
    return ReloadingHandler(reference, target, attribute)


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
        module = _exec_file(source, name, search=folder)
    except SyntaxError as e:
        return _failing(
            HandlerLoadError(f"Syntax error in module '{module_path}': {e}", "Runtime.UserCodeSyntaxError")
        )
    except Exception as e:
        return _failing(HandlerLoadError(f"Unable to import module '{module_path}': {e}"))
    handler = getattr(module, attribute, None)
    if not callable(handler):
        message = f"Handler '{attribute}' missing on module '{module_path}'"
        return _failing(HandlerLoadError(message, "Runtime.HandlerNotFound"))
    return handler  # type: ignore[no-any-return]


def _failing(error: HandlerLoadError) -> Handler:
    def handler(event: Any, context: Any) -> Any:
        raise error

    return handler

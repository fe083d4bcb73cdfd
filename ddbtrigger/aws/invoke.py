"""Deliver an event: a synchronous Lambda Invoke, or a local Python handler.

Both answer an ``InvokeResponse`` (status, ``FunctionError``, payload) so ``core.redrive.judge`` decides
the same way whichever was called. Lambda reports a function that raised with ``StatusCode: 200`` and
``FunctionError: Unhandled``; the local path reproduces exactly that, so ``--handler`` can be used to
step through a poison pill under a debugger with the same verdict a real invoke would get.

A synchronous invoke can run as long as the function's timeout (up to 15 minutes): the invoke client
gets a read timeout longer than that, so botocore never gives up on (and retries) an invoke that is
still running, which would deliver the records twice.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.core.redrive import InvokeResponse
from ddbtrigger.errors import UsageError

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory

INVOKE_READ_TIMEOUT = 15 * 60 + 30
"""Longer than Lambda's longest function timeout (900 s)."""

Handler = Callable[[dict[str, Any], Any], Any]


def invoke_factory(factory: ClientFactory) -> ClientFactory:
    """A factory whose Lambda client waits out the longest function (same session and endpoint)."""
    from ddbtrigger.aws.clients import ClientFactory

    target = replace(factory.target, read_timeout=max(factory.target.read_timeout, INVOKE_READ_TIMEOUT))
    invoker = ClientFactory(target, session=factory.session)
    invoker.client("lambda")  # build it now, in this thread: sessions are not thread-safe
    return invoker


def invoke_function(factory: ClientFactory, function: str, event: Mapping[str, Any]) -> InvokeResponse:
    """Invoke ``function`` (name, name:alias or ARN) with ``event``, RequestResponse, and read the answer."""
    payload = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    with translate_errors(f"invoke function {function}"):
        response = factory.client("lambda").invoke(
            FunctionName=function, InvocationType="RequestResponse", Payload=payload
        )
        body = response["Payload"].read() if response.get("Payload") is not None else b""
    return InvokeResponse(
        status_code=int(response.get("StatusCode", 0)),
        function_error=response.get("FunctionError") or None,
        payload=body,
    )


@dataclass
class LocalContext:
    """The parts of Lambda's context object a handler commonly reads."""

    function_name: str
    invoked_function_arn: str
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 128
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = ""
    timeout_seconds: float = 900.0
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.log_group_name = self.log_group_name or f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def invoke_local(
    handler: Handler,
    event: Mapping[str, Any],
    *,
    function_name: str = "local-handler",
    function_arn: str = "",
) -> InvokeResponse:
    """Call ``handler(event, context)`` the way the Lambda runtime would.

    The event goes through JSON first, so the handler sees exactly what Lambda would send (no tuples,
    no datetimes). An exception becomes ``FunctionError: Unhandled`` with Lambda's error payload.
    """
    wire_event = json.loads(json.dumps(event))
    arn = function_arn or f"arn:aws:lambda:local:000000000000:function:{function_name}"
    context = LocalContext(function_name=function_name, invoked_function_arn=arn)
    try:
        result = handler(wire_event, context)
    except Exception as e:
        error = {
            "errorMessage": str(e),
            "errorType": type(e).__name__,
            "stackTrace": traceback.format_tb(e.__traceback__),
        }
        return InvokeResponse(200, "Unhandled", json.dumps(error).encode("utf-8"))
    try:
        body = json.dumps(result, default=str).encode("utf-8")
    except (TypeError, ValueError) as e:
        error = {"errorMessage": f"Unable to marshal response: {e}", "errorType": "Runtime.MarshalError"}
        return InvokeResponse(200, "Unhandled", json.dumps(error).encode("utf-8"))
    return InvokeResponse(200, None, body)


def load_handler(reference: str) -> Handler:
    """Load ``module:callable`` or ``path/to/file.py:callable``; a clear usage error when it cannot."""
    target, sep, attr = reference.rpartition(":")
    if not sep or not target or not attr:
        raise UsageError(f"--handler {reference!r}: expected module:callable or path.py:callable")
    module = _load_module(target, reference)
    handler = module
    for part in attr.split("."):
        handler = getattr(handler, part, None)
        if handler is None:
            raise UsageError(f"--handler {reference!r}: {target} has no attribute {attr!r}")
    if not callable(handler):
        raise UsageError(f"--handler {reference!r}: {attr} is not callable")
    return handler  # type: ignore[no-any-return]


def _load_module(target: str, reference: str) -> Any:
    if target.endswith(".py") or os.sep in target or "/" in target:
        path = Path(target)
        if not path.is_file():
            raise UsageError(f"--handler {reference!r}: no such file {target}")
        spec = importlib.util.spec_from_file_location(f"ddbtrigger_handler_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise UsageError(f"--handler {reference!r}: cannot load {target}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as e:
            raise UsageError(
                f"--handler {reference!r}: cannot load {target}: {type(e).__name__}: {e}"
            ) from None
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` would: modules next to the user's spec
    try:
        return importlib.import_module(target)
    except ImportError as e:
        raise UsageError(f"--handler {reference!r}: cannot import {target}: {e}") from None

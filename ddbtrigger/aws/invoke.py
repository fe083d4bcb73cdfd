"""Deliver an event with a synchronous Lambda Invoke.

It answers an ``InvokeResponse`` (status, ``FunctionError``, payload), as the local runtime
(``ddbtrigger.runtime.local_lambda.invoke_local``, behind ``--handler``) does, so ``core.redrive.judge``
decides the same way whichever was called.

A synchronous invoke can run as long as the function's timeout (up to 15 minutes): the invoke client
gets a read timeout longer than that, so botocore never gives up on (and retries) an invoke that is
still running, which would deliver the records twice.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.core.redrive import InvokeResponse

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory

INVOKE_READ_TIMEOUT = 15 * 60 + 30
"""Longer than Lambda's longest function timeout (900 s)."""


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

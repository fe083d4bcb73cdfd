"""The sandbox's invocation log: each invoke on its console and in CloudWatch Logs, as Lambda writes it.

Every call of a handler (from the Invoke API or a mapping) is one line on the ``ddbtrigger.sandbox.
invocations`` logger (the ``sandbox`` command shows it on stderr): the function, the batch size and the
result, then the traceback when the handler raised. The same goes to moto's CloudWatch Logs backend, in
the log group ``/aws/lambda/<function>`` and a stream per day and loaded code like Lambda's
``YYYY/MM/DD/[$LATEST]<instance id>`` (a redeploy starts a new stream, as a new execution environment
does), between Lambda's ``START``/``END``/``REPORT`` lines, so ``aws logs tail /aws/lambda/<function>``
and ``FilterLogEvents`` read it back. What a handler prints is not captured (it runs in-process).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import IO, Any

from ddbtrigger.sandbox import handlers
from ddbtrigger.sandbox.handlers import Invocation
from ddbtrigger.sandbox.patching import Patcher

log = logging.getLogger("ddbtrigger.sandbox.invocations")


def outcome(invocation: Invocation) -> str:
    """The result in a few words: ``OK``, ``2 batchItemFailures``, or ``Unhandled: Type: message``."""
    result = invocation.result
    try:
        payload: Any = json.loads(result.payload or b"null")
    except (ValueError, UnicodeDecodeError):
        payload = None
    if result.function_error:
        error = payload if isinstance(payload, dict) else {}
        return f"{result.function_error}: {error.get('errorType', '?')}: {error.get('errorMessage', '')}"
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if isinstance(failures, list) and failures:
        return f"{len(failures)} batchItemFailures"
    return "OK"


def summary(invocation: Invocation) -> str:
    size = "no Records" if invocation.batch_size is None else f"{invocation.batch_size} record(s)"
    return f"{invocation.function_name}: {size} -> {outcome(invocation)} ({invocation.duration_ms:.0f} ms)"


def log_stream_name(invocation: Invocation, now: float) -> str:
    return f"{datetime.fromtimestamp(now, UTC):%Y/%m/%d}/[$LATEST]{invocation.instance}"


def lambda_lines(invocation: Invocation) -> list[str]:
    """What Lambda writes around one invoke, with the sandbox's summary (and the error) inside."""
    request = invocation.request_id
    duration = invocation.duration_ms
    lines = [f"START RequestId: {request} Version: $LATEST", f"ddbtrigger sandbox: {summary(invocation)}"]
    if invocation.error:
        lines.append(invocation.error)
    lines.append(f"END RequestId: {request}")
    lines.append(
        f"REPORT RequestId: {request}\tDuration: {duration:.2f} ms\t"
        f"Billed Duration: {max(1, math.ceil(duration))} ms\tMemory Size: 128 MB\tMax Memory Used: 0 MB"
    )
    return lines


class InvocationLog:
    """The observer the sandbox gives ``run_handler``: console line plus CloudWatch Logs events."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._lock = threading.Lock()

    def __call__(self, invocation: Invocation) -> None:
        log.info(summary(invocation))
        if invocation.error:
            log.error(invocation.error)
        try:
            self.write(invocation)
        except Exception:  # the log never fails an invoke
            log.debug("could not write the invocation to CloudWatch Logs", exc_info=True)

    def write(self, invocation: Invocation) -> None:
        from moto.logs.models import logs_backends

        parts = invocation.function_arn.split(":")
        backend = logs_backends[parts[4]][parts[3]]
        group = f"/aws/lambda/{invocation.function_name}"
        now = self.clock()
        stream = log_stream_name(invocation, now)
        stamp = int(now * 1000)
        events = [{"timestamp": stamp, "message": line} for line in lambda_lines(invocation)]
        with self._lock:  # moto's logs backend is not thread-safe; pollers run in parallel
            if group not in backend.groups:
                backend.create_log_group(group, {})
            if stream not in backend.groups[group].streams:
                backend.create_log_stream(group, stream)
            backend.put_log_events(group, stream, events)


def show_on_console(stream: IO[str]) -> None:
    """Print each invocation line (and tracebacks) on ``stream``: the ``sandbox`` command's stderr."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def install_invocation_log(patcher: Patcher) -> None:
    """Log every invoke while the sandbox runs."""
    patcher.set(handlers, "invocation_observer", InvocationLog())

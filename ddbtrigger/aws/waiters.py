"""Waiting and retrying with a deadline, with ``sleep`` and ``clock`` injected (tests pass fakes).

No botocore waiter exists for event source mappings, and Create/Update/Delete act asynchronously: poll
with exponential backoff until the resource settles, and retry the errors AWS raises while it is still
busy (``ResourceInUseException``, ``ResourceConflictException``) or while a new role propagates through
IAM (``InvalidParameterValueException`` saying the role cannot be assumed / lacks permissions).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ddbtrigger.aws.errors import error_code, error_message
from ddbtrigger.errors import WaitTimeout

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]

BUSY_CODES = frozenset({"ResourceInUseException", "ResourceConflictException"})
IAM_PROPAGATION = re.compile(r"cannot be assumed|does not have permissions|execution role", re.IGNORECASE)
IAM_RETRY_SECONDS = 90.0


@dataclass
class Deadline:
    """A point in time after which waits give up (``--timeout``)."""

    seconds: float
    clock: Clock = time.monotonic
    start: float = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def remaining(self) -> float:
        return self.seconds - (self.clock() - self.start)

    def expired(self) -> bool:
        return self.remaining() <= 0

    def elapsed(self) -> float:
        return self.clock() - self.start


@dataclass
class Backoff:
    """Exponential delays 0.5, 1, 2, ... capped, never sleeping past the deadline."""

    sleep: Sleep = time.sleep
    first: float = 0.5
    cap: float = 10.0
    _next: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self._next = self.first

    def wait(self, deadline: Deadline) -> None:
        delay = max(0.0, min(self._next, deadline.remaining()))
        self._next = min(self._next * 2, self.cap)
        self.sleep(delay)


def is_retryable(
    exc: BaseException, *, iam_window_open: bool = True, busy: frozenset[str] = BUSY_CODES
) -> bool:
    """Busy-resource errors always; IAM-propagation errors while the IAM window is open."""
    code = error_code(exc)
    if code in busy:
        return True
    return (
        code == "InvalidParameterValueException"
        and iam_window_open
        and bool(IAM_PROPAGATION.search(error_message(exc)))
    )


def retry_busy(
    call: Callable[[], T], *, deadline: Deadline, sleep: Sleep, busy: frozenset[str] = BUSY_CODES
) -> T:
    """Run ``call``, retrying busy/IAM-propagation errors with backoff until the deadline.

    ``busy`` narrows which codes mean "wait and retry" (a create that conflicts outside a replace is
    another writer's mapping, not a busy one: it must fail, not wait).
    """
    backoff = Backoff(sleep)
    while True:
        try:
            return call()
        except Exception as e:
            iam_open = deadline.elapsed() < IAM_RETRY_SECONDS
            if not is_retryable(e, iam_window_open=iam_open, busy=busy) or deadline.expired():
                raise
        backoff.wait(deadline)


def poll(
    check: Callable[[], T | None], *, deadline: Deadline, sleep: Sleep, timeout_message: Callable[[], str]
) -> T:
    """Call ``check`` until it returns a value; ``WaitTimeout(timeout_message())`` at the deadline."""
    backoff = Backoff(sleep)
    while True:
        value = check()
        if value is not None:
            return value
        if deadline.expired():
            raise WaitTimeout(timeout_message())
        backoff.wait(deadline)

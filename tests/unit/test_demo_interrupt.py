"""The demo's Ctrl-C cannot be lost: a ``KeyboardInterrupt`` that Python drops (its handler ran inside a
finalizer: "Exception ignored in: <finalize object ...>", seen in CI) is raised again at the demo's next
step or wait."""

from __future__ import annotations

import contextlib
import signal

import pytest

from ddbtrigger.sandbox.demo import StickyInterrupt


def test_a_swallowed_ctrl_c_is_raised_again_at_the_next_check() -> None:
    before = signal.getsignal(signal.SIGINT)
    with StickyInterrupt() as sticky:
        sticky.check()  # nothing yet
        # What CPython does when the handler ran inside a weakref callback or __del__: dropped.
        with contextlib.suppress(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
        with pytest.raises(KeyboardInterrupt):
            sticky.check()
    assert signal.getsignal(signal.SIGINT) is before, "the previous handler is restored"


def test_outside_the_main_thread_it_installs_nothing() -> None:
    import threading

    before = signal.getsignal(signal.SIGINT)
    seen: list[object] = []

    def run() -> None:
        with StickyInterrupt() as sticky:
            seen.append(signal.getsignal(signal.SIGINT))
            sticky.check()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=10)
    assert seen == [before]


def test_a_dropped_ctrl_c_prints_no_traceback_and_is_raised_again() -> None:
    """CPython hands an exception raised in a finalizer to ``sys.unraisablehook`` (which prints
    "Exception ignored in ... Traceback"); for Ctrl-C the demo records it instead."""
    import sys
    import types

    before = sys.unraisablehook
    with StickyInterrupt() as sticky:
        dropped = types.SimpleNamespace(exc_value=KeyboardInterrupt(), exc_type=KeyboardInterrupt)
        sys.unraisablehook(dropped)  # type: ignore[arg-type]
        assert sticky.seen
        with pytest.raises(KeyboardInterrupt):
            sticky.check()
    assert sys.unraisablehook is before, "the previous hook is restored"

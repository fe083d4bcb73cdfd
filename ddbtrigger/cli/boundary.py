"""The one error boundary: every command runs inside it.

A ``DdbtError`` becomes one human line on stderr (plus, with ``--output json``, one JSON error document
on stdout) and its exit code. Anything unexpected becomes one line and "rerun with --debug"; with
``--debug`` (or ``DDBTRIGGER_DEBUG=1``) the traceback and botocore's log are shown instead.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer

from ddbtrigger.cli.render import Output, OutputFormat
from ddbtrigger.errors import EXIT_FAILED, DdbtError

P = ParamSpec("P")
R = TypeVar("R")

_state = {"debug": bool(os.environ.get("DDBTRIGGER_DEBUG"))}


def set_debug(enabled: bool) -> None:
    """Turn on tracebacks and botocore's log, with credentials and payloads redacted from it."""
    _state["debug"] = _state["debug"] or enabled
    if _state["debug"]:
        import logging

        from ddbtrigger.cli.redact import RedactingFilter

        logging.basicConfig(level=logging.DEBUG)
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())
        logging.getLogger("botocore").setLevel(logging.DEBUG)


def debug_enabled() -> bool:
    return _state["debug"]


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a typer command: map our errors to messages and exit codes, once, for every command."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        output = Output(format=_output_format(kwargs.get("output")))
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except DdbtError as e:
            _report(output, e.code, e.message, e.details)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            output.error_line("interrupted")
            raise typer.Exit(130) from None
        except Exception as e:
            if debug_enabled():
                raise
            text = " ".join(str(e).split())
            message = f"unexpected {type(e).__name__}: {text} (rerun with --debug for the traceback)"
            _report(output, "internal", message, [])
            raise typer.Exit(EXIT_FAILED) from None

    return wrapper


def _output_format(value: object) -> OutputFormat:
    """The command's ``--output`` value, defaulting to table when it has none (or an odd one)."""
    try:
        return OutputFormat(str(value)) if value is not None else OutputFormat.table
    except ValueError:
        return OutputFormat.table


def _report(output: Output, code: str, message: str, details: list[str]) -> None:
    output.error_line(message, details)
    if output.json:
        output.error_document(code, message, details)

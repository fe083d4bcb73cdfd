"""The one error boundary: every command runs inside it.

A ``DdbtError`` becomes one human line on stderr (plus, with ``--output json``, one JSON error document
on stdout) and its exit code. Anything unexpected becomes one line and "rerun with --debug"; with
``--debug`` (or ``DDBTRIGGER_DEBUG=1``) the traceback and botocore's log are shown instead, and
``kill -USR1 PID`` prints every thread's stack to stderr without stopping the run (what a run that
seems stuck is waiting on).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import typer

from ddbtrigger.cli.render import Output, OutputFormat
from ddbtrigger.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, DdbtError

R = TypeVar("R")

_state = {"debug": bool(os.environ.get("DDBTRIGGER_DEBUG"))}


def set_debug(enabled: bool) -> None:
    """Turn on tracebacks and botocore's log (credentials and payloads redacted from it), and the stack
    dump on SIGUSR1."""
    _state["debug"] = _state["debug"] or enabled
    if _state["debug"]:
        import logging

        from ddbtrigger.cli.redact import RedactingFilter

        logging.basicConfig(level=logging.DEBUG)
        for handler in logging.getLogger().handlers:
            handler.addFilter(RedactingFilter())
        logging.getLogger("botocore").setLevel(logging.DEBUG)
        _dump_stacks_on_sigusr1()


def _dump_stacks_on_sigusr1() -> None:
    """``kill -USR1 PID`` dumps every thread's stack to stderr and the run goes on: for an on-call
    engineer (or a benchmark) asking what a quiet run waits on. POSIX only; a no-op elsewhere."""
    import contextlib
    import faulthandler
    import signal

    if not hasattr(signal, "SIGUSR1"):
        return
    with contextlib.suppress(AttributeError, OSError, ValueError):  # stderr is no file (a test runner's)
        faulthandler.register(signal.SIGUSR1, all_threads=True)


def debug_enabled() -> bool:
    return _state["debug"]


def command(fn: Callable[..., R]) -> Callable[..., R]:
    """Wrap a typer command: hand it the shared option groups it asks for (``cli.options``: its
    ``Output``, a lazily opened ``Workspace``...), and map our errors to messages and exit codes, once,
    for every command."""
    from ddbtrigger.cli.options import expand

    expanded = expand(fn)

    @functools.wraps(fn)
    def wrapper(**kwargs: Any) -> R:
        output = Output(format=_output_format(kwargs.get("output")))
        try:
            return expanded.call(fn, kwargs, given={Output: output})  # type: ignore[no-any-return]
        except (typer.Exit, typer.Abort):
            raise
        except DdbtError as e:
            _report(output, e.code, e.message, e.details)
            raise typer.Exit(e.exit_code) from None
        except KeyboardInterrupt:
            output.error_line("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as e:
            if debug_enabled():
                raise
            text = " ".join(str(e).split())
            message = f"unexpected {type(e).__name__}: {text} (rerun with --debug for the traceback)"
            _report(output, "internal", message, [])
            raise typer.Exit(EXIT_FAILED) from None

    wrapper.__signature__ = expanded.signature  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in expanded.signature.parameters.values()}
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


def _click_errors() -> Any:
    """The click exception module typer uses (typer >= 0.17 vendors click as ``typer._click``)."""
    try:
        from typer._click import exceptions
    except ImportError:  # an older typer on the real click
        from click import exceptions  # type: ignore[no-redef]
    return exceptions


def json_requested(args: Sequence[str]) -> bool:
    """``--output json`` (any spelling click accepts) among raw arguments, for errors raised before
    the command's own ``--output`` was parsed."""
    for i, arg in enumerate(args):
        if arg in ("-o", "--output") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--output="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-o") and not arg.startswith("--"):
            value = arg[2:].lstrip("=")
        else:
            continue
        if value.lower() == "json":
            return True
    return False


def run_app(app: Any, args: Sequence[str], *, prog_name: str = "ddbtrigger") -> int:
    """Run the typer app, handling once what happens outside any command: click's usage errors (one
    ``error:`` line, and the JSON error document under ``-o json``, exit 2) and Ctrl-C at a prompt
    (one line, exit 130). Returns the exit code."""
    errors = _click_errors()
    try:
        result = app(list(args), prog_name=prog_name, standalone_mode=False)
    except errors.NoArgsIsHelpError as e:
        e.show()
        return int(e.exit_code)
    except errors.UsageError as e:
        output = Output(format=OutputFormat.json if json_requested(args) else OutputFormat.table)
        where = e.ctx.command_path if e.ctx is not None else prog_name
        _report(output, "usage", f"{e.format_message()} (see '{where} --help')", [])
        return EXIT_USAGE
    except errors.ClickException as e:
        e.show()
        return int(e.exit_code)
    except (typer.Abort, KeyboardInterrupt) as e:
        output = Output()
        if isinstance(e, typer.Abort):  # at a prompt: end its line first
            output.err.print()
        if isinstance(e.__cause__, EOFError):
            output.error_line("no answer (end of input); nothing was changed")
            return EXIT_USAGE
        output.error_line("interrupted")
        return EXIT_INTERRUPTED
    except typer.Exit as e:
        return int(e.exit_code)
    return result if isinstance(result, int) else 0

"""``sandbox`` (a local AWS where triggers really run) and ``demo`` (a guided tour against it)."""

from __future__ import annotations

import sys
import threading
from typing import Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.errors import UsageError

INSTALL_HINT = "the sandbox needs moto: pip install 'ddbtrigger[local]'"


def register(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)
    app.command("demo")(demo)


def _require_moto() -> None:
    try:
        import moto.server  # noqa: F401
    except ImportError as e:
        raise UsageError(INSTALL_HINT) from e


def _parse_handlers(values: list[str]) -> dict[str, Any]:
    from ddbtrigger.sandbox.handlers import load_handler

    handlers: dict[str, Any] = {}
    for value in values:
        function, sep, reference = value.partition("=")
        if not sep or not function or not reference:
            raise UsageError(
                f"--handler {value!r}: expected FUNCTION=module:callable or FUNCTION=file.py:callable"
            )
        try:
            handlers[function] = load_handler(reference)
        except ValueError as e:
            raise UsageError(f"--handler {value!r}: {e}") from e
    return handlers


def _wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM (also when started in the background, where SIGINT is ignored)."""
    import signal

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


@command
def sandbox(
    port: Annotated[
        int, typer.Option("--port", help="Port on 127.0.0.1 (0 picks a free one).", min=0)
    ] = 4566,
    handler: Annotated[
        list[str] | None,
        typer.Option(
            "--handler",
            help="FUNCTION=module:callable or FUNCTION=path.py:callable: the local Python code Invoke runs "
            "(repeatable). A missing function is created.",
        ),
    ] = None,
    retention_seconds: Annotated[
        float, typer.Option("--retention-seconds", help="Stream records older than this are trimmed.", min=1)
    ] = 86400,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", help="Seconds between the mapping pollers' reads.", min=0.01)
    ] = 0.25,
    latency_ms: Annotated[
        float, typer.Option("--latency-ms", help="Delay every request by this much (benchmarks).", min=0)
    ] = 0,
    state_seconds: Annotated[
        float,
        typer.Option(
            "--state-seconds",
            help="How long a mapping stays in a transitional state (Creating, Enabling, Disabling, "
            "Updating, Deleting) before it settles, as on AWS (0 settles at once).",
            min=0,
        ),
    ] = 2.0,
) -> None:
    """Serve a local AWS (DynamoDB, Streams, Lambda, SQS, SNS, S3, IAM, CloudWatch) on 127.0.0.1
    until Ctrl-C.

    It runs the event source mappings itself, as Lambda does (batching, filters, retries, bisect,
    maximum record age, partial batch responses, the invocation record in the failure destination),
    and runs the Python handler registered for a function. The mapping API answers as AWS's does:
    202 and a transitional state (Creating, Updating, Deleting...) that settles after
    --state-seconds. Point any command at it with the printed environment.
    """
    _require_moto()
    from ddbtrigger.sandbox import Sandbox
    from ddbtrigger.sandbox.invocation_log import show_on_console

    handlers = _parse_handlers(handler or [])
    show_on_console(sys.stderr)
    box = Sandbox(
        port=port,
        handlers=handlers,
        retention_seconds=retention_seconds,
        poll_interval=poll_interval,
        latency_ms=latency_ms,
        state_seconds=state_seconds,
    )
    try:
        box.start()
    except OSError as e:
        raise UsageError(f"{e} (pick another --port, or 0 for a free one)") from e
    try:
        env = box.environment()
        sys.stdout.write("".join(f"export {key}={value}\n" for key, value in env.items()))
        sys.stdout.flush()
        names = ", ".join(handlers) or "none (use --handler FUNCTION=module:callable)"
        sys.stderr.write(f"ddbtrigger sandbox on {box.endpoint_url}; handlers: {names}. Ctrl-C to stop.\n")
        sys.stderr.flush()
        _wait_for_signal()
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()
    sys.stderr.write("sandbox stopped\n")


@command
def demo(
    keep: Annotated[bool, typer.Option("--keep", help="Keep the demo's temporary directory.")] = False,
) -> None:
    """A guided, offline tour of the whole lifecycle against an embedded sandbox (under a minute).

    Creates a table and two functions, applies a spec, writes items including a poison pill, shows the
    pill isolated and landing in the failure destination, shows status and inspect-dlq, fixes the
    handler, redrives, and shows the destination empty. Each step prints the command you would type.
    """
    _require_moto()
    from ddbtrigger.cli.app import app
    from ddbtrigger.cli.boundary import run_app
    from ddbtrigger.sandbox.demo import run_demo

    raise typer.Exit(run_demo(lambda args: run_app(app, args), keep=keep))

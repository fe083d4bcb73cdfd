"""Wires the commands together. Each command lives in its own module with a ``register(app)``.

Start-up is kept to what the invocation needs: ``ddbtrigger --version`` imports no typer, ``--help``
imports no command module (it lists ``COMMANDS``), and a command imports its own module only
(``cli/wiring.py``). To add a command: its module's ``register(app)``, and its line in ``COMMANDS``,
in the order ``--help`` lists it (tests/unit/test_cli_startup.py checks the table against the
commands). ``from ddbtrigger.cli.app import app`` gives the app with every command registered.
"""

from __future__ import annotations

import sys
from typing import Any

from ddbtrigger import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "validate": (
        "validate",
        "Parse and check the spec and run the lint rules (every environment, when it declares some). "
        "Makes no AWS call.",
    ),
    "schema": ("validate", "Print the spec's JSON Schema (for editors' YAML language servers)."),
    "plan": ("provision", "Compare the spec with what is live and print the changes. Changes nothing."),
    "apply": (
        "provision",
        "Make live AWS match the spec, in a safe order, waiting for each resource to settle.",
    ),
    "destroy": (
        "provision",
        "Delete the mappings and the managed (empty, unless --force) destinations of the selected triggers.",
    ),
    "status": (
        "status",
        "Mapping and shard status of each trigger, with destination depth, drift and health hints.",
    ),
    "inspect-dlq": (
        "inspect_dlq",
        "Read and decode what the failure destinations hold, without consuming it.",
    ),
    "redrive": (
        "redrive",
        "Re-deliver the failed records to the function; remove each failure only after it succeeded.",
    ),
    "tail": (
        "tail",
        "Show the records the trigger's stream holds, decoded, oldest first (every shard, parents first).",
    ),
    "replay": (
        "replay",
        "Deliver the records of a time window again (in Lambda's event shape, in order per shard, in the "
        "mapping's batches); the function must be idempotent.",
    ),
    "export": ("export", "Write a spec for mappings that already exist, so `plan` on it shows no changes."),
    "policy": (
        "policy",
        "Print least-privilege IAM policies: the function role's, and the operator's for each command.",
    ),
    "sandbox": (
        "sandbox",
        "Serve a local AWS (DynamoDB, Streams, Lambda, SQS, SNS, S3, IAM, CloudWatch) on 127.0.0.1 until "
        "Ctrl-C.",
    ),
    "demo": (
        "sandbox",
        "A guided, offline tour of the whole lifecycle against an embedded sandbox (under a minute).",
    ),
    "audit": (
        "audit",
        "Find every DynamoDB-stream trigger and report its risks, health and poison-pill impact.",
    ),
}
"""Command name -> (its module in ``ddbtrigger.cli``, the first paragraph of its help, on one line)."""


def __getattr__(name: str) -> Any:
    """``app``: the typer app with every command registered, built on first use."""
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ddbtrigger.cli.wiring import build_app

    app = globals()["app"] = build_app()
    return app


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:  # what the root's eager --version prints, without loading typer
        print(f"ddbtrigger {__version__}")
        return
    from ddbtrigger.cli.boundary import run_app
    from ddbtrigger.cli.wiring import build_app

    sys.exit(run_app(build_app(lazy=True), args))

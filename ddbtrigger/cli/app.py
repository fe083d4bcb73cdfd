"""Wires the commands together. Each command lives in its own module with a ``register(app)``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from ddbtrigger import __version__
from ddbtrigger.cli import (
    audit,
    export,
    inspect_dlq,
    policy,
    provision,
    redrive,
    replay,
    sandbox,
    status,
    tail,
    validate,
)
from ddbtrigger.cli.boundary import set_debug
from ddbtrigger.cli.options import fill_metavars, reflow


class Group(TyperGroup):
    """The root command: every command's options get proper metavars in help (see ``fill_metavars``),
    and its help text is reflowed to the terminal (see ``reflow``)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            command.help = reflow(command.help)
            child = command.context_class(command, parent=ctx, info_name=cmd_name)
            fill_metavars([*command.params, command.get_help_option(child)])
        return command

    def get_help_option(self, ctx: Any) -> Any:
        fill_metavars(self.params)
        option = super().get_help_option(ctx)
        fill_metavars([option])
        return option


app = typer.Typer(
    name="ddbtrigger",
    cls=Group,
    help="Provision and operate DynamoDB Stream -> Lambda triggers: plan, apply, status, inspect and "
    "redrive failures.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ddbtrigger {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="DDBTRIGGER_DEBUG", help="Show tracebacks and botocore's log.")
    ] = False,
) -> None:
    """Provision and operate DynamoDB Stream -> Lambda triggers."""
    set_debug(debug)


for module in (
    validate,
    provision,
    status,
    inspect_dlq,
    redrive,
    tail,
    replay,
    export,
    policy,
    sandbox,
    audit,
):
    module.register(app)


def main() -> None:
    import sys

    from ddbtrigger.cli.boundary import run_app

    sys.exit(run_app(app, sys.argv[1:]))

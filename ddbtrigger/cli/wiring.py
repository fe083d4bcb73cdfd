"""The typer side of ``cli/app.py``: the root command, and the group that loads commands on demand.

Kept apart from ``cli/app.py`` so that importing the entry point imports no typer: ``--version`` is
answered before this module loads. ``build_app(lazy=True)`` (the console script) registers no command:
the root group imports a command's module when that command is asked for, to run it or show its
help, and draws its own ``--help`` from ``app.COMMANDS`` alone. ``build_app()`` registers every
command up front (the Python API: tests, the docs generator, the demo).
"""

from __future__ import annotations

import difflib
import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from ddbtrigger import __version__
from ddbtrigger.cli.app import COMMANDS

HELP = (
    "Provision and operate DynamoDB Stream -> Lambda triggers: plan, apply, status, inspect and "
    "redrive failures."
)


class Group(TyperGroup):
    """The root command: every command's options get proper metavars in help (see ``fill_metavars``),
    and its help text is reflowed to the terminal (see ``reflow``). A command not registered yet is
    loaded from its module (``COMMANDS``); while the root's own help is drawn, a stand-in carrying the
    command's name and one-line help is listed instead, so ``--help`` imports no command module."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if command is None and cmd_name in COMMANDS:
            if self._listing:
                return TyperCommand(name=cmd_name, help=COMMANDS[cmd_name][1])
            command = self._load(cmd_name)
        if command is not None:
            from ddbtrigger.cli.options import fill_metavars, reflow

            command.help = reflow(command.help)
            child = command.context_class(command, parent=ctx, info_name=cmd_name)
            fill_metavars([*command.params, command.get_help_option(child)])
        return command

    def _load(self, cmd_name: str) -> Any:
        """Import the command's module and add the commands it registers (typer builds them exactly as
        it would have at start-up)."""
        module = importlib.import_module(f"ddbtrigger.cli.{COMMANDS[cmd_name][0]}")
        holder = typer.Typer(rich_markup_mode=self.rich_markup_mode, suggest_commands=self.suggest_commands)
        module.register(holder)
        for name, command in typer.main.get_group(holder).commands.items():
            self.commands.setdefault(name, command)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """typer suggests close names from the commands registered so far: suggest from all of them."""
        from ddbtrigger.cli.boundary import _click_errors

        try:
            return super().resolve_command(ctx, args)
        except _click_errors().UsageError as e:
            if self.suggest_commands and args and "Did you mean" not in e.message:
                matches = difflib.get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    suggestions = ", ".join(f"{m!r}" for m in matches)
                    e.message = f"{e.message.rstrip('.')}. Did you mean {suggestions}?"
            raise

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False

    def get_help_option(self, ctx: Any) -> Any:
        from ddbtrigger.cli.options import fill_metavars

        fill_metavars(self.params)
        option = super().get_help_option(ctx)
        fill_metavars([option])
        return option


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ddbtrigger {__version__}")
        raise typer.Exit()


def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", envvar="DDBTRIGGER_DEBUG", help="Show tracebacks and botocore's log.")
    ] = False,
) -> None:
    """Provision and operate DynamoDB Stream -> Lambda triggers."""
    from ddbtrigger.cli.boundary import set_debug

    set_debug(debug)


def build_app(*, lazy: bool = False) -> typer.Typer:
    """The typer app: with ``lazy``, commands are loaded when asked for; else all registered now."""
    app = typer.Typer(
        name="ddbtrigger",
        cls=Group,
        help=HELP,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(root)
    if not lazy:
        for module in dict.fromkeys(module for module, _ in COMMANDS.values()):
            importlib.import_module(f"ddbtrigger.cli.{module}").register(app)
    return app

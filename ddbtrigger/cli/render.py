"""The only place that prints.

Results go to stdout, as rich tables for people or as one JSON document for scripts. Everything else
(messages, progress, warnings, the human error line) goes to stderr, so ``--output json`` pipes cleanly.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def make_console(*, stderr: bool, width: int | None = None) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, no_color=_no_color(), highlight=False, width=width, soft_wrap=False)


@dataclass
class Output:
    """One command's output channel: ``result`` once on stdout, any number of messages on stderr."""

    format: OutputFormat = OutputFormat.table
    out: Console = field(default_factory=lambda: make_console(stderr=False))
    err: Console = field(default_factory=lambda: make_console(stderr=True))

    @property
    def json(self) -> bool:
        return self.format is OutputFormat.json

    def result(self, document: Any, table: Callable[[Console], None] | None = None) -> None:
        """Print the command's result: ``document`` as JSON, or ``table`` drawn for people."""
        if self.json or table is None:
            sys.stdout.write(json.dumps(document, indent=2, default=str, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            table(self.out)

    def info(self, message: str) -> None:
        self.err.print(message, markup=True)

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]warning:[/yellow] {message}")

    def error_line(self, message: str, details: list[str] | None = None) -> None:
        for line in details or []:
            self.err.print(line, markup=False, highlight=False, soft_wrap=True)
        self.err.print(f"[bold red]error:[/bold red] {_escape(message)}", soft_wrap=True)

    def error_document(self, code: str, message: str, details: list[str] | None = None) -> None:
        body: dict[str, Any] = {"code": code, "message": message}
        if details:
            body["details"] = details
        sys.stdout.write(json.dumps({"error": body}, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def progress(self, *, transient: bool = True) -> Progress:
        """A progress bar on stderr (hidden when stderr is not a terminal)."""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        return Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            transient=transient,
            disable=not self.err.is_terminal,
        )

    def confirm(self, question: str, *, yes: bool) -> None:
        """Ask before a change; without a terminal and without ``--yes``, refuse instead of hanging."""
        from ddbtrigger.errors import UsageError

        if yes:
            return
        if not sys.stdin.isatty():
            raise UsageError("refusing to make changes without confirmation: no terminal; pass --yes")
        import typer

        if not typer.confirm(question, default=False, err=True):
            raise UsageError("cancelled; nothing was changed")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)

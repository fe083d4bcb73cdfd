"""The only place that prints.

Results go to stdout, as rich tables for people or as one JSON document for scripts. Everything else
(messages, progress, warnings, the human error line) goes to stderr, so ``--output json`` pipes cleanly.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, overload

import typer

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.progress import Progress
    from rich.text import Text


WideOpt = Annotated[
    bool,
    typer.Option("--wide", help="Draw tables at full width: nothing is shortened or wrapped, ids whole."),
]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


def _no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def make_console(*, stderr: bool, width: int | None = None) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, no_color=_no_color(), highlight=False, width=width, soft_wrap=False)


class _LazyConsole:
    """An ``Output`` console made on first use: a command that prints only JSON never imports rich
    (a field's default descriptor: ``Output(out=console)`` still sets one)."""

    def __init__(self, *, stderr: bool) -> None:
        self.stderr = stderr
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _LazyConsole: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Console: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Console | _LazyConsole:
        if obj is None:
            return self  # the dataclass's default
        console: Console | None = obj.__dict__.get(self.slot)
        if console is None:
            console = obj.__dict__[self.slot] = make_console(stderr=self.stderr)
        return console

    def __set__(self, obj: object, value: Console | _LazyConsole) -> None:
        obj.__dict__[self.slot] = None if value is self else value


@dataclass
class Output:
    """One command's output channel: ``result`` once on stdout, any number of messages on stderr."""

    format: OutputFormat = OutputFormat.table
    out: _LazyConsole = _LazyConsole(stderr=False)
    err: _LazyConsole = _LazyConsole(stderr=True)

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

    def result_streamed(self, key: str, items: Iterable[str], rest: dict[str, Any]) -> None:
        """Print ``{key: [items...], **rest}`` as JSON exactly as ``result`` would (``indent=2``), but
        item by item: each of ``items`` is one element's own ``json.dumps(..., indent=2)`` text, so a
        long list is never one string in memory (sqlite-utils' streaming writer does the same)."""
        write = sys.stdout.write
        write("{\n  " + json.dumps(key) + ": [")
        first = True
        for text in items:
            write(("\n" if first else ",\n") + "    " + text.replace("\n", "\n    "))
            first = False
        write("]" if first else "\n  ]")
        tail = json.dumps(rest, indent=2, default=str, ensure_ascii=False)
        write(",\n" + tail[2:] + "\n" if rest else "\n}\n")
        sys.stdout.flush()

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

        if not typer.confirm(self.prompt_line(question), default=False, err=True):
            raise UsageError("cancelled; nothing was changed")

    def prompt_line(self, question: str) -> str:
        """A long question wrapped at word boundaries for this terminal (a prompt is written raw, so the
        terminal would break it mid-word): all lines but the last are printed, the last is returned for
        the prompt itself, with room left for the ``[y/N]:`` suffix."""
        import textwrap

        lines = textwrap.wrap(question, width=max(20, self.err.width - 8)) or [question]
        for line in lines[:-1]:
            self.err.print(line, markup=False, highlight=False, soft_wrap=True)
        return lines[-1]


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


WIDE_WIDTH = 100_000
"""The console width under ``--wide``: nothing wraps or is cut; the terminal wraps long lines itself."""


def widen(console: Console) -> None:
    """``--wide``: draw at full width, whatever the terminal's width."""
    console.width = WIDE_WIDTH


@dataclass(frozen=True)
class Layout:
    """How a table fits: ``widths`` per column for a table, or ``None`` for the stacked layout."""

    widths: list[int] | None

    @property
    def stacked(self) -> bool:
        return self.widths is None


def table_overhead(columns: int) -> int:
    """Characters the table of ``fitted_table`` adds to its cells: a 2-wide gap between columns."""
    return 2 * (columns - 1)


def fit_columns(headers: Sequence[str], rows: Sequence[Sequence[Text]], *, width: int, wide: bool) -> Layout:
    """The one fitting decision for every table (status, inspect-dlq, redrive, plan).

    Each column gets its natural width (its longest line). When they do not fit, the columns that can
    wrap are narrowed, never below their longest word (so no header or value is broken mid-word);
    when even that does not fit, the stacked layout is chosen. ``wide`` never narrows anything.
    """
    from rich.cells import cell_len

    def lines(text: str) -> list[str]:
        return text.split("\n")

    def words(text: str) -> list[str]:
        return text.split() or [""]

    columns = [[headers[i]] + [row[i].plain for row in rows] for i in range(len(headers))]
    natural = [max(cell_len(line) for cell in col for line in lines(cell)) for col in columns]
    if wide:
        return Layout(natural)
    minimum = [max(cell_len(w) for cell in col for w in words(cell)) for col in columns]
    room = width - table_overhead(len(headers))
    if sum(minimum) > room:
        return Layout(None)
    widths = list(natural)
    while sum(widths) > room:
        slack = [w - m for w, m in zip(widths, minimum, strict=True)]
        widest = max(range(len(widths)), key=lambda i: widths[i] if slack[i] > 0 else -1)
        widths[widest] -= 1
    return Layout(widths)


def fitted_table(
    title: str | None,
    headers: Sequence[str],
    rows: Sequence[Sequence[str | Text]],
    *,
    width: int,
    wide: bool = False,
    show_lines: bool = False,
) -> RenderableType:
    """A table that fits ``width`` without breaking a word or dropping a column, else one block per
    row (``key: value`` lines). Plain ``str`` cells are taken as they are (no markup)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    cells = [[c if isinstance(c, Text) else Text(c) for c in row] for row in rows]
    layout = fit_columns(headers, cells, width=width, wide=wide)
    if layout.widths is None:
        return stacked(title, headers, cells)
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
        show_lines=show_lines,
    )
    for header, column_width in zip(headers, layout.widths, strict=True):
        table.add_column(header, width=column_width, overflow="fold", no_wrap=wide)
    for row in cells:
        table.add_row(*row)
    return table


def _label(header: str, value: Text) -> str:
    """A two-line header over a two-line value names two fields ("mapping / reason"); over a one-line
    value it is one name broken to save width ("iterator age")."""
    return header.replace("\n", " / " if "\n" in value.plain else " ")


def stacked(title: str | None, headers: Sequence[str], rows: Sequence[Sequence[Text]]) -> RenderableType:
    """One block per row: the first cell as its heading, then the others indented, each a
    ``header: value`` line (multi-line headers and values joined with `` / ``)."""
    from rich.console import Group
    from rich.text import Text

    def flat(text: Text) -> Text:
        return Text(" / ").join(text.split("\n", allow_blank=True)) if "\n" in text.plain else text

    parts: list[RenderableType] = [Text(title, style="bold")] if title else []
    for row in rows:
        head = flat(row[0].copy())
        head.stylize("bold")
        block = Text(_label(headers[0], row[0]) + ": ")
        block.append_text(head)
        for header, value in zip(headers[1:], row[1:], strict=True):
            block.append("\n  " + _label(header, value) + ": ")
            block.append_text(flat(value))
        parts += [block, Text("")]
    return Group(*parts)


def short_ids(ids: Sequence[str], *, keep: int = 8) -> list[str]:
    """Ids short enough for a table cell and still told apart: an S3 key by its tail, a message id by
    its head. Where two would look the same, both are shown whole (``--wide`` and JSON always are)."""

    def short(value: str) -> str:
        if len(value) <= keep + 1:
            return value
        return f"…{value[-keep:]}" if "/" in value else f"{value[:keep]}…"

    shown = [short(i) for i in ids]
    clashes = {s for s, n in Counter(shown).items() if n > 1}  # list.count per id was O(n²)
    return [i if s in clashes else s for i, s in zip(ids, shown, strict=True)]

"""The options ``tail`` and ``replay`` share: the time window and the record selection, declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ddbtrigger.core.selection import Selection

PANEL = "Records"

SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="TIME",
        help="From this time: a duration back from now (90s, 10m, 2h, 1d) or an ISO 8601 time with a "
        "zone (2026-12-02T14:00:00Z).",
        rich_help_panel=PANEL,
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        metavar="TIME",
        help="Up to (not including) this time; same forms as --since.",
        rich_help_panel=PANEL,
    ),
]
EventOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        metavar="INSERT|MODIFY|REMOVE",
        help="Only these event names (repeatable).",
        rich_help_panel=PANEL,
    ),
]
KeyOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--key",
        metavar="NAME=VALUE",
        help="Only records with this key value (repeatable: the same name is any of, different names all of).",
        rich_help_panel=PANEL,
    ),
]
FilterOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--filter",
        metavar="PATTERN",
        help="An event-filter pattern (JSON), matched as the mapping matches (repeatable: any of).",
        rich_help_panel=PANEL,
    ),
]


def parse(
    *,
    since: str | None,
    until: str | None,
    events: list[str] | None,
    keys: list[str] | None,
    filters: list[str] | None,
) -> Selection:
    """The window and selection of the command line (``core.selection.Selection``); bad input is a usage
    error naming the option."""
    import time

    from ddbtrigger.core.selection import SelectionError, parse_selection
    from ddbtrigger.core.windows import WindowError, parse_window
    from ddbtrigger.errors import UsageError

    try:
        window = parse_window(since, until, now=time.time())
        return parse_selection(events=events or (), keys=keys or (), filters=filters or (), window=window)
    except (WindowError, SelectionError) as e:
        raise UsageError(str(e)) from None

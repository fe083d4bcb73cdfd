"""The options ``tail`` and ``replay`` share: the time window and the record selection, declared once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from ddbtrigger.cli.options import panel_option

if TYPE_CHECKING:
    from ddbtrigger.core.selection import Selection

PANEL = "Records"


def _option(flag: str, metavar: str, help: str) -> Any:
    """An option of the Records panel (each takes a value, named ``metavar`` in ``--help``)."""
    return panel_option(flag, help, panel=PANEL, metavar=metavar)


SinceOpt = Annotated[
    str | None,
    _option(
        "--since",
        "TIME",
        "From this time: a duration back from now (90s, 10m, 2h, 1d) or an ISO 8601 time with a "
        "zone (2026-12-02T14:00:00Z).",
    ),
]
UntilOpt = Annotated[
    str | None, _option("--until", "TIME", "Up to (not including) this time; same forms as --since.")
]
EventOpt = Annotated[
    list[str] | None, _option("--event", "INSERT|MODIFY|REMOVE", "Only these event names (repeatable).")
]
KeyOpt = Annotated[
    list[str] | None,
    _option(
        "--key",
        "NAME=VALUE",
        "Only records with this key value (repeatable: the same name is any of, different names all of).",
    ),
]
FilterOpt = Annotated[
    list[str] | None,
    _option(
        "--filter",
        "PATTERN",
        "An event-filter pattern (JSON), matched as the mapping matches (repeatable: any of).",
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

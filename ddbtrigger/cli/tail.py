"""``tail``: the trigger's stream, decoded, every shard, oldest first; ``--follow`` keeps reading.

A line per record for people (time, event, keys; images with ``--show-images``), or JSON lines with
``--output json`` (one record in Lambda's event shape per line, flushed as it comes). Ctrl-C exits 130.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import Workspace
from ddbtrigger.cli.render import Output
from ddbtrigger.cli.stream_options import PANEL, EventOpt, FilterOpt, KeyOpt, SinceOpt, UntilOpt, parse

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow",
        "-F",
        help="Keep reading: show records as they are written, new shards included (Ctrl-C to stop).",
        rich_help_panel=PANEL,
    ),
]
ShowImagesOpt = Annotated[
    bool,
    typer.Option(
        "--show-images", help="Also show each record's NewImage and OldImage.", rich_help_panel=PANEL
    ),
]


def register(app: typer.Typer) -> None:
    app.command("tail")(tail)


@command
def tail(
    *,
    ws: Workspace,
    since: SinceOpt = None,
    until: UntilOpt = None,
    follow: FollowOpt = False,
    event: EventOpt = None,
    key: KeyOpt = None,
    filter: FilterOpt = None,
    show_images: ShowImagesOpt = False,
    out: Output,
) -> None:
    """Show the records the trigger's stream holds, decoded, oldest first (every shard, parents first)."""
    from ddbtrigger.errors import UsageError
    from ddbtrigger.usecases.tail_session import open_tail

    selection = parse(since=since, until=until, events=event, keys=key, filters=filter)
    if follow and until is not None:
        raise UsageError("--until ends the window: it cannot be combined with --follow")
    emit = json_line(show_images) if out.json else human_line(out, show_images)
    session = open_tail(ws.factory, ws.triggers, selection)
    if follow:
        session.follow(emit, from_now=since is None)
    else:
        for record in session.history():
            emit(record)


def shown(record: Mapping[str, Any], show_images: bool) -> dict[str, Any]:
    """The record as printed: without its images unless asked for."""
    dynamodb = dict(record.get("dynamodb") or {})
    if not show_images:
        dynamodb.pop("NewImage", None)
        dynamodb.pop("OldImage", None)
    return {**record, "dynamodb": dynamodb}


def json_line(show_images: bool) -> Callable[[Mapping[str, Any]], None]:
    def emit(record: Mapping[str, Any]) -> None:
        sys.stdout.write(json.dumps(shown(record, show_images), separators=(",", ":")) + "\n")
        sys.stdout.flush()

    return emit


def human_line(out: Output, show_images: bool) -> Callable[[Mapping[str, Any]], None]:
    """``2026-12-02T14:00:01Z  INSERT  pk=a sk=1  (shard …, seq …)``, images indented below."""
    from ddbtrigger.core.attributes import plain_image
    from ddbtrigger.core.windows import iso

    def emit(record: Mapping[str, Any]) -> None:
        dynamodb = record.get("dynamodb") or {}
        created = dynamodb.get("ApproximateCreationDateTime")
        keys = " ".join(f"{k}={v}" for k, v in plain_image(dynamodb.get("Keys") or {}).items())
        when = iso(float(created)) if created is not None else "-"
        line = f"{when}  {record.get('eventName', '?'):<6}  {keys}  seq {dynamodb.get('SequenceNumber')}"
        out.out.print(line, markup=False, highlight=False, soft_wrap=True)
        if show_images:
            for image in ("OldImage", "NewImage"):
                if image in dynamodb:
                    body = json.dumps(plain_image(dynamodb[image]), default=str, sort_keys=True)
                    out.out.print(f"    {image}: {body}", markup=False, highlight=False, soft_wrap=True)
        out.out.file.flush()

    return emit

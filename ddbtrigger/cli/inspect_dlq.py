"""``inspect-dlq``: what the failure destinations hold, decoded, without consuming anything.

Table mode: one row per failure (sorted by shard, then sequence number; the first ``PAGE_ROWS`` of a
deep queue), the malformed messages, and a footer with the counts (of every failure), the oldest
failure's age and the exact ``ddbtrigger redrive`` command to run next. ``--output json`` prints
PRODUCT.md's document, written item by item from a spool; ``--export`` streams JSON lines to a file;
``--follow`` keeps scanning and appends what is new until Ctrl-C. Memory stays flat with depth in every
mode but ``--hydrate`` (which hydrates every failure in shard order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import Workspace
from ddbtrigger.cli.render import Output, WideOpt

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ddbtrigger.core.failures import Held
    from ddbtrigger.usecases.inspect import Entry, ExportSummary, InspectReport

LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", "-n", min=1, help="Read at most N messages/objects (SQS holds at most 120,000 in flight)."
    ),
]
FollowOpt = Annotated[
    bool,
    typer.Option(
        "--follow",
        help="Keep scanning and append new failures as they arrive, until Ctrl-C (with --output json: one "
        "JSON object per line).",
    ),
]
NowOpt = Annotated[
    str | None,
    typer.Option("--now", hidden=True, help="Pretend it is this ISO-8601 time (tests, reproducible output)."),
]
IntervalOpt = Annotated[
    float, typer.Option("--interval", min=0.5, help="Seconds between scans with --follow.")
]
HydrateOpt = Annotated[
    bool,
    typer.Option(
        "--hydrate",
        help="Fetch each failure's records from the stream (or the S3 object): event names, keys.",
    ),
]
ImagesOpt = Annotated[
    bool,
    typer.Option(
        "--show-images", help="With --hydrate, also show old/new item images (may hold personal data)."
    ),
]
ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export", metavar="FILE.jsonl", help="Write one JSON object per failure to FILE, streamed."
    ),
]


def register(app: typer.Typer) -> None:
    app.command("inspect-dlq")(inspect_dlq)


@command
def inspect_dlq(
    *,
    ws: Workspace,
    limit: LimitOpt = None,
    follow: FollowOpt = False,
    interval: IntervalOpt = 5.0,
    hydrate: HydrateOpt = False,
    show_images: ImagesOpt = False,
    export: ExportOpt = None,
    out: Output,
    wide: WideOpt = False,
    now: NowOpt = None,
) -> None:
    """Read and decode what the failure destinations hold, without consuming it.

    Exits 3 (attention needed) when another reader holds failures invisible, so the listing is
    incomplete: they are counted as held, never hidden.
    """
    from ddbtrigger.cli.render import widen
    from ddbtrigger.errors import EXIT_ATTENTION, UsageError
    from ddbtrigger.usecases import inspect as uc

    uc.check_limit(limit)
    at = _parse_now(now)
    if show_images and not hydrate:
        raise UsageError("--show-images needs --hydrate (images come from the stream records)")
    if follow and export is not None:
        raise UsageError("--follow and --export cannot be combined")
    selected, factory = ws.triggers, ws.factory
    redrive = {
        "file": ws.file,
        "profile": ws.profile,
        "region": ws.region,
        "endpoint_url": ws.endpoint_url,
        "target": ws.target_args,
    }
    if follow:
        _follow(
            out, factory, selected, limit=limit, interval=interval, hydrate=hydrate, show_images=show_images
        )
        return
    if export is not None:
        _export(
            out,
            factory,
            selected,
            export,
            limit=limit,
            hydrate=hydrate,
            show_images=show_images,
            redrive=redrive,
            at=at,
        )
        return
    if wide:
        widen(out.out)
    if not hydrate:
        _streamed(out, factory, selected, limit=limit, now=at or _now(), redrive=redrive, wide=wide)
        return
    report = uc.inspect(
        factory, selected, now=at or _now(), limit=limit, hydrate=hydrate, show_images=show_images
    )
    for name in report.without_destination:
        out.warn(f"trigger {name} has no failure destination (on_failure): nothing to inspect")
    if report.truncated:
        out.warn(TRUNCATED)
    out.result(report.as_json(), lambda console: draw_report(console, report, redrive=redrive, wide=wide))
    if report.held.count:
        raise typer.Exit(EXIT_ATTENTION)


TRUNCATED = "SQS refused to put more messages in flight (OverLimit): only part of the queue was read"
PAGE_ROWS = 1000
"""Table mode lists the first this many failures (by shard and sequence) and counts every one: a
bounded page keeps memory flat however deep the queue (JSON and ``--export`` list them all)."""


def _streamed(
    out: Output,
    factory: Any,
    selected: list[Any],
    *,
    limit: int | None,
    now: datetime,
    redrive: dict[str, Any],
    wide: bool,
) -> None:
    """Without ``--hydrate``: one scan, failures counted exactly as they are read and kept out of
    memory: JSON spooled to a temporary file and written back sorted, item by item (the same
    document as ``InspectReport.as_json``); the table a bounded, sorted page plus the counts."""
    from ddbtrigger.errors import EXIT_ATTENTION
    from ddbtrigger.usecases import inspect as uc

    if out.json:
        with uc.SortedSpool(now) as spool:
            summary = uc.scan_counted(factory, selected, spool.add, now=now, limit=limit)
            _warn_scan(out, summary)
            report = uc.InspectReport(now, malformed=summary.malformed, held=summary.held, totals=summary)
            rest = {k: v for k, v in report.as_json().items() if k != "failures"}
            out.result_streamed("failures", spool.texts(), rest)
    else:
        page = uc.SortedPage(PAGE_ROWS)
        summary = uc.scan_counted(factory, selected, page.add, now=now, limit=limit)
        _warn_scan(out, summary)
        report = uc.InspectReport(
            now,
            failures=page.entries(),
            malformed=summary.malformed,
            triggers=[t.name for t in selected],
            without_destination=summary.without_destination,
            truncated=summary.truncated,
            held=summary.held,
            totals=summary,
        )
        draw_report(out.out, report, redrive=redrive, wide=wide)
    if summary.held.count:
        raise typer.Exit(EXIT_ATTENTION)


def _warn_scan(out: Output, summary: ExportSummary) -> None:
    for name in summary.without_destination:
        out.warn(f"trigger {name} has no failure destination (on_failure): nothing to inspect")
    if summary.truncated:
        out.warn(TRUNCATED)


def _now() -> datetime:
    return datetime.now(UTC)


def _parse_now(value: str | None) -> datetime | None:
    from ddbtrigger.errors import UsageError

    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now {value!r} is not an ISO-8601 time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


RICH_TABLE_MAX_ROWS = 300
"""Above this many rows, tables are drawn as plain aligned text: rich needs ~5 ms a row."""
FAILURE_COLUMNS = (
    "id",
    "landed",
    "trigger",
    "shard",
    "sequence range",
    "batch",
    "condition",
    "invokes",
    "error",
    "expires",
)
MALFORMED_COLUMNS = ("id", "trigger", "reason")
FAILURES_TITLE = "Failures"
MALFORMED_TITLE = "Malformed (not invocation records; kept, never deleted)"
Row = tuple[list[str], bool]


def draw_report(
    console: Console, report: InspectReport, *, redrive: dict[str, Any], wide: bool = False
) -> None:
    """The table-mode view of one scan."""
    if report.failures:
        rows = failure_rows(report.failures, report.now, wide=wide)
        print_table(console, FAILURES_TITLE, FAILURE_COLUMNS, rows, wide=wide)
        if report.failure_count > len(report.failures):
            console.print(
                f"the first {len(report.failures):,} of {report.failure_count:,} failures by shard and "
                f"sequence number; every one: --output json, or --export FILE.jsonl",
                markup=False,
            )
        hydrated = [e for e in report.failures if e.hydration is not None]
        for entry in hydrated:
            console.print(records_view(entry))
    if report.malformed:
        rows = malformed_rows(report.malformed, wide=wide)
        print_table(console, MALFORMED_TITLE, MALFORMED_COLUMNS, rows, wide=wide)
    console.print(footer(report, redrive=redrive))


def failure_rows(entries: list[Entry], now: datetime, *, wide: bool = False) -> list[Row]:
    """One row of cells per failure, and whether it is expired (drawn in red). ``wide``: whole ids."""
    from ddbtrigger.cli.render import short_ids
    from ddbtrigger.core.failures import Failure
    from ddbtrigger.usecases.inspect import expiry_text, short_sequence

    failures = [e for e in entries if isinstance(e.item, Failure)]
    ids = [e.item.id for e in failures] if wide else short_ids([e.item.id for e in failures])
    rows: list[Row] = []
    for shown_id, entry in zip(ids, failures, strict=True):
        f = entry.item
        assert isinstance(f, Failure)
        received = f.received_at.strftime("%m-%d %H:%M") if f.received_at else "–"
        seq = f.start_sequence_number if wide else short_sequence(f.start_sequence_number)
        if f.end_sequence_number != f.start_sequence_number:
            end = f.end_sequence_number if wide else short_sequence(f.end_sequence_number)
            seq += f" – {end}"
        cells = [
            shown_id,
            received,
            entry.trigger,
            f.shard_id if wide else _short_shard(f.shard_id),
            seq,
            str(f.batch_size),
            f.condition,
            str(f.approximate_invoke_count),
            f.function_error or "–",
            expiry_text(entry, now),
        ]
        rows.append((cells, entry.expired(now)))
    return rows


def malformed_rows(entries: list[Entry], *, wide: bool = False) -> list[Row]:
    from ddbtrigger.cli.render import short_ids

    ids = [e.item.id for e in entries]
    shown = ids if wide else short_ids(ids)
    return [
        ([i, entry.trigger, getattr(entry.item, "reason", "")], False)
        for i, entry in zip(shown, entries, strict=True)
    ]


def rich_table(
    title: str, columns: tuple[str, ...], rows: list[Row], *, width: int = 80, wide: bool = False
) -> RenderableType:
    """The fitted table (render.fitted_table): stacked when ``width`` cannot hold it unbroken."""
    from rich.text import Text

    from ddbtrigger.cli.render import fitted_table

    cells = [
        [Text(c) for c in cells[:-1]] + [Text(cells[-1], style="red" if red else "")] for cells, red in rows
    ]
    return fitted_table(title, columns, cells, width=width, wide=wide)


def print_table(
    console: Console, title: str, columns: tuple[str, ...], rows: list[Row], *, wide: bool = False
) -> None:
    """A fitted rich table, or for many rows the same columns as plain aligned text (fast, flat)."""
    if len(rows) <= RICH_TABLE_MAX_ROWS:
        console.print(rich_table(title, columns, rows, width=console.width, wide=wide))
        return
    widths = [max(len(column), *(len(cells[i]) for cells, _ in rows)) for i, column in enumerate(columns)]
    color = console.is_terminal and not console.no_color

    def line(cells: list[str], red: bool = False) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        if red and color:
            padded[-1] = f"\x1b[31m{padded[-1]}\x1b[0m"
        return "  ".join(padded).rstrip()

    out = [title, line(list(columns)), "  ".join("─" * w for w in widths)]
    out += [line(cells, red) for cells, red in rows]
    console.file.write("\n".join(out) + "\n")
    console.file.flush()


def failures_table(entries: list[Entry], now: datetime, *, width: int = 80) -> RenderableType:
    return rich_table(FAILURES_TITLE, FAILURE_COLUMNS, failure_rows(entries, now), width=width)


def _short_shard(shard_id: str) -> str:
    """A shard id by its tail (its hash); ``--wide`` and JSON show it whole."""
    return shard_id if len(shard_id) <= 12 else f"…{shard_id[-8:]}"


def records_view(entry: Entry) -> RenderableType:
    """The records of one hydrated failure: event name and keys, images when asked for."""
    import json

    from rich.text import Text

    hydration = entry.hydration
    assert hydration is not None
    text = Text(f"{entry.item.id} ({entry.trigger}): ")
    if hydration.expired:
        text.append("expired", style="red")
        text.append((f": {hydration.reason}" if hydration.reason else "") + "; ")
    origin = "S3 object" if hydration.origin == "s3" else hydration.origin
    text.append(f"{len(hydration.records)} record(s) from the {origin}")
    if hydration.extra_records:
        text.append(f", {hydration.extra_records} more than the batch had", style="yellow")
    for record in hydration.records:
        text.append(f"\n  {record.get('event_name') or '?':<7} {json.dumps(record['keys'], default=str)}")
        for image in ("old_image", "new_image"):
            if image in record:
                text.append(f"\n      {image}: {json.dumps(record[image], default=str)}")
    return text


def malformed_table(entries: list[Entry], *, width: int = 80) -> RenderableType:
    return rich_table(MALFORMED_TITLE, MALFORMED_COLUMNS, malformed_rows(entries), width=width)


def footer(report: InspectReport, *, redrive: dict[str, Any]) -> str:
    from rich.markup import escape

    from ddbtrigger.usecases.inspect import age_text, redrive_command

    n, expired, bad = report.failure_count, report.expired, len(report.malformed)
    line = f"{n} failure(s)" + (f" ([red]{expired} expired[/red])" if expired else "") + f", {bad} malformed"
    if report.held.count:  # lead with the held ones: this listing is not the whole destination
        held = report.held.count
        line = held_line(report.held, report.now) + (
            f"\nlisted: {n} (expired: {expired}) · malformed: {bad} · held: {held} · total: {n + bad + held}"
        )
    if report.oldest_age is not None:
        line += f"; oldest failure arrived {age_text(report.oldest_age)} ago"
    if not n:
        return line
    command = redrive_command(triggers=report.failing_triggers, **redrive)
    line += f"\nnext: {escape(command)}"
    if expired:
        line += (
            "\n[red]expired failures[/red] point at records the stream has trimmed: redrive reports them "
            "and keeps them (add --drop-expired to remove them)"
        )
    return line


def held_line(held: Held, now: datetime) -> str:
    """Failures another reader holds: counted, never hidden behind an empty listing."""
    from ddbtrigger.usecases.inspect import age_text

    when = (
        f"they reappear within {age_text(held.reappear_by - now)}"
        if held.reappear_by is not None
        else "they reappear when that reader releases them or its hold times out"
    )
    return (
        f"[bold yellow]{held.count} failure(s) held[/bold yellow] by another reader (a redrive or "
        f"inspect-dlq running, or a killed run's hold): not listed here; {when}"
    )


def _export(
    out: Output,
    factory: Any,
    selected: list[Any],
    path: Path,
    *,
    limit: int | None,
    hydrate: bool,
    show_images: bool,
    redrive: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """Stream the failures to ``path``; print the counts (and the malformed ones) as the result."""
    from ddbtrigger.errors import EXIT_ATTENTION, UsageError
    from ddbtrigger.usecases.inspect import export, malformed_json

    now = at or _now()
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    with handle:
        summary = export(
            factory,
            selected,
            handle,
            now=now,
            path=str(path),
            limit=limit,
            hydrate=hydrate,
            show_images=show_images,
        )
    document = {
        "exported": str(path),
        "failures": summary.failures,
        "expired": summary.expired,
        "malformed": [malformed_json(e) for e in summary.malformed],
        "held": summary.held.as_json(),
    }
    out.result(document, lambda console: _draw_export(console, summary, now, redrive))
    if summary.held.count:
        raise typer.Exit(EXIT_ATTENTION)


def _draw_export(console: Console, summary: ExportSummary, now: datetime, redrive: dict[str, Any]) -> None:
    from ddbtrigger.usecases.inspect import age_text, redrive_command

    if summary.malformed:
        print_table(console, MALFORMED_TITLE, MALFORMED_COLUMNS, malformed_rows(summary.malformed))
    line = (
        f"wrote {summary.failures} failure(s) to {summary.path} ({summary.expired} expired), "
        f"{len(summary.malformed)} malformed"
    )
    if summary.oldest_arrival is not None:
        line += f"; oldest failure arrived {age_text(now - summary.oldest_arrival)} ago"
    console.print(line, markup=False)
    if summary.held.count:
        console.print(held_line(summary.held, now))
    if summary.failures:
        console.print(
            "next: " + redrive_command(triggers=summary.triggers_with_failures, **redrive), markup=False
        )


def _follow(
    out: Output,
    factory: Any,
    selected: list[Any],
    *,
    limit: int | None,
    interval: float,
    hydrate: bool,
    show_images: bool,
) -> None:
    """Append new failures as they arrive: a live table (or JSON lines) until Ctrl-C, which exits 0."""
    import json

    from rich.live import Live

    from ddbtrigger.usecases.inspect import Hydrator, failure_json, follow, malformed_json

    hydrator = Hydrator(factory, show_images=show_images) if hydrate else None
    shown: list[Entry] = []

    def enrich(entries: list[Entry]) -> list[Entry]:
        from ddbtrigger.core.failures import Failure
        from ddbtrigger.usecases.inspect import Entry as E

        if hydrator is None:
            return entries
        return [
            E(e.trigger, e.item, hydrator.hydrate(e.item)) if isinstance(e.item, Failure) else e
            for e in entries
        ]

    def as_lines(entries: list[Entry]) -> None:
        from ddbtrigger.core.failures import Failure

        for e in enrich(entries):
            doc = failure_json(e, _now()) if isinstance(e.item, Failure) else {"malformed": malformed_json(e)}
            typer.echo(json.dumps(doc, default=str))

    try:
        if out.json:
            follow(factory, selected, on_new=as_lines, clock=_now, interval=interval, limit=limit)
            return
        out.info(f"following {len(selected)} trigger(s) every {interval:g}s; Ctrl-C to stop")
        with Live(_follow_view(shown, out.out.width), console=out.out, auto_refresh=False) as live:

            def append(entries: list[Entry]) -> None:
                shown.extend(enrich(entries))
                live.update(_follow_view(shown, out.out.width), refresh=True)

            follow(factory, selected, on_new=append, clock=_now, interval=interval, limit=limit)
    except KeyboardInterrupt:
        return


def _follow_view(entries: list[Entry], width: int = 80) -> RenderableType:
    from rich.console import Group

    from ddbtrigger.core.failures import Failure

    now = _now()
    failures = [e for e in entries if isinstance(e.item, Failure)]
    malformed = [e for e in entries if not isinstance(e.item, Failure)]
    recent = failures[-RICH_TABLE_MAX_ROWS:]
    parts: list[Any] = [failures_table(recent, now, width=width)]
    parts += [records_view(e) for e in recent[-20:] if e.hydration is not None]
    if malformed:
        parts.append(malformed_table(malformed[-20:], width=width))
    shown = f" (the newest {len(recent)} shown)" if len(recent) < len(failures) else ""
    parts.append(f"{len(failures)} failure(s){shown}, {len(malformed)} malformed; watching (Ctrl-C to stop)")
    return Group(*parts)

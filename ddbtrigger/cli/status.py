"""``status``: mapping, destination and shard status of each trigger, at a glance.

One table (a row per trigger), the health hints under it, and each trigger's shards as a lineage tree.
Above ``FOLD_QUIET_ABOVE`` triggers, the healthy ones are one summary line instead of a row each.
``--watch`` redraws the same view in place until Ctrl-C. Rendering functions take a ``StatusReport`` and
return rich renderables, so tests draw them at a fixed width without AWS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import Workspace
from ddbtrigger.cli.render import Output, WideOpt

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.tree import Tree

    from ddbtrigger.core.live import LiveMapping
    from ddbtrigger.usecases.status import DestinationStatus, StatusReport, TriggerStatus

DEFAULT_WATCH_SECONDS = 5.0
DASH = "–"
STATE_STYLE = {
    "Enabled": "green",
    "Disabled": "yellow",
    "Creating": "cyan",
    "Enabling": "cyan",
    "Updating": "cyan",
    "Disabling": "yellow",
    "Deleting": "red",
}
HINT_MARK = {"error": "[bold red]✗[/]", "warning": "[yellow]![/]", "info": "[cyan]i[/]"}

ShardsOpt = Annotated[
    bool | None,
    typer.Option(
        "--shards/--no-shards", help="Show each trigger's shards (default: on for a single trigger)."
    ),
]
MetricsOpt = Annotated[
    bool,
    typer.Option(
        "--metrics",
        help="Also read CloudWatch: IteratorAge (max, last 15 min), queue age, and the last hours of "
        "iterator age, invocations, errors and failures waiting as sparklines.",
    ),
]
HoursOpt = Annotated[
    int,
    typer.Option("--hours", min=1, max=336, help="With --metrics: how many hours the sparklines show."),
]
WatchOpt = Annotated[
    bool, typer.Option("--watch", help="Redraw in place every SECONDS (default 5) until Ctrl-C.")
]
SecondsArg = Annotated[
    float | None,
    typer.Argument(metavar="SECONDS", help="Refresh interval for --watch.", show_default=False, min=0.5),
]


def register(app: typer.Typer) -> None:
    app.command("status")(status)


@command
def status(
    *,
    seconds: SecondsArg = None,
    ws: Workspace,
    shards: ShardsOpt = None,
    metrics: MetricsOpt = False,
    hours: HoursOpt = 3,
    watch: WatchOpt = False,
    wide: WideOpt = False,
    out: Output,
) -> None:
    """Mapping and shard status of each trigger, with destination depth, drift and health hints.

    Exits 3 (attention needed) when any trigger needs a person, so cron and runbooks can alert on it.
    """
    from ddbtrigger.cli.render import widen
    from ddbtrigger.errors import EXIT_ATTENTION, UsageError
    from ddbtrigger.usecases.status import read_status

    if seconds is not None and not watch:
        raise UsageError(f"unexpected argument {seconds:g}: an interval is given as --watch SECONDS")
    if watch and out.json:
        raise UsageError("--watch draws a live table; it cannot be combined with --output json")
    if ws.all_environments:
        if watch:
            raise UsageError("--watch follows one environment: choose it with --env NAME")
        status_every_environment(ws, out, shards=shards, metrics=metrics, wide=wide)
        return
    selected, factory = ws.triggers, ws.factory
    show_shards = shards if shards is not None else len(selected) == 1

    def read() -> StatusReport:
        return read_status(factory, selected, shards=show_shards, metrics=metrics, hours=hours)

    if wide:
        widen(out.out)
    if watch:
        watch_status(out, read, interval=seconds or DEFAULT_WATCH_SECONDS, wide=wide)
        return
    report = read()
    out.result(report.as_json(), lambda console: draw(console, report, wide=wide))
    if report.needs_attention:
        raise typer.Exit(EXIT_ATTENTION)


def status_every_environment(
    ws: Workspace, out: Output, *, shards: bool | None, metrics: bool, wide: bool
) -> None:
    """``status --env all``: every environment read in parallel, each with its own connection; a
    heading per environment, JSON keyed by environment. Exit 1 if any could not be read, else 3 if
    any needs attention."""
    from ddbtrigger.cli.render import widen
    from ddbtrigger.errors import EXIT_ATTENTION, EXIT_FAILED
    from ddbtrigger.usecases.every_env import for_each
    from ddbtrigger.usecases.status import read_status

    def one(opened: Any) -> StatusReport:
        show = shards if shards is not None else len(opened.triggers) == 1
        return read_status(opened.factory, opened.triggers, shards=show, metrics=metrics)

    outcomes = for_each(ws.every(), one)
    document = {
        "environments": {
            env: o.value.as_json() if o.value is not None else o.error_json() for env, o in outcomes.items()
        }
    }

    def draw_all(console: Console) -> None:
        for env, o in outcomes.items():
            console.rule(f"environment {env}", align="left")
            if o.value is not None:
                draw(console, o.value, wide=wide)
            elif o.error is not None:
                console.print(f"error: {o.error.message}", markup=False)

    if wide:
        widen(out.out)
    out.result(document, draw_all)
    if any(o.error is not None for o in outcomes.values()):
        raise typer.Exit(EXIT_FAILED)
    if any(o.value is not None and o.value.needs_attention for o in outcomes.values()):
        raise typer.Exit(EXIT_ATTENTION)


def watch_status(
    out: Output,
    read: Any,
    *,
    interval: float,
    sleep: Any = None,
    rounds: int | None = None,
    wide: bool = False,
) -> None:
    """Redraw ``read()`` in place every ``interval`` seconds until Ctrl-C (exit 0) or ``rounds`` ran.

    A failed refresh (throttling, an expired session) keeps the last view and says why under it, so a
    watch left open through a blip recovers by itself. Without a terminal (piped to a file), each
    refresh is printed after the previous one instead of redrawn.
    """
    import time
    from contextlib import nullcontext

    from rich.live import Live

    pause = sleep or time.sleep
    done = 0

    def view_of(report: StatusReport) -> RenderableType:
        return status_view(report, width=out.out.width, wide=wide)

    try:
        view = view_of(read())
        in_place = out.out.is_terminal
        live = Live(view, console=out.out, auto_refresh=False) if in_place else None
        if live is None:
            out.out.print(view)
        with live or nullcontext():
            while rounds is None or done < rounds:
                pause(interval)
                done += 1
                view, shown = _refreshed(lambda: view_of(read()), view)
                if live is not None:
                    live.update(shown, refresh=True)
                else:
                    out.out.print(shown)
    except KeyboardInterrupt:
        return


def _refreshed(fresh: Any, last: RenderableType) -> tuple[RenderableType, RenderableType]:
    """(the latest good view, what to show): a fresh view, or the last good one with why it is old."""
    from rich.console import Group
    from rich.text import Text

    from ddbtrigger.errors import DdbtError

    try:
        view = fresh()
    except DdbtError as e:
        return last, Group(last, Text(f"refresh failed: {e.message}", style="red"))
    return view, view


def status_view(report: StatusReport, *, width: int = 120, wide: bool = False) -> RenderableType:
    """The whole table-mode view: the table (stacked when ``width`` cannot hold it), then ids, hints,
    and shard trees."""
    from rich.console import Group
    from rich.text import Text

    shown, quiet = split_quiet(report)
    parts: list[RenderableType] = []
    if shown.triggers:
        table = status_table(shown, width=width, wide=wide)
        parts += [table, Text(""), Text.from_markup("\n".join(id_lines(shown)))]
    if quiet:
        parts += [Text(""), Text.from_markup(quiet_line(quiet, width=width))]
    alarms = alarm_lines(shown)
    if alarms:
        parts += [Text(""), Text.from_markup("\n".join(alarms))]
    lines = hint_lines(shown)
    if lines:
        parts += [Text(""), Text.from_markup("\n".join(lines))]
    if report.window is not None:
        parts += [Text(""), Text.from_markup("\n".join(sparkline_lines(report)))]
    if report.shards:
        for tree in (shard_tree(t) for t in shown.triggers if t.shards is not None):
            parts += [Text(""), tree]
    parts.append(Text(f"read at {report.read_at.strftime('%Y-%m-%d %H:%M:%S %Z').strip()}", style="dim"))
    return Group(*parts)


FOLD_QUIET_ABOVE = 10
"""Above this many triggers, those with nothing to look at (``TriggerStatus.quiet``) are summarised in
one line instead of a row each: 50 healthy triggers were 50 stacked tables on an 80-column terminal
(~0.8 s of rendering) for nothing an operator must read. ``--output json`` lists every trigger."""


def split_quiet(report: StatusReport) -> tuple[StatusReport, list[TriggerStatus]]:
    """(the report of the triggers to draw, the quiet ones folded into one line) for a big report."""
    from dataclasses import replace

    if len(report.triggers) <= FOLD_QUIET_ABOVE:
        return report, []
    quiet = [t for t in report.triggers if t.quiet]
    shown = tuple(t for t in report.triggers if not t.quiet)
    return replace(report, triggers=shown), quiet


def quiet_line(quiet: list[TriggerStatus], *, width: int = 120) -> str:
    """``✓ 48 healthy: a, b, c … and 45 more``, kept to one line of ``width`` (healthy: mapping
    Enabled on the latest stream, no drift, no hint, the destination empty)."""
    from rich.markup import escape

    head = f"✓ {len(quiet)} healthy"
    names = [t.name for t in quiet]
    count = len(names)

    def more(n: int) -> str:
        return f" … and {len(names) - n} more" if n < len(names) else ""

    while count > 1 and len(head) + 2 + len(", ".join(names[:count])) + len(more(count)) > width:
        count -= 1
    text = ", ".join(names[:count]) + more(count)
    return f"[green]{escape(head)}[/]: {escape(text)}"


STATUS_COLUMNS = (
    "trigger\ntable",
    "stream\nview type",
    "mapping\nreason",
    "last result",
    "batch/retries\nage/bisect",
    "on failure\ndepth",
    "drift",
)


def status_table(report: StatusReport, *, width: int = 120, wide: bool = False) -> RenderableType:
    """One row per trigger; each cell holds one concern (its second line is detail). Every column is
    kept (drift, iterator age): a narrow terminal gets one block per trigger instead."""
    from rich.text import Text

    from ddbtrigger.cli.render import fitted_table

    columns = STATUS_COLUMNS + (("iterator\nage",) if report.metrics else ())
    rows = []
    for t in report.triggers:
        row = [
            f"[bold]{_text(t.name)}[/]\n{_text(t.table)}",
            _stream_cell(t),
            _mapping_cell(t.mapping, stale=t.mapping_is_stale),
            _result_cell(t.mapping),
            _settings_cell(t.mapping),
            _destination_cell(t.destination),
            "[bold yellow]drift[/]" if t.drift else "no",
        ]
        if report.metrics:
            row.append(_duration_ms(t.iterator_age_ms))
        rows.append([Text.from_markup(cell) for cell in row])
    return fitted_table("Trigger status", columns, rows, width=width, wide=wide, show_lines=True)


def id_lines(report: StatusReport) -> list[str]:
    """Per trigger, the ids an operator pastes into other tools: mapping UUID and stream (its label)."""
    from rich.markup import escape

    width = max((len(t.name) for t in report.triggers), default=0)
    lines = []
    for t in report.triggers:
        uuid = t.mapping.uuid if t.mapping else DASH
        stream = t.mapping.event_source_arn if t.mapping else t.stream_arn
        label = stream.split("/stream/", 1)[-1] if stream else DASH
        lines.append(f"[dim]{escape(t.name.ljust(width))}  mapping {escape(uuid)}  stream {escape(label)}[/]")
    return lines


ALARM_STYLE = {"OK": "green", "ALARM": "bold red", "INSUFFICIENT_DATA": "dim"}


def alarm_lines(report: StatusReport) -> list[str]:
    """Per trigger, each alarm's state and threshold (``orders  iterator-age  ALARM  > 300``)."""
    from ddbtrigger.usecases.status import alarm_json

    found = [(t.name, alarm_json(a)) for t in report.triggers for a in t.alarms]
    width = max((len(name) for name, _ in found), default=0)
    lines = []
    for name, alarm in found:
        short = alarm["name"].removeprefix(f"ddbtrigger-{name}-")
        style = ALARM_STYLE.get(alarm["state"], "")
        lines.append(
            f"{escape_text(name.ljust(width))}  alarm {escape_text(short)}  [{style}]{alarm['state']}[/]"
            f"  threshold {alarm['threshold']}{' s' if str(alarm['metric']).endswith('_seconds') else ''}"
        )
    return lines


def escape_text(text: str) -> str:
    from rich.markup import escape

    return escape(text)


SPARK_LABELS = {
    "iterator_age_ms": "iterator age",
    "invocations": "invocations",
    "errors": "errors",
    "failures_waiting": "failures",
}


def sparkline_lines(report: StatusReport) -> list[str]:
    """Per trigger, a sparkline per series over the report's window, with its peak or total: at most
    2 + 14 + 48 + 2 + 14 columns, so it reads whole at 80."""
    from datetime import timedelta

    from ddbtrigger.core.sparkline import NO_DATA, sparkline
    from ddbtrigger.core.timetext import human_duration

    window = report.window
    assert window is not None
    span = human_duration(timedelta(seconds=window.period * window.count))
    mark = human_duration(timedelta(seconds=window.period))
    lines = [f"[bold]Last {span}[/], one mark per {mark} ({NO_DATA} no data)"]
    for t in report.triggers:
        lines.append(f"[bold]{escape_text(t.name)}[/]")
        for name, label in SPARK_LABELS.items():
            values = t.series.get(name)
            if values is None:
                why = "S3: not in CloudWatch" if t.destination and t.destination.type == "s3" else DASH
                lines.append(f"  {label:<14}[dim]{why}[/]")
                continue
            lines.append(f"  {label:<14}{sparkline(values)}  {_spark_summary(name, values)}")
    return lines


def _spark_summary(name: str, values: tuple[float | None, ...]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "[dim]no data[/]"
    if name == "iterator_age_ms":
        return f"max {_duration_ms(max(known))}"
    if name == "failures_waiting":
        return f"max {max(known):.0f}"
    return f"total {sum(known):.0f}"


def hint_lines(report: StatusReport) -> list[str]:
    from rich.markup import escape

    return [
        f"{HINT_MARK[h.level]} {escape(t.name)}: {escape(h.message)}"
        for t in report.triggers
        for h in t.hints
    ]


def shard_tree(status: TriggerStatus) -> Tree:
    """The stream's shards by lineage: each child under its parent, open shards marked."""
    from rich.markup import escape
    from rich.tree import Tree

    from ddbtrigger.core.shards import lineage

    root = Tree(f"[bold]{escape(status.name)}[/] shards ({len(status.shards or ())})")
    stack: list[tuple[Any, Any]] = [(root, node) for node in reversed(lineage(status.shards or ()))]
    while stack:
        parent, node = stack.pop()
        branch = parent.add(_shard_label(node.shard))
        stack.extend((branch, child) for child in reversed(node.children))
    if not status.shards:
        root.add("[dim]no shards[/]")
    return root


def _shard_label(shard: Any) -> str:
    from rich.markup import escape

    state = "[green]open[/]" if shard.open else "[dim]closed[/]"
    span = f"{shard.starting_sequence_number or '?'} → {shard.ending_sequence_number or '…'}"
    return f"{escape(shard.shard_id)}  {state}  {escape(span)}"


def _text(value: object) -> str:
    from rich.markup import escape

    return DASH if value is None or value == "" else escape(str(value))


def _stream_cell(t: TriggerStatus) -> str:
    if t.stream_status is None:
        return "[red]no table[/]"
    style = "green" if t.stream_status == "ENABLED" else "red"
    return f"[{style}]{t.stream_status}[/]\n{_text(t.view_type)}"


def _mapping_cell(mapping: LiveMapping | None, *, stale: bool) -> str:
    if mapping is None:
        return "[red]missing[/]"
    style = STATE_STYLE.get(mapping.state, "white")
    cell = f"[{style}]{_text(mapping.state)}[/]"
    if mapping.state_transition_reason:
        cell += f"\n{_text(mapping.state_transition_reason)}"
    return cell + ("\n[red](old stream)[/]" if stale else "")


def _result_cell(mapping: LiveMapping | None) -> str:
    result = mapping.last_processing_result if mapping else None
    if result and result.upper().startswith("PROBLEM"):
        return f"[bold red]{_text(result)}[/]"
    return _text(result)


def _settings_cell(mapping: LiveMapping | None) -> str:
    if mapping is None:
        return DASH
    retries = _forever(mapping.maximum_retry_attempts, sentinel=10000)
    age = _forever(mapping.maximum_record_age_in_seconds, sentinel=604800, duration=True)
    bisect = {True: "bisect", False: "no bisect", None: DASH}[mapping.bisect_batch_on_function_error]
    return f"{_text(mapping.batch_size)} / {retries}\n{age} / {bisect}"


def _forever(value: int | None, *, sentinel: int, duration: bool = False) -> str:
    """-1 (and the old 'forever' read-back sentinel) as ∞; a record age as a short duration."""
    if value is None:
        return DASH
    if value in (-1, sentinel):
        return "∞"
    if duration:
        from datetime import timedelta

        from ddbtrigger.core.timetext import human_duration

        return human_duration(timedelta(seconds=value))
    return str(value)


def _destination_cell(dest: DestinationStatus | None) -> str:
    if dest is None:
        return "[yellow]none[/]"
    if not dest.exists:
        return f"{dest.type}: {_text(dest.name)}\n[red]missing[/]"
    return f"{dest.type}: {_text(dest.name)}\n{_depth_cell(dest)}"


def _depth_cell(dest: DestinationStatus | None) -> str:
    if dest is None or dest.depth is None:
        return DASH
    depth = dest.depth
    style = "bold yellow" if depth.total else "green"
    text = f"[{style}]{depth.visible}[/]"
    if depth.in_flight:
        text += f" [bold yellow]+{depth.in_flight} held[/]"
    return text


def _duration_ms(value: float | None) -> str:
    if value is None:
        return DASH
    from datetime import timedelta

    from ddbtrigger.core.timetext import human_duration

    return human_duration(timedelta(milliseconds=value)) if value >= 1000 else f"{value:.0f} ms"


def draw(console: Console, report: StatusReport, *, wide: bool = False) -> None:
    """Print the table-mode view on ``console`` (used by ``status`` and by the demo), fitted to it."""
    console.print(status_view(report, width=console.width, wide=wide))

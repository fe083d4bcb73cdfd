"""``redrive``: deliver the failed records to the function again; delete each failure only after success.

The command parses options, asks before anything can be deleted, shows a progress bar (failures and
records, rate, ETA) on stderr, and prints the summary table or the JSON document. All the work is in
``usecases.redrive``. Exit 1 when a failure was left failing or expired.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import (
    Workspace,
    YesOpt,
    concurrency_option,
    dry_run_option,
    to_function_option,
)
from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress as RichProgress

    from ddbtrigger.core.redrive import FailureResult, RedriveReport
    from ddbtrigger.errors import DdbtError

PANEL = "Redrive"
STATUS_STYLE = {
    "redriven": "green",
    "failed": "bold red",
    "expired": "red",
    "malformed": "yellow",
    "dry-run": "cyan",
    "delivered-kept": "cyan",
    "not-attempted": "yellow",
}

DryRunOpt = Annotated[
    bool, dry_run_option("Fetch and show the records; invoke nothing, delete nothing.", panel=PANEL)
]
MaxOpt = Annotated[
    int | None,
    typer.Option(
        "--max", min=1, help="Work on at most N failures (the first ones, in order).", rich_help_panel=PANEL
    ),
]
ToFunctionOpt = Annotated[str | None, to_function_option(PANEL)]
ConcurrencyOpt = Annotated[
    int, concurrency_option("Shards worked at once (order within a shard is always kept).", panel=PANEL)
]
KeepGoingOpt = Annotated[
    bool,
    typer.Option(
        "--keep-going",
        help="Also try a shard's later failures when an earlier one still fails.",
        rich_help_panel=PANEL,
    ),
]
DropExpiredOpt = Annotated[
    bool,
    typer.Option(
        "--drop-expired",
        help="Delete failures whose records the stream has trimmed (after delivering "
        "whatever is left of them).",
        rich_help_panel=PANEL,
    ),
]
HandlerOpt = Annotated[
    str | None,
    typer.Option(
        "--handler",
        metavar="MODULE:CALLABLE",
        help="Deliver to a local Python handler (module:callable or "
        "path.py:callable) instead of Lambda, e.g. to debug a poison pill. Keeps the failures unless "
        "--delete-on-success.",
        rich_help_panel=PANEL,
    ),
]
DeleteOnSuccessOpt = Annotated[
    bool,
    typer.Option(
        "--delete-on-success",
        help="With --handler: delete the failures the local handler accepted.",
        rich_help_panel=PANEL,
    ),
]
ReadsOpt = Annotated[
    float,
    typer.Option(
        "--reads-per-second",
        min=0.1,
        max=100,
        help="GetRecords calls per second per shard (the stream "
        "allows about 5 per shard, shared with the mapping).",
        rich_help_panel=PANEL,
    ),
]

HoldOpt = Annotated[
    int,
    typer.Option(
        "--hold-seconds",
        min=5,
        max=43200,
        help="How long the failures stay invisible to other readers without a heartbeat (renewed while "
        "the run lasts); after a killed run they reappear within this time.",
        rich_help_panel=PANEL,
    ),
]


def register(app: typer.Typer) -> None:
    app.command("redrive")(redrive)


@command
def redrive(
    *,
    ws: Workspace,
    dry_run: DryRunOpt = False,
    max_failures: MaxOpt = None,
    to_function: ToFunctionOpt = None,
    concurrency: ConcurrencyOpt = 1,
    keep_going: KeepGoingOpt = False,
    drop_expired: DropExpiredOpt = False,
    handler: HandlerOpt = None,
    delete_on_success: DeleteOnSuccessOpt = False,
    reads_per_second: ReadsOpt = 4.0,
    hold_seconds: HoldOpt = 60,
    yes: YesOpt = False,
    out: Output,
) -> None:
    """Re-deliver the failed records to the function; remove each failure only after it succeeded."""
    from ddbtrigger.core.redrive import RedriveReport
    from ddbtrigger.errors import DdbtError, UsageError
    from ddbtrigger.usecases.redrive import RedriveOptions, open_redrive

    if delete_on_success and not handler:
        raise UsageError(
            "--delete-on-success applies to --handler only (a Lambda redrive always "
            "deletes a failure once delivered)"
        )
    if handler and to_function:
        raise UsageError("give either --handler (a local handler) or --to-function (a Lambda), not both")
    options = RedriveOptions(
        dry_run=dry_run,
        max_failures=max_failures,
        to_function=to_function,
        concurrency=concurrency,
        keep_going=keep_going,
        drop_expired=drop_expired,
        handler=handler,
        delete_on_success=delete_on_success,
        reads_per_second=reads_per_second,
    )
    ws.factory.check_account()  # the environment's account_id guard: leases, deletes and invokes follow
    session = None
    try:
        with open_redrive(
            ws.factory, ws.triggers, options, warn=out.warn, hold_seconds=hold_seconds
        ) as session:
            if session.total and _may_delete(options):
                out.confirm(_question(session.total, session.triggers, options), yes=yes)
            with progress_bar(out, enabled=handler is None) as bar:  # no redraws over a debugger
                report = session.run(progress=BarProgress(bar, dry_run=dry_run))
    except KeyboardInterrupt:  # before the run (reading, asking) or while releasing: nothing was done
        report = RedriveReport(held=session.held_elsewhere if session else 0, interrupted=True)
    except DdbtError as e:
        if session is None or session.report is None:
            raise
        _finish(out, session.report, dry_run=dry_run, error=e)
        raise typer.Exit(e.exit_code) from None
    _finish(out, report, dry_run=dry_run)


def _finish(out: Output, report: RedriveReport, *, dry_run: bool, error: DdbtError | None = None) -> None:
    """Print the summary (one JSON document, with ``error`` when the run failed), then exit right:
    130 when interrupted, 1 when something was left failing or held elsewhere (or on ``error``)."""
    from ddbtrigger.errors import OperationIncomplete

    incomplete = report.left_failing or report.held
    if error is None and incomplete and not report.interrupted:
        message = _left_message(report) if report.left_failing else _elsewhere_message(report.held)
        error = OperationIncomplete(message)
    doc = report.as_json()
    if error is not None:
        doc["error"] = {"code": error.code, "message": error.message}
    out.result(doc, lambda console: draw_report(console, report, dry_run=dry_run))
    if report.held and (out.json or report.left_failing):
        out.warn(_elsewhere_message(report.held))
    if report.interrupted:
        out.error_line("interrupted: the summary above is what was done; run redrive again to continue")
        raise typer.Exit(130)
    if error is not None:
        out.error_line(error.message)
        raise typer.Exit(error.exit_code)


def _may_delete(options: Any) -> bool:
    return not options.dry_run and (options.handler is None or options.delete_on_success)


def _question(total: int, triggers: list[str], options: Any) -> str:
    target = (
        f"the local handler {options.handler}"
        if options.handler
        else options.to_function or "each trigger's function"
    )
    return (
        f"Redrive {total} failure(s) of {', '.join(triggers)} to {target}, deleting each failure "
        "once its records are delivered?"
    )


def _left_message(report: RedriveReport) -> str:
    doc = report.as_json()
    return (
        f"{doc['failed']} failure(s) still failing, {doc['not_attempted']} not attempted and "
        f"{doc['expired'] - report.dropped_expired} expired were left in the destination; see the "
        "summary above"
    )


def progress_bar(out: Output, *, enabled: bool = True) -> RichProgress:
    """Failures and records: done/total, rate, elapsed, ETA; on stderr, hidden when it is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        Task,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.1f}/s" if speed else "–/s", style="progress.data.speed")

    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<8}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=out.err,
        transient=True,
        disable=not (enabled and out.err.is_terminal),
    )


def _elsewhere_message(count: int) -> str:
    return (
        f"{count} failure(s) are held invisible by another reader (an inspect-dlq or redrive that is "
        "running, or was killed less than its --hold-seconds ago) and were not redriven; run redrive "
        "again once they are visible"
    )


class BarProgress:
    """The use case's progress callbacks drawn as two rich bars: failures and records."""

    def __init__(self, bar: RichProgress, *, dry_run: bool) -> None:
        self.bar = bar
        self.verb = "fetched" if dry_run else "redriven"
        self.lock = threading.Lock()
        self.failures = bar.add_task("failures", total=None)
        self.records = bar.add_task("records", total=None)

    def start(self, failures: int, records: int) -> None:
        self.bar.update(self.failures, total=failures)
        self.bar.update(self.records, total=records)

    def advance(self, result: FailureResult, records: int) -> None:
        with self.lock:
            self.bar.advance(self.failures, 1)
            self.bar.advance(self.records, max(records, 0))


ID_WIDTH = 16
"""Ids in the table are shortened to this (the stacked layout and JSON show them whole)."""
DETAIL_MIN = 30
"""The detail column needs this much room, else the summary is stacked: words are never broken."""


def draw_report(console: Console, report: RedriveReport, *, dry_run: bool) -> None:
    """The summary table (stacked when the terminal is narrow), the totals, and what to do next."""
    if report.results:
        title = "Redrive" + (" (dry run)" if dry_run else "")
        if console.width < _table_width(report) + DETAIL_MIN:
            draw_stacked(console, report, title)
        else:
            console.print(summary_table(report, title))
    for line in _fit(summary_line(report).split(" · "), console.width):
        console.print(line)
    for line in next_steps(report, dry_run=dry_run):
        console.print(line)


def _table_width(report: RedriveReport) -> int:
    """What every column but the detail takes (cells plus two spaces of padding each)."""
    trigger = max(len("trigger"), *(len(r.trigger) for r in report.results))
    status = max(len(r.status.value) for r in report.results)
    return ID_WIDTH * 2 + trigger + max(status, 6) + len("records") + 2 * 6


def summary_table(report: RedriveReport, title: str) -> Any:
    """One row per failure; light borders, ids shortened, status and counts never wrapped."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("failure", "trigger", "shard", "status", "records", "detail"):
        table.add_column(
            col,
            justify="right" if col == "records" else "left",
            no_wrap=col in ("failure", "shard", "status", "records"),
            min_width=len(col),
            overflow="fold",
        )
    for r in report.results:
        style = STATUS_STYLE.get(r.status.value, "")
        table.add_row(
            _short(r.id, ID_WIDTH),
            escape(r.trigger),
            _short(r.shard_id or "–", ID_WIDTH),
            f"[{style}]{r.status.value}[/]",
            str(r.records),
            escape(r.error or ""),
        )
    return table


def draw_stacked(console: Console, report: RedriveReport, title: str) -> None:
    """Each failure as a short block: status and full id, then where it came from, then the detail."""
    from rich.markup import escape

    console.print(title)
    for r in report.results:
        style = STATUS_STYLE.get(r.status.value, "")
        console.print(f"[{style}]{r.status.value}[/] {escape(r.id)}")
        where = f"{escape(r.trigger)} · shard {escape(r.shard_id or '–')} · {r.records} records"
        console.print(f"  {where}")
        if r.error:
            console.print(f"  {escape(r.error)}")


def summary_line(report: RedriveReport) -> str:
    """The counts, each its own number: they add up to the failures listed (plus those held)."""
    doc = report.as_json()
    parts = [f"redriven {doc['redriven']} ({doc['records']} records)", f"failed {doc['failed']}"]
    optional = (
        ("delivered_kept", "delivered, kept"),
        ("not_attempted", "not attempted"),
        ("dry_run", "dry run"),
    )
    parts += [f"{label} {doc[key]}" for key, label in optional if doc[key]]
    dropped = report.dropped_expired
    parts.append(f"expired {doc['expired']}" + (f" ({dropped} dropped)" if dropped else ""))
    parts.append(f"malformed {doc['malformed']}")
    if report.held:
        parts.append(f"held elsewhere {report.held}")
    if report.interrupted:
        parts.append("interrupted")
    return " · ".join(parts)


def _fit(parts: list[str], width: int) -> list[str]:
    """Join the counts with " · " into lines of at most ``width``; a count is never split."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return lines


def next_steps(report: RedriveReport, *, dry_run: bool) -> list[str]:
    """One line per thing the operator should know or do next; each one true of this run."""
    doc, lines = report.as_json(), []
    if report.held:
        lines.append(f"{report.held} failure(s) in flight elsewhere were not seen; run again once visible")
    elif not report.results and not report.interrupted:
        lines.append("nothing to redrive: the failure destination is empty")
    if report.interrupted:
        lines.append("interrupted: failures not attempted are still in the destination; run redrive again")
    if report.possible_duplicates:
        lines.append(
            f"note: {report.possible_duplicates} record(s) beyond the failed batches were in their "
            "ranges and were delivered too (possible duplicates)"
        )
    if dry_run and report.results:
        lines.append("dry run: nothing was invoked or deleted; run again without --dry-run to redrive")
    lines.extend(_hints(report, doc))
    return lines


def _hints(report: RedriveReport, doc: dict[str, Any]) -> list[str]:
    lines = []
    if doc["failed"]:
        lines.append(
            "still failing: fix the function (try `ddbtrigger redrive --handler module:fn "
            "--max 1` to debug locally), then run redrive again"
        )
    blocked = sum(
        1 for r in report.results if r.status.value == "not-attempted" and "--keep-going" in (r.error or "")
    )
    if blocked:
        lines.append(
            f"not attempted: {blocked} later failure(s) wait behind a failing one of their shard "
            "(order is kept); fix it first, or pass --keep-going"
        )
    if doc["delivered_kept"]:
        lines.append(
            "delivered, kept: the local handler accepted them and the failures stay; pass "
            "--delete-on-success to remove them"
        )
    if doc["expired"] - report.dropped_expired:
        lines.append(
            "expired: the stream no longer holds those records; after recording them, remove "
            "them with --drop-expired"
        )
    if doc["malformed"]:
        lines.append(
            "malformed messages are not failure records and were kept; inspect them with "
            "`ddbtrigger inspect-dlq`"
        )
    return lines


def _short(text: str, width: int = 24) -> str:
    head = (width - 1) // 2
    return text if len(text) <= width else text[:head] + "…" + text[-(width - 1 - head) :]

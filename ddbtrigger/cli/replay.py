"""``replay``: deliver a time window's records to the function again, in order, resumably.

The command parses options, reads what would be sent, asks (how many records; the function must be
idempotent), runs the replay and prints the summary (a table, or one JSON document). Exit 1 when a
record was left undelivered, 130 when interrupted (the summary says ``"interrupted": true``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import Workspace, YesOpt, concurrency_option, dry_run_option, to_function_option
from ddbtrigger.cli.render import Output
from ddbtrigger.cli.stream_options import EventOpt, FilterOpt, KeyOpt, SinceOpt, UntilOpt, parse

if TYPE_CHECKING:
    from rich.console import Console

    from ddbtrigger.usecases.replay import ReplayReport

PANEL = "Replay"


class Engine(StrEnum):
    local = "local"
    function = "lambda"


ToFunctionOpt = Annotated[str | None, to_function_option(PANEL)]
DryRunOpt = Annotated[bool, dry_run_option("List what would be delivered; invoke nothing.", panel=PANEL)]
EngineOpt = Annotated[
    Engine,
    typer.Option(
        "--engine",
        help="local: deliver from this machine with a checkpoint file; lambda: a temporary mapping does "
        "it at full shard parallelism and is removed once past --until.",
        case_sensitive=False,
        rich_help_panel=PANEL,
    ),
]
CheckpointOpt = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        metavar="FILE",
        help="Where a local replay keeps its progress (default: a file named after the trigger and the "
        "window, under .ddbtrigger/ in the working directory); a rerun resumes from it.",
        rich_help_panel=PANEL,
    ),
]
ConcurrencyOpt = Annotated[
    int,
    concurrency_option(
        "Shards delivered at once, each once its parent is done (order within one is kept).", panel=PANEL
    ),
]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=1,
        help="--engine lambda: seconds to wait for the mapping to pass --until.",
        rich_help_panel=PANEL,
    ),
]


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)


@command
def replay(
    *,
    ws: Workspace,
    since: SinceOpt = None,
    until: UntilOpt = None,
    event: EventOpt = None,
    key: KeyOpt = None,
    filter: FilterOpt = None,
    to_function: ToFunctionOpt = None,
    dry_run: DryRunOpt = False,
    engine: EngineOpt = Engine.local,
    checkpoint: CheckpointOpt = None,
    concurrency: ConcurrencyOpt = 4,
    timeout: TimeoutOpt = 900,
    yes: YesOpt = False,
    out: Output,
) -> None:
    """Deliver the records of a time window again (in Lambda's event shape, in order per shard, in the
    mapping's batches); the function must be idempotent."""
    from ddbtrigger.errors import UsageError

    if since is None:
        raise UsageError("--since is required: the start of the window to replay")
    selection = parse(since=since, until=until, events=event, keys=key, filters=filter)
    if engine is Engine.function:
        if checkpoint is not None:
            raise UsageError("--checkpoint applies to --engine local (a mapping keeps its own position)")
        from ddbtrigger.cli.replay_lambda import run_lambda

        run_lambda(ws, selection, out, to_function=to_function, dry_run=dry_run, yes=yes, timeout=timeout)
        return
    _run_local(
        ws,
        selection,
        out,
        to_function=to_function,
        dry_run=dry_run,
        yes=yes,
        checkpoint=checkpoint,
        concurrency=concurrency,
    )


def _run_local(
    ws: Workspace,
    selection: Any,
    out: Output,
    *,
    to_function: str | None,
    dry_run: bool,
    yes: bool,
    checkpoint: Path | None,
    concurrency: int,
) -> None:
    from ddbtrigger.usecases.replay import ReplayFailed
    from ddbtrigger.usecases.replay_session import open_replay

    if not dry_run:
        ws.factory.check_account()  # the environment's account_id guard: invokes follow
    session = open_replay(
        ws.factory, ws.triggers, selection, to_function=to_function, checkpoint_path=checkpoint
    )
    if dry_run:
        _list(out, session)
    elif session.pending:
        out.confirm(_question(session), yes=yes)
    try:
        report = session.run(dry_run=dry_run, concurrency=concurrency)
    except ReplayFailed as e:
        _finish(out, e.report, error=e.error)
        return
    _finish(out, report)


def _question(session: Any) -> str:
    skipped = (
        f" ({session.skipped} already delivered per the checkpoint are skipped)" if session.skipped else ""
    )
    return (
        f"Replay {session.pending} record(s) of {session.target.name} ({session.selection.window.describe()}) "
        f"to {session.function}{skipped}? The function receives them again: it must be idempotent."
    )


def _list(out: Output, session: Any) -> None:
    """--dry-run: what would go, one line per record on stderr (the summary stays the result)."""
    if out.json:
        return
    for chain in session.chains:
        for shard in chain:
            for r in shard.records:
                d = r["dynamodb"]
                out.err.print(
                    f"would deliver {shard.shard_id} {d['SequenceNumber']} {r.get('eventName')} {d.get('Keys')}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )


def _finish(out: Output, report: ReplayReport, *, error: BaseException | None = None) -> None:
    from ddbtrigger.errors import DdbtError

    doc = report.as_json()
    if isinstance(error, DdbtError):
        doc["error"] = {"code": error.code, "message": error.message}
    elif error is not None:
        doc["error"] = {"code": "internal", "message": str(error)}
    out.result(doc, lambda console: draw(console, report))
    if report.interrupted:
        out.error_line("interrupted: the summary above is what was done; run replay again to continue")
        raise typer.Exit(130)
    if error is not None:
        out.error_line(doc["error"]["message"])
        raise typer.Exit(getattr(error, "exit_code", 1))
    if report.left and not report.dry_run:
        out.error_line(
            f"{report.left} record(s) were not delivered; fix the cause and run replay again (the checkpoint resumes)"
        )
        raise typer.Exit(1)


def draw(console: Console, report: ReplayReport) -> None:
    doc = report.as_json()
    title = "Replay" + (" (dry run)" if report.dry_run else "")
    console.print(f"{title} of {report.trigger} to {report.function}, window {report.window}")
    for s in doc["shards"]:
        detail = f"  {s['error']}" if s["error"] else ""
        console.print(
            f"  {s['shard_id']}: delivered {s['delivered']} · failed {s['failed']} · not attempted "
            f"{s['not_attempted']} · skipped {s['skipped_by_checkpoint']}{detail}",
            markup=False,
        )
    verb = "would deliver" if report.dry_run else "delivered"
    count = doc["not_attempted"] if report.dry_run else doc["delivered"]
    console.print(
        f"{verb} {count} · failed {doc['failed']} · not attempted {0 if report.dry_run else doc['not_attempted']} · "
        f"skipped by checkpoint {doc['skipped_by_checkpoint']} · {doc['invokes']} invokes"
        + (" · interrupted" if report.interrupted else ""),
        markup=False,
    )
    if report.checkpoint_kept:
        console.print(
            f"checkpoint kept in {report.checkpoint}: run the same replay again to resume", markup=False
        )

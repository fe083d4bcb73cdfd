"""``replay --engine lambda``: a temporary mapping replays the window (``usecases.replay_lambda``).

Parse is done by ``cli.replay``; here: prepare (reads only, refusals), confirm, run with a progress
line on stderr, print the summary (a table or one JSON document). Exit 0 once the mapping read past
``--until`` and was removed; 1 on a timeout or error (the mapping is removed all the same); 130 on
Ctrl-C (removed too); 2 when refused before anything was created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
    from rich.console import Console

    from ddbtrigger.usecases.replay_lambda import LambdaReplayPlan, LambdaReplayReport


def run_lambda(
    ws: Any, selection: Any, out: Output, *, to_function: str | None, dry_run: bool, yes: bool, timeout: float
) -> None:
    from ddbtrigger.usecases.replay_lambda import Runner, aws_gateway, prepare

    if not dry_run:
        ws.factory.check_account()  # the environment's account_id guard: a mapping is created
    gateway = aws_gateway(ws.factory)
    plan = prepare(ws.factory, ws.triggers, selection, gateway, to_function=to_function)
    if not dry_run:
        out.confirm(_question(plan), yes=yes)

    def say(message: str) -> None:
        out.err.print(message, markup=False, highlight=False, soft_wrap=True)

    report = Runner(gateway, say=say).run(plan, timeout=timeout, dry_run=dry_run)
    _finish(out, report)


def _question(plan: LambdaReplayPlan) -> str:
    return (
        f"Replay {plan.target.name} through {plan.describe()}? Every record of the window still in the "
        f"stream is delivered again (how many is known only once the mapping has read the stream): the "
        f"function must be idempotent. The mapping is removed once past --until."
    )


def _finish(out: Output, report: LambdaReplayReport) -> None:
    doc = report.as_json()
    if report.error is not None:
        doc["error"] = {"code": report.error.code, "message": report.error.message}
    out.result(doc, lambda console: draw(console, report))
    if report.interrupted:
        out.error_line(
            "interrupted: the replay mapping was removed; records of the window may be undelivered"
        )
        raise typer.Exit(130)
    if report.error is not None:
        out.error_line(report.reason or report.error.message)
        raise typer.Exit(report.error.exit_code)


def draw(console: Console, report: LambdaReplayReport) -> None:
    title = "Replay (lambda engine" + (", dry run)" if report.dry_run else ")")
    console.print(f"{title} of {report.trigger} to {report.function}, window {report.window}", markup=False)
    if report.dry_run:
        for f in report.as_json()["filters"]:
            console.print(f"  filter {f['Pattern']}", markup=False, soft_wrap=True)
        console.print("would create a temporary mapping from TRIM_HORIZON; nothing was created", markup=False)
        return
    removed = "removed" if report.removed else "NOT removed"
    console.print(
        f"  mapping {report.mapping_uuid} ({removed}) · {report.shards_past}/{report.shards} shard(s) past "
        f"--until · {report.seconds:.1f}s · {report.reason}",
        markup=False,
        soft_wrap=True,
    )

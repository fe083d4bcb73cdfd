"""``plan``, ``apply`` and ``destroy``: parse options, call ``usecases.provision``, render.

The plan is drawn as one coloured diff table per trigger, with the defaults the tool filled in and the
lint findings (silenced ones included). ``apply`` and ``destroy`` draw the same plan, ask (unless
``--yes``), then run it with a spinner per resource on stderr.
"""

from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import SpecWorkspace, StrictOpt, TimeoutOpt, YesOpt
from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rich.console import Console

    from ddbtrigger.core.plan import Change, Plan
    from ddbtrigger.usecases.provision import PlanResult

R = TypeVar("R", bound="PlanResult | None")  # what a plan was made from: apply's PlanResult, destroy's None
ACTION_STYLE = {
    "create": ("+", "green"),
    "update": ("~", "yellow"),
    "replace": ("-/+", "magenta"),
    "delete": ("-", "red"),
    "no-op": ("=", "dim"),
}
DetailedExitOpt = Annotated[
    bool,
    typer.Option(
        "--detailed-exitcode", help="Exit 0 when there is nothing to change, 2 when changes are pending."
    ),
]
AllowReplaceOpt = Annotated[
    bool,
    typer.Option(
        "--allow-replace", help="Allow replacing a mapping (the new one loses the old read position)."
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Delete managed destinations even when they still hold failures.")
]
DisableStreamOpt = Annotated[bool, typer.Option("--disable-stream", help="Also disable the tables' streams.")]


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
    app.command("apply")(apply)
    app.command("destroy")(destroy)


# --- drawing ----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _value(value: Any) -> str:
    import json

    if value is None:
        return "(none)"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value) if isinstance(value, bool) else str(value)


def change_rows(change: Change) -> list[tuple[str, str, str]]:
    """One change: its resource and action once, a ``field: old → new`` line per field, the reason,
    then its warnings."""
    symbol, style = ACTION_STYLE[change.action]
    head: tuple[str, str] = (change.resource, f"[{style}]{symbol} {change.action}[/]")
    lines = [f"[bold]{escape(change.name)}[/]"] if change.name else []  # which alarm
    for name, (old, new) in change.diff.items():
        new_text = f"[green]{escape(_value(new))}[/]"
        lines.append(
            f"{name}: {new_text}"
            if change.action == "create"
            else f"{name}: [red]{escape(_value(old))}[/] → {new_text}"
        )
    lines.append(f"[dim]{escape(change.reason)}[/]")
    lines += [f"[yellow]warning:[/] {escape(w)}" for w in change.warnings]
    return [(*(head if i == 0 else ("", "")), line) for i, line in enumerate(lines)]


def changed_triggers(the_plan: Plan) -> list[str]:
    """Triggers with at least one pending change, in plan order."""
    return list(dict.fromkeys(c.trigger for c in the_plan.pending))


def plan_tables(the_plan: Plan, defaults: dict[str, dict[str, Any]] | None = None) -> list[Any]:
    """A table per trigger that changes, with only its pending changes (one row group per resource)."""
    from rich.table import Table

    tables: list[Any] = []
    for trigger in changed_triggers(the_plan):
        table = Table(title=f"trigger {trigger}", title_justify="left", show_lines=False)
        table.add_column("resource", no_wrap=True)
        table.add_column("action", no_wrap=True)
        table.add_column("change", overflow="fold", ratio=1)
        for change in (c for c in the_plan.pending if c.trigger == trigger):
            for row in change_rows(change):
                table.add_row(*row)
        tables.append(table)
        filled = (defaults or {}).get(trigger)
        if filled:
            tables.append(
                "[dim]defaults filled in: " + ", ".join(f"{k}={_value(v)}" for k, v in filled.items()) + "[/]"
            )
    return tables


def _triggers(n: int) -> str:
    return f"{n} trigger{'' if n == 1 else 's'}"


def summary_line(the_plan: Plan) -> str:
    """Terraform's last line: the counts, or "No changes." and how many triggers are up to date."""
    s = the_plan.summary()
    everyone = len(dict.fromkeys(c.trigger for c in the_plan.changes))
    if not the_plan.pending:
        return f"[green]No changes.[/] {_triggers(everyone)} up to date."
    unchanged = everyone - len(changed_triggers(the_plan))
    rest = f" {_triggers(unchanged)} up to date." if unchanged else ""
    return (
        f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
        f"{s['delete']} to delete.{rest}"
    )


def draw_plan(console: Console, result: PlanResult | None, the_plan: Plan) -> None:
    for item in plan_tables(the_plan, result.defaults if result else None):
        console.print(item)
    # A no-op plan is one line: silenced findings are only worth showing next to changes.
    findings = [f for f in (result.findings if result else []) if the_plan.pending or not f.silenced]
    if findings:
        from ddbtrigger.cli.validate import findings_table

        console.print(findings_table(findings))
    console.print(summary_line(the_plan))


@contextmanager
def spinners(out: Output) -> Iterator[Any]:
    """A spinner per resource on stderr while the executor runs (plain lines without a terminal)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ddbtrigger.usecases.provision import change_label

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=out.err,
        transient=False,
        disable=not out.err.is_terminal,
    )
    tasks: dict[int, Any] = {}
    lock = threading.Lock()  # the executor's lanes report from several threads

    def report(change: Change, message: str) -> None:
        with lock:
            _report(change, message)

    def _report(change: Change, message: str) -> None:
        key, label = id(change), change_label(change)
        if message == "start":
            tasks[key] = progress.add_task(label, total=1)
            return
        if message in ("done", "failed"):
            mark = "[green]✓[/]" if message == "done" else "[red]✗[/]"
            progress.update(tasks[key], description=f"{mark} {label}", completed=1)
            if not out.err.is_terminal and not out.json:
                out.info(f"{mark} {label}")
            return
        progress.update(tasks[key], description=f"{label}: {message}")

    with progress:
        yield report


# --- commands ---------------------------------------------------------------------------------------


@command
def plan(
    *,
    ws: SpecWorkspace,
    out: Output,
    detailed_exitcode: DetailedExitOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Compare the spec with what is live and print the changes. Changes nothing.

    With --env all, every environment is planned at once and reported under its name; with
    --detailed-exitcode the exit is 2 when any has changes (1 when any could not be planned).
    """
    from ddbtrigger.usecases.provision import make_plan, refuse_lint

    if ws.all_environments:
        plan_every_environment(ws, out, detailed_exitcode=detailed_exitcode, strict=strict)
        return
    result = make_plan(ws.factory, ws.spec, ws.triggers)
    if out.json:  # one document on stdout: the refusal's error document, or the plan
        refuse_lint(result.findings, strict=strict)
    out.result(result.as_json(), lambda console: draw_plan(console, result, result.plan))
    refuse_lint(result.findings, strict=strict)
    if detailed_exitcode and result.plan.pending:
        raise typer.Exit(2)


@command
def apply(
    *,
    ws: SpecWorkspace,
    out: Output,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 600.0,
    allow_replace: AllowReplaceOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Make live AWS match the spec, in a safe order, waiting for each resource to settle."""
    from ddbtrigger.usecases.provision import make_plan, refuse_lint, refuse_replace

    def make() -> tuple[PlanResult, Plan]:
        result = make_plan(ws.factory, ws.spec, ws.triggers)
        return result, result.plan

    def vet(result: PlanResult, _: Plan) -> None:
        refuse_lint(result.findings, strict=strict)
        refuse_replace(result, allow_replace=allow_replace)

    def ask(the_plan: Plan) -> None:
        out.confirm(f"Apply {len(the_plan.pending)} change(s)?", yes=yes)

    _carry_out(ws, out, make, vet=vet, ask=ask, timeout=timeout, verb="applied")


@command
def destroy(
    *,
    ws: SpecWorkspace,
    out: Output,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 600.0,
    force: ForceOpt = False,
    disable_stream: DisableStreamOpt = False,
) -> None:
    """Delete the mappings and the managed (empty, unless --force) destinations of the selected triggers."""
    from ddbtrigger.usecases.provision import make_destroy_plan

    def make() -> tuple[None, Plan]:
        return None, make_destroy_plan(ws.factory, ws.triggers, force=force, disable_stream=disable_stream)[0]

    def vet(_: None, the_plan: Plan) -> None:
        if out.json:
            return
        for change in the_plan.changes:  # what destroy leaves on purpose is worth a line
            if change.action == "no-op" and change.reason.startswith("kept"):
                out.out.print(f"[yellow]{change.trigger}: {change.resource} {escape(change.reason)}[/]")

    def ask(the_plan: Plan) -> None:
        if not confirm_failures_deleted(out, the_plan, yes=yes):
            out.confirm(f"Destroy {len(the_plan.pending)} resource(s)?", yes=yes)

    _carry_out(ws, out, make, vet=vet, ask=ask, timeout=timeout, verb="destroyed")


def _carry_out(
    ws: SpecWorkspace,
    out: Output,
    make: Callable[[], tuple[R, Plan]],
    *,
    vet: Callable[[R, Plan], None],
    ask: Callable[[Plan], None],
    timeout: float,
    verb: str,
) -> None:
    """The one flow of ``apply`` and ``destroy``: the environment's account_id guard before anything is
    read or asked; the plan ``make`` builds, drawn for people; ``vet`` (refusals, notes) once it is
    shown; ``ask`` when anything is pending; then the plan run with spinners, reported as ``verb``."""
    from ddbtrigger.usecases.provision import execute

    ws.factory.check_account()
    result, the_plan = make()
    if not out.json:
        draw_plan(out.out, result, the_plan)
    vet(result, the_plan)
    done: list[Change] = []
    if the_plan.pending:
        ask(the_plan)
        with spinners(out) as report:
            done = execute(ws.factory, the_plan, timeout=timeout, progress=report)
    _finish(out, the_plan, done, verb=verb)


def plan_every_environment(ws: SpecWorkspace, out: Output, *, detailed_exitcode: bool, strict: bool) -> None:
    """``plan --env all``: each environment planned in parallel with its own connection; tables under
    one heading per environment, JSON keyed by environment. A lint refusal or an AWS error is that
    environment's error; the others are still shown. Exit 1 if any errored, else 2 (with
    ``--detailed-exitcode``) if any has changes."""
    from ddbtrigger.usecases.every_env import for_each
    from ddbtrigger.usecases.provision import make_plan, refuse_lint

    def one(opened: Any) -> PlanResult:
        result = make_plan(opened.factory, opened.spec, opened.triggers)
        refuse_lint(result.findings, strict=strict)
        return result

    outcomes = for_each(ws.every(), one)
    document = {
        "environments": {
            env: o.value.as_json() if o.value is not None else o.error_json() for env, o in outcomes.items()
        }
    }

    def draw(console: Console) -> None:
        for env, o in outcomes.items():
            console.rule(f"environment {env}", align="left")
            if o.value is not None:
                draw_plan(console, o.value, o.value.plan)
            elif o.error is not None:
                console.print(f"[red]error:[/] {escape(o.error.message)}")
                for line in o.error.details:
                    console.print(f"  {escape(line)}")

    out.result(document, draw)
    if any(o.error is not None for o in outcomes.values()):
        raise typer.Exit(1)
    if detailed_exitcode and any(o.value is not None and o.value.plan.pending for o in outcomes.values()):
        raise typer.Exit(2)


def confirm_failures_deleted(out: Output, the_plan: Plan, *, yes: bool) -> bool:
    """``destroy --force`` on destinations that still hold failures: say how many it deletes, per
    destination, and have that number typed back (``--yes``: only say it, on stderr). False when
    there are none (the usual yes/no question applies)."""
    from ddbtrigger.core.plan import failures_deleted
    from ddbtrigger.errors import UsageError

    doomed = failures_deleted(the_plan)
    if not doomed:
        return False
    total = sum(doomed.values())
    where = ", ".join(f"{n} in {dest}" for dest, n in doomed.items())
    out.warn(f"destroy --force deletes {total} failure(s) with their destinations: {where}")
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            f"refusing to delete {total} failure(s) without confirmation: no terminal; pass --yes"
        )
    typed = typer.prompt(f"Type {total} to delete them and destroy", default="", show_default=False, err=True)
    if typed.strip() != str(total):
        raise UsageError(f"cancelled ({typed.strip() or 'nothing'} typed, not {total}); nothing was changed")
    return True


def _finish(out: Output, the_plan: Plan, done: list[Change], *, verb: str) -> None:
    if out.json:
        out.result({**the_plan.as_json(), verb: [c.as_json() for c in done]})
    elif done:
        out.info(f"[green]✓[/] {len(done)} change(s) {verb}")

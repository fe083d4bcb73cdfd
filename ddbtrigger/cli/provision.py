"""``plan``, ``apply`` and ``destroy``: parse options, call ``usecases.provision``, render.

The plan is drawn as one coloured diff table per trigger, with the defaults the tool filled in and the
lint findings (silenced ones included). ``apply`` and ``destroy`` draw the same plan, ask (unless
``--yes``), then run it with a spinner per resource on stderr.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import (
    DEFAULT_SPEC,
    EndpointOpt,
    FileOpt,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    StrictOpt,
    TimeoutOpt,
    TriggerOpt,
    YesOpt,
)
from ddbtrigger.cli.render import Output, OutputFormat

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.plan import Change, Plan
    from ddbtrigger.core.spec import Spec, TriggerSpec
    from ddbtrigger.usecases.provision import PlanResult

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


def _setup(
    file: Path, trigger: list[str] | None, profile: str | None, region: str | None, endpoint_url: str | None
) -> tuple[Spec, list[TriggerSpec], ClientFactory]:
    from ddbtrigger.usecases.spec_file import open_workspace

    ws = open_workspace(file, trigger, profile=profile, region=region, endpoint_url=endpoint_url)
    return ws.spec, ws.triggers, ws.factory


# --- drawing ----------------------------------------------------------------------------------------


def _value(value: Any) -> str:
    import json

    if value is None:
        return "(none)"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return json.dumps(value) if isinstance(value, bool) else str(value)


def change_rows(change: Change) -> list[tuple[str, str, str, str]]:
    symbol, style = ACTION_STYLE[change.action]
    head = f"[{style}]{symbol} {change.action}[/]"
    if not change.diff:
        return [(change.resource, head, "", f"[dim]{change.reason}[/]")]
    rows: list[tuple[str, str, str, str]] = []
    for index, (name, (old, new)) in enumerate(change.diff.items()):
        arrow = (
            f"[red]{_value(old)}[/] → [green]{_value(new)}[/]"
            if change.action != "create"
            else f"[green]{_value(new)}[/]"
        )
        rows.append((change.resource if index == 0 else "", head if index == 0 else "", name, arrow))
    rows.append(("", "", "", f"[dim]{change.reason}[/]"))
    return rows


def plan_tables(the_plan: Plan, defaults: dict[str, dict[str, Any]] | None = None) -> list[Any]:
    from rich.table import Table

    tables: list[Any] = []
    for trigger in dict.fromkeys(c.trigger for c in the_plan.changes):
        table = Table(title=f"trigger {trigger}", title_justify="left", show_lines=False)
        for col in ("resource", "action", "field", "change"):
            table.add_column(col, overflow="fold")
        for change in (c for c in the_plan.changes if c.trigger == trigger):
            for row in change_rows(change):
                table.add_row(*row)
        tables.append(table)
        filled = (defaults or {}).get(trigger)
        if filled:
            tables.append(
                "[dim]defaults filled in: " + ", ".join(f"{k}={_value(v)}" for k, v in filled.items()) + "[/]"
            )
    return tables


def summary_line(the_plan: Plan) -> str:
    s = the_plan.summary()
    if not the_plan.pending:
        return "[green]No changes.[/] Live state matches the spec."
    return (
        f"Plan: {s['create']} to create, {s['update']} to update, {s['replace']} to replace, "
        f"{s['delete']} to delete ({s['no-op']} unchanged)."
    )


def draw_plan(console: Console, result: PlanResult | None, the_plan: Plan) -> None:
    for item in plan_tables(the_plan, result.defaults if result else None):
        console.print(item)
    if result is not None and result.findings:
        from ddbtrigger.cli.validate import findings_table

        console.print(findings_table(result.findings))
    console.print(summary_line(the_plan))


@contextmanager
def spinners(out: Output) -> Iterator[Any]:
    """A spinner per resource on stderr while the executor runs (plain lines without a terminal)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ddbtrigger.aws.executor import describe

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=out.err,
        transient=False,
        disable=not out.err.is_terminal,
    )
    tasks: dict[int, Any] = {}

    def report(change: Change, message: str) -> None:
        key, label = id(change), describe(change)
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
    file: FileOpt = DEFAULT_SPEC,
    trigger: TriggerOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    output: OutputOpt = OutputFormat.table,
    detailed_exitcode: DetailedExitOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Compare the spec with what is live and print the changes. Changes nothing."""
    from ddbtrigger.usecases.provision import make_plan, refuse_lint

    out = Output(format=output)
    spec, selected, factory = _setup(file, trigger, profile, region, endpoint_url)
    result = make_plan(factory, spec, selected)
    if out.json:  # one document on stdout: the refusal's error document, or the plan
        refuse_lint(result.findings, strict=strict)
    out.result(result.as_json(), lambda console: draw_plan(console, result, result.plan))
    refuse_lint(result.findings, strict=strict)
    if detailed_exitcode and result.plan.pending:
        raise typer.Exit(2)


@command
def apply(
    file: FileOpt = DEFAULT_SPEC,
    trigger: TriggerOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    output: OutputOpt = OutputFormat.table,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 600.0,
    allow_replace: AllowReplaceOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Make live AWS match the spec, in a safe order, waiting for each resource to settle."""
    from ddbtrigger.usecases.provision import execute, make_plan, refuse_lint, refuse_replace

    out = Output(format=output)
    spec, selected, factory = _setup(file, trigger, profile, region, endpoint_url)
    result = make_plan(factory, spec, selected)
    if not out.json:
        draw_plan(out.out, result, result.plan)
    refuse_lint(result.findings, strict=strict)
    refuse_replace(result, allow_replace=allow_replace)
    done: list[Change] = []
    if result.plan.pending:
        out.confirm(f"Apply {len(result.plan.pending)} change(s)?", yes=yes)
        with spinners(out) as report:
            done = execute(factory, result.plan, timeout=timeout, progress=report)
    _finish(out, result.plan, done, verb="applied")


@command
def destroy(
    file: FileOpt = DEFAULT_SPEC,
    trigger: TriggerOpt = None,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    output: OutputOpt = OutputFormat.table,
    yes: YesOpt = False,
    timeout: TimeoutOpt = 600.0,
    force: ForceOpt = False,
    disable_stream: DisableStreamOpt = False,
) -> None:
    """Delete the mappings and the managed (empty, unless --force) destinations of the selected triggers."""
    from ddbtrigger.usecases.provision import execute, make_destroy_plan

    out = Output(format=output)
    _, selected, factory = _setup(file, trigger, profile, region, endpoint_url)
    the_plan, _ = make_destroy_plan(factory, selected, force=force, disable_stream=disable_stream)
    if not out.json:
        draw_plan(out.out, None, the_plan)
    done: list[Change] = []
    if the_plan.pending:
        out.confirm(f"Destroy {len(the_plan.pending)} resource(s)?", yes=yes)
        with spinners(out) as report:
            done = execute(factory, the_plan, timeout=timeout, progress=report)
    _finish(out, the_plan, done, verb="destroyed")


def _finish(out: Output, the_plan: Plan, done: list[Change], *, verb: str) -> None:
    if out.json:
        out.result({**the_plan.as_json(), verb: [c.as_json() for c in done]})
    elif done:
        out.info(f"[green]✓[/] {len(done)} change(s) {verb}")

"""``validate`` and ``schema``: the spec alone, no AWS calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import SpecChoice, StrictOpt
from ddbtrigger.cli.render import Output, OutputFormat
from ddbtrigger.errors import DdbtError, LintError, SpecError

if TYPE_CHECKING:
    from rich.console import Console

    from ddbtrigger.core.lint import Finding

LEVEL_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def findings_table(findings: list[Finding]) -> Any:
    from rich.table import Table

    table = Table(title="Lint findings", title_justify="left", show_lines=False)
    for col in ("code", "level", "trigger", "finding"):
        table.add_column(col)
    for f in findings:
        level = f"[{LEVEL_STYLE[f.level]}]{f.level}[/]" + (" (silenced)" if f.silenced else "")
        table.add_row(f.code, level, f.trigger, f.message)
    return table


def register(app: typer.Typer) -> None:
    app.command("validate")(validate)
    app.command("schema")(schema)


@command
def validate(*, choice: SpecChoice, strict: StrictOpt = False, out: Output) -> None:
    """Parse and check the spec and run the lint rules. Makes no AWS call.

    Exit 0 when the spec is usable, 2 when it is invalid or a lint error (any warning too, with
    --strict) refuses it. With --output json the document always has "valid", "errors" and "findings";
    a refused spec also carries the usual "error" object.
    """
    from ddbtrigger.core.impact import impact_line, trigger_impact
    from ddbtrigger.core.lint import blocking, lint
    from ddbtrigger.usecases.spec_file import read_spec, select_triggers

    file = choice.file
    try:
        spec = read_spec(file)
    except SpecError as e:
        if not out.json:
            raise
        _refuse_json(out, e, [], e.details or [e.message])
    selected = select_triggers(spec, choice.trigger)
    findings = lint(spec, selected)
    impacts = [(t.name, trigger_impact(t)) for t in selected]
    refused = blocking(findings, strict=strict)
    errors = [f"{f.trigger}: {f.code}: {f.message}" for f in refused]
    findings_json = [f.as_json() for f in findings]
    document = {
        "valid": not refused,
        "errors": errors,
        "findings": findings_json,
        "triggers": [{"name": name, "impact": impact.as_json()} for name, impact in impacts],
    }

    def draw(console: Console) -> None:
        if findings:
            console.print(findings_table(findings))
        for name, impact in impacts:
            console.print(f"{name}: {impact_line(impact)}")
        console.print(f"{file}: {len(spec.triggers)} trigger(s), {len(findings)} finding(s)")

    if refused:
        error = LintError(
            f"{len(refused)} lint finding(s) refuse the spec" + (" (--strict)" if strict else "")
        )
        if out.json:
            _refuse_json(out, error, findings_json, errors)
        out.result(document, draw)
        raise error
    out.result(document, draw)
    if not out.json:
        out.info(f"[green]✓[/green] {file} is valid")


def _refuse_json(out: Output, error: DdbtError, findings: list[Any], errors: list[str]) -> NoReturn:
    """One JSON document that answers both ``.valid`` and ``.error.code``, then exit 2."""
    out.error_line(error.message, error.details)
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    out.result({"valid": False, "errors": errors, "findings": findings, "error": body})
    raise typer.Exit(error.exit_code)


@command
def schema(
    output: Annotated[
        OutputFormat,
        typer.Option("--output", "-o", help="Always JSON; accepted for symmetry with the other commands."),
    ] = OutputFormat.json,
) -> None:
    """Print the spec's JSON Schema (for editors' YAML language servers)."""
    from ddbtrigger.core.schema import spec_schema

    Output(format=OutputFormat.json).result(spec_schema())

"""``validate`` and ``schema``: the spec alone, no AWS calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import SpecChoice, StrictOpt
from ddbtrigger.cli.render import Output, OutputFormat
from ddbtrigger.errors import DdbtError, LintError, SpecError

if TYPE_CHECKING:
    from rich.console import Console

    from ddbtrigger.core.environments import SpecDocument
    from ddbtrigger.core.lint import Finding
    from ddbtrigger.core.validation import Checked

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
    """Parse and check the spec and run the lint rules (every environment, when it declares some).
    Makes no AWS call.

    Exit 0 when the spec is usable, 2 when it is invalid or a lint error (any warning too, with
    --strict) refuses it. With --output json the document always has "valid", "errors" and "findings";
    a refused spec also carries the usual "error" object, and a spec with environments adds
    "environments": one such document per environment.
    """
    from ddbtrigger.usecases.spec_file import read_document

    file, trigger = choice.file, choice.trigger
    try:
        document = read_document(file)
    except SpecError as e:
        if not out.json:
            raise
        _refuse_json(out, e, {"valid": False, "errors": e.details or [e.message], "findings": []})
    if choice.env is not None:  # checked like every command's (a known name), though all are validated
        from ddbtrigger.core.environments import select_environments

        select_environments(document, choice.env)
    if document.environment_names:
        _validate_environments(out, document, file=file, trigger=trigger, strict=strict)
    else:
        _validate_single(out, document, file=file, trigger=trigger, strict=strict)


def _validate_single(
    out: Output, document: SpecDocument, *, file: Path, trigger: list[str] | None, strict: bool
) -> None:
    from ddbtrigger.core.impact import impact_line
    from ddbtrigger.core.loader import resolve_environment
    from ddbtrigger.core.validation import check_spec
    from ddbtrigger.usecases.spec_file import select_triggers

    try:
        spec = resolve_environment(document, None)
    except SpecError as e:
        if not out.json:
            raise
        _refuse_json(out, e, {"valid": False, "errors": e.details or [e.message], "findings": []})
    select_triggers(spec, trigger)
    checked = check_spec(spec, trigger, strict=strict)

    def draw(console: Console) -> None:
        if checked.findings:
            console.print(findings_table(checked.findings))
        for name, impact in checked.impacts:
            console.print(f"{name}: {impact_line(impact)}")
        console.print(f"{file}: {len(spec.triggers)} trigger(s), {len(checked.findings)} finding(s)")

    _finish(out, checked.as_json(), draw, refused=len(checked.refused), strict=strict, file=file)


def _validate_environments(
    out: Output, document: SpecDocument, *, file: Path, trigger: list[str] | None, strict: bool
) -> None:
    from ddbtrigger.core.validation import check_environments, combined_spec_errors

    checked = check_environments(document, trigger, strict=strict)
    spec_errors = combined_spec_errors(checked)
    result: dict[str, Any] = {
        "valid": all(c.as_json()["valid"] for c in checked.values()),
        "errors": spec_errors
        + [f"{env}: {e}" for env, c in checked.items() for e in c.errors[len(c.spec_errors) :]],
        "findings": [{"environment": env, **f.as_json()} for env, c in checked.items() for f in c.findings],
        "triggers": [t | {"environment": env} for env, c in checked.items() for t in c.as_json()["triggers"]],
        "environments": {env: c.as_json() for env, c in checked.items()},
    }

    def draw(console: Console) -> None:
        for env, c in checked.items():
            _draw_environment(console, env, c)

    if spec_errors:
        invalid = [env for env, c in checked.items() if c.spec_errors]
        error = SpecError(
            f"{file}: {len(spec_errors)} problem(s) in the spec (invalid: {', '.join(invalid)})",
            details=spec_errors,
        )
        if out.json:
            _refuse_json(out, error, result)
        out.result(result, draw)
        raise error
    refused = sum(len(c.refused) for c in checked.values())
    _finish(out, result, draw, refused=refused, strict=strict, file=file, envs=len(checked))


def _draw_environment(console: Console, env: str, checked: Checked) -> None:
    from ddbtrigger.core.impact import impact_line

    spec = checked.spec
    where = spec.environment if spec is not None else None
    about = (
        ""
        if where is None
        else f" ({where.region}" + (f", account {where.account_id}" if where.account_id else "") + ")"
    )
    console.rule(f"environment {env}{about}", align="left")
    if spec is None:
        console.print(f"{env}: invalid, {len(checked.spec_errors)} problem(s) (listed below)")
        return
    if checked.findings:
        console.print(findings_table(checked.findings))
    for name, impact in checked.impacts:
        console.print(f"{name}: {impact_line(impact)}")
    console.print(f"{env}: {len(spec.triggers)} trigger(s), {len(checked.findings)} finding(s)")


def _finish(
    out: Output,
    document: dict[str, Any],
    draw: Callable[[Console], None],
    *,
    refused: int,
    strict: bool,
    file: Path,
    envs: int = 0,
) -> None:
    """Print the result; exit 2 when lint findings refuse the spec."""
    if refused:
        error = LintError(f"{refused} lint finding(s) refuse the spec" + (" (--strict)" if strict else ""))
        if out.json:
            _refuse_json(out, error, document)
        out.result(document, draw)
        raise error
    out.result(document, draw)
    if not out.json:
        every = f" (every environment: {envs})" if envs else ""
        out.info(f"[green]✓[/green] {file} is valid{every}")


def _refuse_json(out: Output, error: DdbtError, document: dict[str, Any]) -> NoReturn:
    """One JSON document that answers both ``.valid`` and ``.error.code``, then exit 2."""
    out.error_line(error.message, error.details)
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    out.result({**document, "valid": False, "error": body})
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

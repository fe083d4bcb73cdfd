"""``audit``: every DynamoDB-stream trigger in the given accounts and regions, worst first."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import AWS_PANEL, DEFAULT_SPEC, EndpointOpt, EnvOpt, FileOpt, panel_option
from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console

    from ddbtrigger.core.audit import AuditReport, MappingAudit

EXIT_ATTENTION = 3
LABELS = {"error": "ERROR", "warning": "WARN", "info": "INFO"}
LEVEL_ORDER = ("error", "warning", "info")
INDENT = 6


class FailOn(StrEnum):
    error = "error"
    warning = "warning"
    info = "info"


RegionsOpt = Annotated[
    list[str] | None,
    panel_option(
        "--region", "A region to audit (repeatable; default: AWS_REGION or the profile's).", panel=AWS_PANEL
    ),
]
AllRegionsOpt = Annotated[
    bool,
    panel_option(
        "--all-regions", "Audit every region enabled for the account (EC2 DescribeRegions).", panel=AWS_PANEL
    ),
]
ProfilesOpt = Annotated[
    list[str] | None,
    panel_option(
        "--profile",
        "An AWS named profile, one per account (repeatable; default: AWS_PROFILE). Not with --env.",
        panel=AWS_PANEL,
    ),
]
FailOnOpt = Annotated[
    FailOn,
    typer.Option("--fail-on", help="Exit 3 when a finding is at or above this level.", case_sensitive=False),
]


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


@command
def audit(
    *,
    region: RegionsOpt = None,
    all_regions: AllRegionsOpt = False,
    profile: ProfilesOpt = None,
    endpoint_url: EndpointOpt = None,
    file: FileOpt = DEFAULT_SPEC,
    env: EnvOpt = None,
    fail_on: FailOnOpt = FailOn.error,
    out: Output,
) -> None:
    """Find every DynamoDB-stream trigger and report its risks, health and poison-pill impact.

    Needs no spec; with --env NAME (or all), the spec's environments give the connections (profile,
    region, role), reported per environment. Exit 3 when a finding is at or above --fail-on. A region
    that cannot be read is reported, and the rest still completes (exit 1 only when nothing at all
    could be read).
    """
    from ddbtrigger.core.audit import at_or_above
    from ddbtrigger.errors import UsageError
    from ddbtrigger.usecases.audit import require_some, run_audit, unreadable_line
    from ddbtrigger.usecases.spec_file import connect

    if env is not None:
        if profile:
            raise UsageError("--env takes each environment's profile: give either --env or --profile")
        audit_environments(out, file, env, region or [], all_regions, endpoint_url, fail_on)
        return
    report = require_some(
        run_audit(
            lambda p, r: connect(p, r, endpoint_url),
            profiles=[*profile] if profile else [None],
            regions=list(region or []),
            all_regions=all_regions,
        )
    )
    for u in report.unreadable:
        out.warn(unreadable_line(u))
    out.result(report.as_json(), lambda console: draw(console, report))
    if at_or_above(report.mappings, fail_on.value):
        raise typer.Exit(EXIT_ATTENTION)


def audit_environments(
    out: Output,
    file: Path,
    env: str,
    regions: list[str],
    all_regions: bool,
    endpoint_url: str | None,
    fail_on: FailOn,
) -> None:
    """``audit --env NAME|all``: each environment on its own connection, in parallel (as ``plan --env
    all``); a heading per environment, JSON keyed by environment. Exit 1 if one could not be read,
    else 3 if a finding is at or above ``fail_on``."""
    from ddbtrigger.core.audit import at_or_above
    from ddbtrigger.errors import EXIT_FAILED
    from ddbtrigger.usecases.audit import audit_environment, unreadable_line
    from ddbtrigger.usecases.every_env import for_each
    from ddbtrigger.usecases.spec_file import open_workspaces

    workspaces = open_workspaces(file, None, env=env, profile=None, region=None, endpoint_url=endpoint_url)
    outcomes = for_each(
        workspaces, lambda ws: audit_environment(ws, regions=regions, all_regions=all_regions)
    )
    for name, o in outcomes.items():
        for u in o.value.unreadable if o.value is not None else ():
            out.warn(f"environment {name}: {unreadable_line(u)}")
    document = {
        "environments": {
            name: o.value.as_json() if o.value is not None else o.error_json() for name, o in outcomes.items()
        }
    }

    def draw_all(console: Console) -> None:
        for name, o in outcomes.items():
            console.rule(f"environment {name}", align="left")
            if o.value is not None:
                draw(console, o.value)
            elif o.error is not None:
                _say(console, f"error: {o.error.message}", indent=0)

    out.result(document, draw_all)
    if any(o.error is not None for o in outcomes.values()):
        raise typer.Exit(EXIT_FAILED)
    if any(o.value is not None and at_or_above(o.value.mappings, fail_on.value) for o in outcomes.values()):
        raise typer.Exit(EXIT_ATTENTION)


def draw(console: Console, report: AuditReport) -> None:
    """One block per mapping, worst first, wrapped on words (never inside one) at the console's width."""
    for audit in report.mappings:
        _draw_mapping(console, audit)
    _say(console, _summary_line(report), indent=0)


def _draw_mapping(console: Console, audit: MappingAudit) -> None:
    from ddbtrigger.core.impact import impact_line

    m = audit.observed
    worst = min((f.level for f in audit.findings), key=LEVEL_ORDER.index, default=None)
    _say(console, f"{LABELS[worst] if worst else 'OK':<5} {m.table} -> {m.function}", indent=0)
    _say(console, f"{m.region} · {m.state} · {m.uuid}")
    for f in audit.findings:
        _say(console, f"{f.code} {f.level}: {f.message}")
    if audit.impact is not None:
        _say(console, f"impact: {impact_line(audit.impact)}")
    console.print()


def _say(console: Console, line: str, *, indent: int = INDENT) -> None:
    import textwrap

    width = max(console.width - indent, 20)
    for part in textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]:
        console.print(" " * indent + part, markup=False, highlight=False, soft_wrap=True)


def _summary_line(report: AuditReport) -> str:
    s = report.summary()
    line = (
        f"{s['mappings']} mapping(s) in {s['regions']} region(s): {s['errors']} error(s), "
        f"{s['warnings']} warning(s), {s['infos']} info(s); {s['failures_waiting']} failure(s) waiting"
    )
    if s["unreadable"]:
        line += f"; {s['unreadable']} part(s) could not be read (see the warnings above)"
    return line

"""``audit``: every DynamoDB-stream trigger in the given accounts and regions, worst first."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import AWS_PANEL, EndpointOpt
from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
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
    typer.Option(
        "--region",
        help="A region to audit (repeatable; default: AWS_REGION or the profile's).",
        rich_help_panel=AWS_PANEL,
    ),
]
AllRegionsOpt = Annotated[
    bool,
    typer.Option(
        "--all-regions",
        help="Audit every region enabled for the account (EC2 DescribeRegions).",
        rich_help_panel=AWS_PANEL,
    ),
]
ProfilesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--profile",
        help="An AWS named profile, one per account (repeatable; default: the environment's).",
        rich_help_panel=AWS_PANEL,
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
    fail_on: FailOnOpt = FailOn.error,
    out: Output,
) -> None:
    """Find every DynamoDB-stream trigger and report its risks, health and poison-pill impact.

    Needs no spec. Exit 3 when a finding is at or above --fail-on. A region that cannot be read is
    reported, and the rest still completes (exit 1 only when nothing at all could be read).
    """
    from ddbtrigger.core.audit import at_or_above
    from ddbtrigger.errors import AwsError
    from ddbtrigger.usecases.audit import run_audit
    from ddbtrigger.usecases.spec_file import connect

    report = run_audit(
        lambda p, r: connect(p, r, endpoint_url),
        profiles=[*profile] if profile else [None],
        regions=list(region or []),
        all_regions=all_regions,
    )
    if not report.regions and report.unreadable:
        raise AwsError(
            "nothing could be audited: no region could be read",
            details=[_unreadable_line(u.profile, u.region, u.reason) for u in report.unreadable],
        )
    for u in report.unreadable:
        out.warn(_unreadable_line(u.profile, u.region, u.reason))
    out.result(report.as_json(), lambda console: draw(console, report))
    if at_or_above(report.mappings, fail_on.value):
        raise typer.Exit(EXIT_ATTENTION)


def _unreadable_line(profile: str | None, region: str, reason: str) -> str:
    where = f"profile {profile}" if profile else "the default credentials"
    return f"not audited ({where}, region {region}): {reason}"


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

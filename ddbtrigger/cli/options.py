"""Shared ``Annotated`` option aliases, so every command spells its options the same way."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from ddbtrigger.cli.render import OutputFormat

AWS_PANEL = "AWS connection"

OutputOpt = Annotated[
    OutputFormat,
    typer.Option(
        "--output",
        "-o",
        help="table for people, json for scripts (one document on stdout).",
        case_sensitive=False,
    ),
]
FileOpt = Annotated[
    Path, typer.Option("--file", "-f", envvar="DDBTRIGGER_FILE", help="The spec file.", show_default=True)
]
TriggerOpt = Annotated[
    list[str] | None, typer.Option("--trigger", "-t", help="Only this trigger (repeatable; default: all).")
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", envvar="AWS_PROFILE", help="AWS named profile.", rich_help_panel=AWS_PANEL),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="AWS region (else the spec's, AWS_REGION, or the profile's).",
        rich_help_panel=AWS_PANEL,
    ),
]


def _endpoint_url(value: str | None) -> str | None:
    """An endpoint is a URL: ``127.0.0.1:4566`` without a scheme is a usage error, not a crash later."""
    if value and "://" not in value:
        raise typer.BadParameter(f"{value!r} has no scheme: write it as http://{value} (or https://)")
    return value


EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        help="Send every AWS call here (e.g. a local sandbox).",
        rich_help_panel=AWS_PANEL,
        callback=_endpoint_url,
        metavar="URL",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for resources to settle before giving up.", min=1)
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat lint warnings as errors.")]

DEFAULT_SPEC = Path("ddbtrigger.yaml")


TYPE_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "Path": "PATH", "bool": "BOOLEAN"}


def value_name(param: Any) -> str:
    """click's name for what an option takes (``TEXT``, ``PATH``; an enum's ``table|json``)."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "|".join(str(member.value) for member in annotation)
    choices = getattr(getattr(param, "type", None), "choices", None)
    if choices:
        return "|".join(str(c) for c in choices)
    args = getattr(annotation, "__args__", None)
    base = args[0] if args and getattr(annotation, "__origin__", None) is list else annotation
    return TYPE_NAMES.get(getattr(base, "__name__", ""), "TEXT")


def reflow(help_text: str | None) -> str | None:
    """A docstring's paragraphs as single lines, so the help formatter wraps them at the terminal's
    width (rich keeps a docstring's own line breaks, which leaves ragged half-lines at 80 columns).
    Blank lines, list items and indented blocks keep their breaks."""
    if not help_text:
        return help_text
    paragraphs = []
    for block in help_text.strip().split("\n\n"):
        lines = [line.strip() for line in block.splitlines()]
        if any(line.startswith(("- ", "* ", "\b")) for line in lines) or block.startswith("    "):
            paragraphs.append(block)
        else:
            paragraphs.append(" ".join(line for line in lines if line))
    return "\n\n".join(paragraphs)


def fill_metavars(params: Iterable[Any]) -> None:
    """typer labels an option without a metavar by its Python type (``<bool>``, ``<list[str]>``):
    give flags none and the others click's names (``TEXT``, ``[table|json]``) instead."""
    for param in params:
        if param is None or param.metavar is not None or param.param_type_name != "option":
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
        else:
            name = value_name(param)
            param.metavar = f"[{name}]" if "|" in name else name

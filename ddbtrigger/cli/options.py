"""Shared options, declared once: ``Annotated`` aliases, and the groups a command asks for by type.

A command takes ``out: Output`` for ``--output``, ``ws: SpecWorkspace`` for the spec, its environment,
its triggers and where to call AWS (``--file``, ``--env``, ``--trigger``, ``--profile``, ``--region``,
``--endpoint-url``), ``ws: Workspace`` for the same or, instead of a spec, live mappings (``--mapping``,
``--table``, ``--function``), ``choice: SpecChoice`` for the first three alone, ``aws: Connection`` for
the last three. ``boundary.command`` puts
the group's options where that parameter stands (so ``--help`` lists them there) and hands the command
the group built from their values, as sqlite-utils' ``output_options`` and SAM's ``aws_creds_options``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ddbtrigger.cli.render import Output, OutputFormat

if TYPE_CHECKING:
    from ddbtrigger.core.spec import Spec, TriggerSpec
    from ddbtrigger.usecases.spec_file import ClientFactory
    from ddbtrigger.usecases.spec_file import Workspace as Opened

AWS_PANEL = "AWS connection"
T = TypeVar("T")

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
EnvOpt = Annotated[
    str | None,
    typer.Option(
        "--env",
        "-e",
        envvar="DDBTRIGGER_ENV",
        help="The spec's environment to work on (required when it declares environments).",
        metavar="NAME",
    ),
]


def panel_option(flag: str, help: str, *, panel: str, **settings: Any) -> Any:
    """An option listed under ``panel`` in ``--help`` (``settings``: typer.Option's others, e.g.
    ``metavar``): the one way the option groups of ``--help`` are declared."""
    return typer.Option(flag, help=help, rich_help_panel=panel, **settings)


# No envvar: boto3 reads AWS_PROFILE itself, after an environment's own profile (the spec is explicit).
ProfileOpt = Annotated[
    str | None,
    panel_option(
        "--profile", "AWS named profile (wins over the environment's; else AWS_PROFILE).", panel=AWS_PANEL
    ),
]
RegionOpt = Annotated[
    str | None,
    panel_option(
        "--region",
        "AWS region (else the environment's or spec's, AWS_REGION, or the profile's).",
        panel=AWS_PANEL,
    ),
]


def _endpoint_url(value: str | None) -> str | None:
    """An endpoint is a URL: ``127.0.0.1:4566`` without a scheme is a usage error, not a crash later."""
    if value and "://" not in value:
        raise typer.BadParameter(f"{value!r} has no scheme: write it as http://{value} (or https://)")
    return value


EndpointOpt = Annotated[
    str | None,
    panel_option(
        "--endpoint-url",
        "Send every AWS call here (e.g. a local sandbox).",
        panel=AWS_PANEL,
        envvar="AWS_ENDPOINT_URL",
        callback=_endpoint_url,
        metavar="URL",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds to wait for resources to settle before giving up.", min=1)
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat lint warnings as errors.")]


def to_function_option(panel: str) -> Any:
    """``--to-function`` of the commands that deliver records (redrive, replay), in the command's panel."""
    return panel_option(
        "--to-function",
        "Deliver to this function (name, name:alias or ARN) instead of the trigger's.",
        panel=panel,
    )


def dry_run_option(help: str, *, panel: str) -> Any:
    """``--dry-run`` of the commands that deliver records: ``help`` says what the command shows instead."""
    return panel_option("--dry-run", help, panel=panel)


def concurrency_option(help: str, *, panel: str) -> Any:
    """``--concurrency`` of the commands that deliver records: at most 64 units (``help`` names them)."""
    return panel_option("--concurrency", help, panel=panel, min=1, max=64)


DEFAULT_SPEC = Path("ddbtrigger.yaml")


@dataclass(frozen=True)
class SpecChoice:
    """``--file``, ``--env`` and ``--trigger``: which spec, which of its environments (None: the spec
    declares none, or ``DDBTRIGGER_ENV`` is unset) and which of its triggers (None: all)."""

    file: Path
    env: str | None
    trigger: list[str] | None


@dataclass(frozen=True)
class Connection:
    """``--profile``, ``--region`` and ``--endpoint-url``: where to call AWS (no spec to default from)."""

    profile: str | None
    region: str | None
    endpoint_url: str | None

    @cached_property
    def factory(self) -> ClientFactory:
        from ddbtrigger.usecases.spec_file import connect

        return connect(self.profile, self.region, self.endpoint_url)


@dataclass(frozen=True)
class SpecWorkspace(SpecChoice):
    """``SpecChoice`` and ``Connection`` together: the spec, its selected triggers and a client factory
    (the spec's region applies when the command line gives none), opened on first use, so a command's
    own usage checks still come first. The group of the commands that need a spec (plan, apply,
    destroy); ``Workspace`` adds spec-less targeting for those that operate triggers."""

    profile: str | None
    region: str | None
    endpoint_url: str | None

    @cached_property
    def opened(self) -> Opened:
        from ddbtrigger.usecases.spec_file import open_workspace

        return self._open(open_workspace)

    def every(self) -> list[Opened]:
        """One opened workspace per environment ``--env`` names: ``all`` is each declared one (each
        with its own client factory); any other value (or none) is the one ``opened`` would be."""
        from ddbtrigger.usecases.spec_file import open_workspaces

        return self._open(open_workspaces)

    def _open(self, how: Callable[..., T]) -> T:
        """``how`` (``open_workspace`` or ``open_workspaces``) called on these options."""
        return how(
            self.file,
            self.trigger,
            env=self.env,
            profile=self.profile,
            region=self.region,
            endpoint_url=self.endpoint_url,
        )

    @property
    def all_environments(self) -> bool:
        """``--env all``: the command reports per environment."""
        from ddbtrigger.core.spec import ALL_ENVIRONMENTS

        return self.env == ALL_ENVIRONMENTS

    @property
    def spec(self) -> Spec:
        return self.opened.spec

    @property
    def triggers(self) -> list[TriggerSpec]:
        return self.opened.triggers

    @property
    def factory(self) -> ClientFactory:
        return self.opened.factory


@dataclass(frozen=True)
class Workspace(SpecWorkspace):
    """``SpecWorkspace`` or, instead of a spec, ``--mapping UUID`` / ``--table T [--function F]``: the
    triggers read from the live mapping(s) as ``export`` writes them, worked exactly as declared ones.
    The group of every command that operates existing triggers (status, inspect-dlq, redrive, tail,
    replay): they get spec-less targeting by asking for it, with no code of their own."""

    mapping: str | None = None
    table: str | None = None
    function: str | None = None

    def __post_init__(self) -> None:
        from ddbtrigger.errors import UsageError

        if self.mapping and self.table:
            raise UsageError("give either --mapping UUID or --table TABLE, not both")
        if self.function and not self.table:
            raise UsageError("--function picks among the mappings of a table: give --table TABLE too")
        if self.targeted:
            spec_options = [f"--{name}" for name in _given_spec_options(self)]
            if spec_options:
                raise UsageError(
                    f"{'/'.join(self.target_args[::2])} reads the trigger from AWS, without a spec: it "
                    f"cannot be combined with {', '.join(spec_options)}"
                )

    @property
    def targeted(self) -> bool:
        """Spec-less: the triggers come from live mappings, not from a spec file."""
        return bool(self.mapping or self.table)

    @property
    def target_args(self) -> list[str]:
        """The targeting options as given, to repeat in a suggested command (empty with a spec)."""
        pairs = (("--mapping", self.mapping), ("--table", self.table), ("--function", self.function))
        return [part for option, value in pairs if value for part in (option, value)]

    @cached_property
    def opened(self) -> Opened:
        if not self.targeted:
            return super().opened
        from ddbtrigger.usecases.spec_file import open_live_workspace

        opened = open_live_workspace(
            mapping=self.mapping,
            table=self.table,
            function=self.function,
            profile=self.profile,
            region=self.region,
            endpoint_url=self.endpoint_url,
        )
        for warning in opened.warnings:
            Output().warn(warning)
        return opened

    def every(self) -> list[Opened]:
        return [self.opened] if self.targeted else super().every()

    @property
    def all_environments(self) -> bool:
        return not self.targeted and super().all_environments


def _given_spec_options(ws: SpecChoice) -> list[str]:
    """Which of ``--file``, ``--env``, ``--trigger`` were given on the command line (a value from
    ``DDBTRIGGER_FILE``/``DDBTRIGGER_ENV`` is a default of the shell, not a choice, and is ignored);
    outside a command line, those that differ from their defaults."""
    given = _command_line_params()
    values = {"file": ws.file != DEFAULT_SPEC, "env": ws.env is not None, "trigger": bool(ws.trigger)}
    return [name for name, differs in values.items() if (name in given if given is not None else differs)]


def _command_line_params() -> set[str] | None:
    """The names of the running command's parameters given on its command line; None outside one."""
    try:
        from typer._click.core import ParameterSource
        from typer._click.globals import get_current_context
    except ImportError:  # an older typer on the real click
        from click import get_current_context  # type: ignore[no-redef]
        from click.core import ParameterSource  # type: ignore[assignment]

    ctx = get_current_context(silent=True)
    if ctx is None:
        return None
    return {name for name in ctx.params if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE}


def _option(name: str, alias: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=alias, default=default)


_SPEC = (
    _option("file", FileOpt, DEFAULT_SPEC),
    _option("env", EnvOpt, None),
    _option("trigger", TriggerOpt, None),
)
LIVE_PANEL = "Without a spec"
MappingOpt = Annotated[
    str | None,
    panel_option(
        "--mapping",
        "Work on this event source mapping as it is live, instead of a spec's trigger.",
        panel=LIVE_PANEL,
        metavar="UUID",
    ),
]
TableOpt = Annotated[
    str | None,
    panel_option(
        "--table",
        "Work on every mapping of this table's stream as it is live, instead of a spec's triggers.",
        panel=LIVE_PANEL,
        metavar="TABLE",
    ),
]
FunctionOpt = Annotated[
    str | None,
    panel_option(
        "--function",
        "With --table: only this function's mapping (name, name:alias or ARN).",
        panel=LIVE_PANEL,
        metavar="FUNCTION",
    ),
]
_LIVE = (
    _option("mapping", MappingOpt, None),
    _option("table", TableOpt, None),
    _option("function", FunctionOpt, None),
)
_AWS = (
    _option("profile", ProfileOpt, None),
    _option("region", RegionOpt, None),
    _option("endpoint_url", EndpointOpt, None),
)
GROUPS: dict[type, tuple[tuple[inspect.Parameter, ...], Callable[..., Any]]] = {
    Output: ((_option("output", OutputOpt, OutputFormat.table),), lambda output: Output(format=output)),
    SpecChoice: (_SPEC, SpecChoice),
    Connection: (_AWS, Connection),
    SpecWorkspace: ((*_SPEC, *_AWS), SpecWorkspace),
    Workspace: ((*_SPEC, *_LIVE, *_AWS), Workspace),
}
"""Each group a command can ask for: its options, in ``--help`` order, and how to build it from them."""


@dataclass(frozen=True)
class Expanded:
    """A command's signature with its groups replaced by their options, and how to call it back."""

    signature: inspect.Signature
    groups: dict[str, type]  # the command's parameter -> the group it asked for

    def call(self, fn: Callable[..., Any], values: dict[str, Any], *, given: dict[type, Any]) -> Any:
        """Call ``fn`` with the parsed ``values``: each group built from its options' values (or taken
        from ``given``, built already)."""
        kwargs = dict(values)
        for name, group in self.groups.items():
            options, build = GROUPS[group]
            own = {p.name: kwargs.pop(p.name) for p in options}
            kwargs[name] = given[group] if group in given else build(**own)
        return fn(**kwargs)


def expand(fn: Callable[..., Any]) -> Expanded:
    """``fn``'s signature as typer should see it: every parameter annotated with a group becomes the
    group's options, in place."""
    import typing

    hints = typing.get_type_hints(fn, include_extras=True)
    params: list[inspect.Parameter] = []
    groups: dict[str, type] = {}
    for param in inspect.signature(fn).parameters.values():
        hint = hints.get(param.name, param.annotation)
        if isinstance(hint, type) and hint in GROUPS:
            groups[param.name] = hint
            params.extend(GROUPS[hint][0])
        else:
            params.append(param.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hint))
    return Expanded(inspect.Signature(params, return_annotation=hints.get("return")), groups)


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

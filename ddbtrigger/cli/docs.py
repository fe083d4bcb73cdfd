"""Generate ``docs/cli.md`` from the commands' own help, so the reference cannot drift from the code.

Run ``python -m ddbtrigger.cli.docs > docs/cli.md``. A test fails when the file is stale or when a
command or option has no help text (``missing_help``). Typer vendors its own click, so commands and
parameters are inspected by their attributes, not by ``isinstance`` against ``click``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from enum import Enum
from typing import Any

Command = Any  # a (vendored) click Command or Group
Param = Any  # a (vendored) click Option or Argument

REGEN = "python -m ddbtrigger.cli.docs > docs/cli.md"
HEADER = f"""# ddbtrigger CLI reference

<!-- Generated from the commands' own help by `{REGEN}`. Do not edit by hand. -->

"""


def root_command() -> Command:
    from typer.main import get_command

    from ddbtrigger.cli.app import app

    return get_command(app)


def _context(command: Command, name: str) -> Any:
    return command.context_class(command, info_name=name)


def walk(
    command: Command, path: tuple[str, ...] = ("ddbtrigger",)
) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command, depth first, in the order the CLI lists them."""
    yield path, command
    if hasattr(command, "list_commands"):
        ctx = _context(command, path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from walk(sub, (*path, name))


def _is_option(param: Param) -> bool:
    return bool(param.param_type_name == "option")


def documented_params(command: Command) -> list[Param]:
    return [p for p in command.params if not getattr(p, "hidden", False) and p.name != "help"]


def missing_help(root: Command | None = None) -> list[str]:
    """Commands and options without help text, as ``ddbtrigger plan --foo``."""
    missing = []
    for path, command in walk(root if root is not None else root_command()):
        if not (command.help or command.short_help or "").strip():
            missing.append(" ".join(path))
        for param in documented_params(command):
            if not (getattr(param, "help", None) or "").strip():
                name = param.opts[0] if _is_option(param) else str(param.metavar or param.name).upper()
                missing.append(f"{' '.join(path)} {name}")
    return missing


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(param: Param) -> str:
    value: Any = param.default
    if value is None or callable(value) or (getattr(param, "is_flag", False) and value is False):
        return ""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list | tuple):
        return ", ".join(f"`{v}`" for v in value) if value else ""
    return f"`{value}`"


def _kind(param: Param) -> str:
    """What the option takes: ``flag``, the choices of an enum, or the value's type."""
    from ddbtrigger.cli.options import value_name

    if getattr(param, "is_flag", False):
        return "flag"
    name = value_name(param)
    if "|" in name:
        return " \\| ".join(f"`{choice}`" for choice in name.split("|"))
    return f"{name} (repeatable)" if getattr(param, "multiple", False) else name


def _names(param: Param) -> str:
    names = list(param.opts) + list(param.secondary_opts)
    if not _is_option(param):
        names = [str(param.metavar or param.name).upper()]
    return ", ".join(f"`{n}`" for n in names)


def render_command(path: tuple[str, ...], command: Command) -> str:
    title = " ".join(path)
    lines = [f"## `{title}`", ""]
    help_text = (command.help or command.short_help or "").strip()
    lines += [help_text, ""] if help_text else []
    usage = " ".join(command.collect_usage_pieces(_context(command, title)))
    lines += ["```", f"{title} {usage}".rstrip(), "```", ""]
    params = documented_params(command)
    if params:
        lines += ["| option | value | default | env | description |", "|---|---|---|---|---|"]
        for param in params:
            env = param.envvar if isinstance(param.envvar, str) else ", ".join(param.envvar or [])
            help_text = getattr(param, "help", None) or ""
            lines.append(
                f"| {_names(param)} | {_kind(param)} | {_default(param)} | "
                f"{f'`{env}`' if env else ''} | {_cell(help_text)} |"
            )
        lines.append("")
    return "\n".join(lines)


def render() -> str:
    """The whole reference, deterministic (no terminal width, no colour)."""
    commands = list(walk(root_command()))
    toc = [f"- [`{' '.join(p)}`](#{'-'.join(p)})" for p, _ in commands[1:]]
    body = [render_command(path, command) for path, command in commands]
    return HEADER + "\n".join(toc) + "\n\n" + "\n".join(body)


def main() -> None:
    sys.stdout.write(render())


if __name__ == "__main__":
    main()

"""Environments: one spec, several places it runs (``environments:`` in the spec).

The document is loaded once (``load_document``); each environment is then resolved on its own
(``loader.resolve_environment``): its ``overrides`` deep-merged into the spec, its variables
substituted. Choosing which environment a command works on is a usage question answered here, so every
command phrases it the same way.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ddbtrigger.core.spec import ALL_ENVIRONMENTS, ENV_NAME
from ddbtrigger.core.yamlnodes import Document, Path, Problem, format_path
from ddbtrigger.errors import UsageError


@dataclass(frozen=True)
class SpecDocument:
    """The parsed file before any environment is chosen: plain data plus where each key was written."""

    filename: str
    doc: Document

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self.doc.data
        return data

    @property
    def environment_names(self) -> list[str]:
        """The environments the spec declares, in the file's order (empty when it declares none)."""
        envs = self.data.get("environments")
        return list(envs) if isinstance(envs, dict) else []


def select_environment(document: SpecDocument, name: str | None) -> str | None:
    """The environment a command works on, from ``--env``/``DDBTRIGGER_ENV`` (``name``).

    None means "the spec has no environments, and none was asked for". Raises ``UsageError`` (exit 2)
    when the spec declares environments and none was chosen (the message lists them), when the name is
    unknown, when the spec declares none but one was asked for, and for ``all`` (only the commands that
    take every environment accept it: they call ``select_environments``).
    """
    names = document.environment_names
    if not names:
        if name is None:
            return None
        raise UsageError(f"--env {name}: {document.filename} declares no environments")
    if name is None:
        raise UsageError(
            f"{document.filename} declares environments ({', '.join(names)}): choose one with --env NAME "
            "(or DDBTRIGGER_ENV)"
        )
    if name == ALL_ENVIRONMENTS:
        raise UsageError("--env all is accepted by plan, status and audit only: choose one environment")
    if name not in names:
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise UsageError(
            f"no environment named '{name}' in {document.filename}{hint} (known: {', '.join(names)})"
        )
    return name


def select_environments(document: SpecDocument, name: str | None) -> list[str | None]:
    """Like ``select_environment``, but ``all`` means every declared environment (``--env all``)."""
    if name == ALL_ENVIRONMENTS:
        if not document.environment_names:
            raise UsageError(f"--env all: {document.filename} declares no environments")
        return list(document.environment_names)
    return [select_environment(document, name)]


def environment_problems(document: SpecDocument) -> list[Problem]:
    """What must hold before any environment can be named: a non-empty mapping of well-named
    environments, each a mapping."""
    if "environments" not in document.data:
        return []
    envs = document.data["environments"]
    path: Path = ("environments",)
    if not isinstance(envs, dict) or not envs:
        got = "an empty mapping" if isinstance(envs, dict) else type(envs).__name__
        return [_problem(document, path, f"must be a mapping of environment names to settings (got {got})")]
    problems = []
    for name, settings in envs.items():
        where: Path = (*path, name)
        if not ENV_NAME.match(name) or name == ALL_ENVIRONMENTS:
            why = (
                "'all' means every environment"
                if name == ALL_ENVIRONMENTS
                else f"must match {ENV_NAME.pattern}"
            )
            problems.append(_problem(document, where, f"invalid environment name '{name}' ({why})"))
        elif not isinstance(settings, dict):
            problems.append(_problem(document, where, f"must be a mapping (got {type(settings).__name__})"))
    return problems


def _problem(document: SpecDocument, path: Path, message: str) -> Problem:
    return Problem(format_path(path), message, document.doc.positions.get(path))

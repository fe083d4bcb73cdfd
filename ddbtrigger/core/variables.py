"""``${env}``, ``${region}`` and ``${account_id}`` in names and ARNs, so one spec serves every environment.

Only the fields listed in ``SUBSTITUTED`` are substituted: names and ARNs of what a trigger uses, and
the mapping's tag values. Everything else (filter patterns above all, whose ``$`` is data) is left as
written. ``$${x}`` writes a literal ``${x}``. An unknown variable, or one the chosen environment does
not define, is a problem reported at the value's line, never left in a name for AWS to reject.
"""

from __future__ import annotations

import re
from typing import Any

from ddbtrigger.core.yamlnodes import Path

VARIABLES = ("env", "region", "account_id")
_VARIABLE = re.compile(r"\$(\$?)\{([^{}]*)\}")
ANY = "*"
SUBSTITUTED: tuple[Path, ...] = (
    ("triggers", ANY, "table"),
    ("triggers", ANY, "function"),
    ("triggers", ANY, "on_failure", "name"),
    ("triggers", ANY, "on_failure", "arn"),
    ("triggers", ANY, "on_failure", "inspect_queue"),
    ("triggers", ANY, "on_failure", "prefix"),
    ("triggers", ANY, "on_failure", "kms_key"),
    ("triggers", ANY, "mapping", "tags", ANY),
    ("triggers", ANY, "alarms", "notify"),
    ("triggers", ANY, "alarms", "notify", ANY),
)
"""Paths (in the merged spec) whose string values are substituted; ``*`` is any index or key."""
ENVIRONMENT_SUBSTITUTED = ("profile", "assume_role")
"""An environment's own settings that are substituted too (``assume_role: ...:${account_id}:role/x``)."""
HINT = (
    "variables such as ${env} are substituted only in a trigger's table and function, on_failure names "
    "and ARNs, kms_key, mapping tag values, alarms' notify topics, and an environment's profile and "
    "assume_role"
)


def substitute_text(text: str, variables: dict[str, str], env_name: str | None) -> tuple[str, str | None]:
    """``text`` with its variables replaced, and the first problem (or None)."""
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.group(1), match.group(2)
        if escaped:
            return "${" + name + "}"
        if name in variables:
            return variables[name]
        problems.append(_unset(name, env_name))
        return match.group(0)

    out = _VARIABLE.sub(replace, text)
    return out, (problems[0] if problems else None)


def _unset(name: str, env_name: str | None) -> str:
    if name not in VARIABLES:
        known = ", ".join("${" + v + "}" for v in VARIABLES)
        return f"unknown variable ${{{name}}} (known: {known})"
    if env_name is None:
        return f"${{{name}}} needs an environment, and this spec declares no 'environments'"
    return f"${{{name}}} is used but environment '{env_name}' sets no {name}"


def substitute_tree(
    data: dict[str, Any], variables: dict[str, str], env_name: str | None
) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    """The merged spec with every ``SUBSTITUTED`` value substituted, and (path, problem) pairs."""
    problems: list[tuple[Path, str]] = []

    def walk(value: Any, path: Path) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "$" in value and _substituted(path):
            value, problem = substitute_text(value, variables, env_name)
            if problem:
                problems.append((path, problem))
        return value

    triggers = data.get("triggers")
    if not isinstance(triggers, list):
        return data, problems
    return {**data, "triggers": walk(triggers, ("triggers",))}, problems


def _substituted(path: Path) -> bool:
    return any(
        len(pattern) == len(path) and all(p in (ANY, q) for p, q in zip(pattern, path, strict=True))
        for pattern in SUBSTITUTED
    )

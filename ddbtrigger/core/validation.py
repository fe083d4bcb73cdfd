"""What ``validate`` finds in a spec: each environment resolved, linted and weighed, without AWS.

Pure: the CLI renders these results. A problem of the base spec shows up in every environment; the
combined list names it once, with the environments it affects when that is not all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ddbtrigger.core.environments import SpecDocument
from ddbtrigger.core.impact import Impact, trigger_impact
from ddbtrigger.core.lint import Finding, blocking, lint
from ddbtrigger.core.loader import resolve_environment
from ddbtrigger.core.spec import Spec
from ddbtrigger.errors import SpecError, UsageError


@dataclass(frozen=True)
class Checked:
    """One spec (one environment's) checked: its findings, the ones refusing it, each trigger's impact."""

    spec: Spec | None
    findings: list[Finding] = field(default_factory=list)
    refused: list[Finding] = field(default_factory=list)
    impacts: list[tuple[str, Impact]] = field(default_factory=list)
    spec_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return self.spec_errors + [f"{f.trigger}: {f.code}: {f.message}" for f in self.refused]

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": not self.errors,
            "errors": self.errors,
            "findings": [f.as_json() for f in self.findings],
            "triggers": [{"name": name, "impact": impact.as_json()} for name, impact in self.impacts],
        }


def check_spec(spec: Spec, names: list[str] | None, *, strict: bool) -> Checked:
    """Lint the triggers ``names`` (all when none; unknown names are skipped) and weigh their impact."""
    selected = spec.select(names)
    findings = lint(spec, selected)
    impacts = [(t.name, trigger_impact(t)) for t in selected]
    return Checked(spec, findings, blocking(findings, strict=strict), impacts)


def check_environments(
    document: SpecDocument, names: list[str] | None, *, strict: bool
) -> dict[str, Checked]:
    """Every environment of ``document`` checked, in the file's order; ``UsageError`` for a ``--trigger``
    name that no environment has."""
    out: dict[str, Checked] = {}
    for env in document.environment_names:
        try:
            spec = resolve_environment(document, env)
        except SpecError as e:
            out[env] = Checked(None, spec_errors=e.details or [e.message])
            continue
        out[env] = check_spec(spec, names, strict=strict)
    known = {t.name for c in out.values() if c.spec is not None for t in c.spec.triggers}
    unknown = [n for n in names or [] if n not in known]
    if unknown and any(c.spec is not None for c in out.values()):
        raise UsageError(
            f"no trigger named {', '.join(unknown)} in any environment (known: {', '.join(sorted(known))})"
        )
    return out


def combined_spec_errors(checked: dict[str, Checked]) -> list[str]:
    """Each environment's spec problems once, suffixed with the environments it affects unless all."""
    where: dict[str, list[str]] = {}
    for env, result in checked.items():
        for line in result.spec_errors:
            where.setdefault(line, []).append(env)
    return [
        line if len(envs) == len(checked) else f"{line} (in {', '.join(envs)})"
        for line, envs in where.items()
    ]

"""Load a spec from YAML text: every problem at once, each as ``FILE:LINE:COL: path: message``.

A spec with ``environments`` is loaded once (``load_document``) and resolved per environment
(``resolve_environment``): the environment's ``overrides`` merged in, then ``defaults`` merged under
each trigger, then variables substituted. Each merge records where its values were written, so a
problem in the merged spec is reported at the overlay's line when the overlay wrote the value, else
at the base's.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from ddbtrigger.core.environments import (
    SpecDocument,
    environment_problems,
    select_environment,
)
from ddbtrigger.core.merge import Origins, deep_merge, mark_origin, overlay, written
from ddbtrigger.core.spec import (
    AlarmsSpec,
    DefaultsSpec,
    EnvironmentSpec,
    MappingSpec,
    OnFailureSpec,
    OverridesSpec,
    Spec,
    StreamSpec,
    TriggerSpec,
)
from ddbtrigger.core.variables import ENVIRONMENT_SUBSTITUTED, HINT, substitute_text, substitute_tree
from ddbtrigger.core.yamlnodes import Document, Path, Position, Problem, compose, format_path, one_line
from ddbtrigger.errors import SpecError

MAX_SPEC_BYTES = 1_048_576

# Which model describes the mapping found at a path, for "did you mean" on unknown keys.
_MODEL_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): Spec,
    ("defaults",): DefaultsSpec,
    ("defaults", "stream"): StreamSpec,
    ("defaults", "mapping"): MappingSpec,
    ("defaults", "on_failure"): OnFailureSpec,
    ("defaults", "alarms"): AlarmsSpec,
    ("triggers",): TriggerSpec,
    ("triggers", "stream"): StreamSpec,
    ("triggers", "mapping"): MappingSpec,
    ("triggers", "on_failure"): OnFailureSpec,
    ("triggers", "alarms"): AlarmsSpec,
    ("environments",): EnvironmentSpec,
    ("environments", "overrides"): OverridesSpec,
}
Chain = Sequence[Origins]


def load_spec(text: str, filename: str, env: str | None = None) -> Spec:
    """Parse and validate; raise ``SpecError`` listing every problem found.

    ``env`` names the environment for a spec that declares ``environments`` (``UsageError`` when it is
    missing or unknown: see ``select_environment``).
    """
    document = load_document(text, filename)
    return resolve_environment(document, select_environment(document, env))


def load_document(text: str, filename: str) -> SpecDocument:
    """Parse the file and check what every environment shares (YAML, the ``environments`` names);
    raise ``SpecError``. Nothing is merged or validated against the model yet."""
    parsed = _parse(text)
    if isinstance(parsed, list):
        raise _spec_error(filename, parsed)
    document = SpecDocument(filename, parsed)
    problems = environment_problems(document)
    if problems:
        raise _spec_error(filename, problems)
    return document


def resolve_environment(document: SpecDocument, env_name: str | None) -> Spec:
    """The spec one environment runs (``None``: a spec without environments), validated; raise
    ``SpecError`` with every problem at the line where the bad value is written, or ``UsageError``
    for a missing or unknown environment."""
    resolved = _resolve(document, select_environment(document, env_name))
    if isinstance(resolved, Spec):
        return resolved
    raise _spec_error(document.filename, resolved)


def format_problem(filename: str, problem: Problem) -> str:
    where = f"{filename}:{problem.position.line}:{problem.position.column}" if problem.position else filename
    return one_line(f"{where}: {problem.path}: {problem.message}")


def _spec_error(filename: str, problems: list[Problem]) -> SpecError:
    lines = [format_problem(filename, p) for p in problems]
    return SpecError(f"{filename}: {len(lines)} problem(s) in the spec", details=lines)


def _parse(text: str) -> Document | list[Problem]:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SPEC_BYTES:
        return [Problem("(top level)", f"the file is larger than {MAX_SPEC_BYTES} bytes", Position(1, 1))]
    doc = compose(text)
    if doc.problems:
        return doc.problems
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "null"
        return [
            Problem(
                "(top level)", f"must be a mapping with 'version' and 'triggers' (got {kind})", Position(1, 1)
            )
        ]
    return doc


def _resolve(document: SpecDocument, env_name: str | None) -> Spec | list[Problem]:
    doc = document.doc
    data = {k: v for k, v in document.data.items() if k != "environments"}
    env_origins: Origins = {}
    environment: EnvironmentSpec | None = None
    variables: dict[str, str] = {}
    problems: list[Problem] = []
    if env_name is not None:
        settings = document.data["environments"][env_name]
        data = _apply_environment(data, settings, env_name, env_origins)
        environment, variables, problems = _environment(settings, env_name, doc)
    merged, defaults_origins = _merge_defaults(data)
    chain = (defaults_origins, env_origins)
    merged, unset = substitute_tree(merged, variables, env_name)
    unset_problems = [_at(path, message, doc, chain) for path, message in unset]
    bad = {p.path for p in unset_problems}
    checks = _validate(merged, doc, chain) + _duplicate_names(merged, doc, chain)
    problems += (
        _validate_defaults(data, doc, chain) + unset_problems + [p for p in checks if p.path not in bad]
    )
    problems = _unique(problems)
    if problems:
        return sorted(problems, key=_line_order)
    spec = Spec.model_validate(merged)

    def where(path: Path) -> str | None:
        pos = _position(written(path, chain), doc)
        return f"{document.filename}:{pos.line}:{pos.column}" if pos else None

    spec._where = where
    if env_name is not None and environment is not None:
        spec._environment = (env_name, environment)
    return spec


def _apply_environment(
    data: dict[str, Any], settings: dict[str, Any], env_name: str, origins: Origins
) -> dict[str, Any]:
    """The base spec with the environment's ``overrides`` merged in and its ``region`` set."""
    at: Path = ("environments", env_name)
    overrides = settings.get("overrides")
    if isinstance(overrides, dict):
        known = {k: v for k, v in overrides.items() if k in OverridesSpec.model_fields}
        data = overlay(data, known, over_at=(*at, "overrides"), origins=origins)
    if "region" in settings:
        data = {**data, "region": settings["region"]}
        mark_origin(settings["region"], ("region",), (*at, "region"), origins)
    return data


def _environment(
    settings: dict[str, Any], env_name: str, doc: Document
) -> tuple[EnvironmentSpec | None, dict[str, str], list[Problem]]:
    """The environment's own settings (variables substituted), its variables, and its problems."""
    at: Path = ("environments", env_name)
    raw = {k: v for k, v in settings.items() if k != "overrides"}
    variables = {"env": env_name}
    variables.update({k: raw[k] for k in ("region", "account_id") if isinstance(raw.get(k), str)})
    problems = _overrides_problems(settings.get("overrides"), (*at, "overrides"), doc)
    for key in ENVIRONMENT_SUBSTITUTED:
        if isinstance(raw.get(key), str):
            raw[key], unset = substitute_text(raw[key], variables, env_name)
            if unset:
                problems.append(_at((*at, key), unset, doc, ()))
    try:
        environment = EnvironmentSpec.model_validate(raw)
    except ValidationError as e:
        errors = [{**err, "loc": (*at, *err["loc"])} for err in e.errors()]
        return None, variables, problems + [_problem_from_error(err, doc, ()) for err in errors]
    return (environment if not problems else None), variables, problems


def _overrides_problems(overrides: Any, at: Path, doc: Document) -> list[Problem]:
    """``overrides`` must be a mapping of what an environment may change; the rest is checked merged."""
    if overrides is None:
        return []
    if not isinstance(overrides, dict):
        return [_at(at, f"must be a mapping (got {type(overrides).__name__})", doc, ())]
    problems = []
    for key in overrides:
        if key in OverridesSpec.model_fields:
            continue
        if key == "region":
            message = "an environment's region is set as its own 'region', not in overrides"
        else:
            message = f"{_unknown_key((*at, key))}; overrides may change 'defaults' and 'triggers'"
        problems.append(_at((*at, key), message, doc, ()))
    return problems


def _at(path: Path, message: str, doc: Document, chain: Chain) -> Problem:
    where = written(path, chain)
    return Problem(format_path(where), message, _position(where, doc))


def _line_order(problem: Problem) -> tuple[int, int]:
    pos = problem.position
    return (pos.line, pos.column) if pos else (0, 0)


def _merge_defaults(data: dict[str, Any]) -> tuple[dict[str, Any], Origins]:
    defaults = data.get("defaults")
    triggers = data.get("triggers")
    origins: Origins = {}
    if not isinstance(defaults, dict) or not isinstance(triggers, list):
        return data, origins
    merged = []
    for i, trigger in enumerate(triggers):
        if isinstance(trigger, dict):
            at: Path = ("triggers", i)
            trigger = deep_merge(defaults, trigger, at=at, base_at=("defaults",), over_at=at, origins=origins)
        merged.append(trigger)
    return {**data, "triggers": merged}, origins


def _validate(data: dict[str, Any], doc: Document, chain: Chain) -> list[Problem]:
    try:
        Spec.model_validate(data)
    except ValidationError as e:
        return [_problem_from_error(err, doc, chain) for err in e.errors()]
    return []


def _validate_defaults(data: dict[str, Any], doc: Document, chain: Chain) -> list[Problem]:
    """Check ``defaults.mapping``/``defaults.stream`` on their own, so a bad default is reported even
    when every trigger overrides it (or there is no trigger yet)."""
    defaults = data.get("defaults")
    if not isinstance(defaults, dict):
        return []
    problems: list[Problem] = []
    for key, model in (("mapping", MappingSpec), ("stream", StreamSpec), ("alarms", AlarmsSpec)):
        section = defaults.get(key)
        if not isinstance(section, dict):
            continue
        if key == "alarms":  # its topics hold ${...} until merged into a trigger (checked there)
            section = {k: v for k, v in section.items() if k != "notify"}
        try:
            model.model_validate(section)
        except ValidationError as e:
            for err in e.errors():
                err = {**err, "loc": ("defaults", key, *err["loc"])}
                problems.append(_problem_from_error(err, doc, chain))
    return problems


def _unique(problems: list[Problem]) -> list[Problem]:
    """One line per (path, message): a bad default merged into every trigger is reported once."""
    seen: set[tuple[str, str]] = set()
    out = []
    for problem in problems:
        if (problem.path, problem.message) not in seen:
            seen.add((problem.path, problem.message))
            out.append(problem)
    return out


def _problem_from_error(err: Any, doc: Document, chain: Chain) -> Problem:
    loc: Path = tuple(part for part in err["loc"] if not _is_union_tag(part))
    where = written(loc, chain)
    if err["type"] == "extra_forbidden":
        return Problem(format_path(where), _unknown_key(loc), _position(where, doc))
    message = _message(err)
    if isinstance(err.get("input"), str) and "${" in err["input"]:
        message += f" ({HINT})"
    return Problem(format_path(where), message, _position(where, doc))


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and (part.startswith("function-") or part in {"str", "int", "list[str]"})


def _position(path: Path, doc: Document) -> Position | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in doc.positions:
            return doc.positions[path[:cut]]
    return None


def _unknown_key(loc: Path) -> str:
    key = str(loc[-1])
    shape = tuple(p for p in loc[:-1] if isinstance(p, str))
    if shape[:1] == ("environments",):
        shape = ("environments", *shape[2:])  # drop the environment's name
    model = _MODEL_AT.get(shape)
    hint = ""
    if model is not None:
        close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
        exact = _nested_match(key, shape, cutoff=1.0)
        nested = exact or (None if close else _nested_match(key, shape, cutoff=0.8))
        if nested:
            hint = f" (did you mean '{nested}'? it belongs one level down)"
        elif close:
            hint = f" (did you mean '{close[0]}'?)"
    return f"unknown key '{key}'{hint}"


def _nested_match(key: str, shape: tuple[str, ...], *, cutoff: float) -> str | None:
    """A key written one level too high: ``batch_size`` on a trigger belongs under ``mapping``."""
    for section in ("mapping", "stream", "on_failure"):
        model = _MODEL_AT.get((*shape, section))
        if model is None:
            continue
        close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=cutoff)
        if close:
            return f"{section}.{close[0]}"
    return None


def _got(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_TYPE_NAMES = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "string_type": "a string",
    "dict_type": "a mapping",
    "list_type": "a list",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "literal_error": "",
}


def _message(err: Any) -> str:
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "missing":
        return "is required"
    if kind == "string_type" and err["loc"][-1:] == ("account_id",) and isinstance(value, int):
        return (
            f"must be a quoted string of 12 digits (got int {value}: YAML reads unquoted digits as a number, "
            "which loses leading zeros)"
        )
    if kind == "less_than_equal":
        return f"must be ≤ {ctx['le']} (got {_got(value)})"
    if kind == "greater_than_equal":
        return f"must be ≥ {ctx['ge']} (got {_got(value)})"
    if kind == "literal_error":
        return f"must be one of {ctx['expected'].replace(' or ', ', ')} (got {_got(value)})"
    if kind == "bool_type" and isinstance(value, str) and value.lower() in _YAML11_BOOLS:
        return f"must be true or false (got str {_got(value)}; only true/false are booleans here)"
    if kind in _TYPE_NAMES:
        return f"must be {_TYPE_NAMES[kind]} (got {type(value).__name__} {_got(value)})"
    if kind == "string_pattern_mismatch":
        return f"invalid value {_got(value)} (must match {ctx['pattern']})"
    if kind == "too_short":
        return f"must not be empty (got {_got(value)})"
    if kind == "too_long":
        return f"must have at most {ctx.get('max_length')} items (got {ctx.get('actual_length')})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])


def _duplicate_names(data: dict[str, Any], doc: Document, chain: Chain) -> list[Problem]:
    triggers = data.get("triggers")
    first: dict[str, int] = {}
    problems = []
    for i, trigger in enumerate(triggers if isinstance(triggers, list) else []):
        name = trigger.get("name") if isinstance(trigger, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            problems.append(
                _at(
                    ("triggers", i, "name"),
                    f"duplicate trigger name '{name}' (also triggers[{first[name]}])",
                    doc,
                    chain,
                )
            )
        else:
            first[name] = i
    return problems

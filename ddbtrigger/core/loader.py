"""Load a spec from YAML text: every problem at once, each as ``FILE:LINE:COL: path: message``."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError

from ddbtrigger.core.spec import (
    DefaultsSpec,
    MappingSpec,
    OnFailureSpec,
    Spec,
    StreamSpec,
    TriggerSpec,
)
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
    ("triggers",): TriggerSpec,
    ("triggers", "stream"): StreamSpec,
    ("triggers", "mapping"): MappingSpec,
    ("triggers", "on_failure"): OnFailureSpec,
}


def load_spec(text: str, filename: str) -> Spec:
    """Parse and validate; raise ``SpecError`` listing every problem found."""
    problems = _parse_and_validate(text, filename)
    if isinstance(problems, Spec):
        return problems
    lines = [format_problem(filename, p) for p in problems]
    raise SpecError(f"{filename}: {len(lines)} problem(s) in the spec", details=lines)


def format_problem(filename: str, problem: Problem) -> str:
    where = f"{filename}:{problem.position.line}:{problem.position.column}" if problem.position else filename
    return one_line(f"{where}: {problem.path}: {problem.message}")


def _parse_and_validate(text: str, filename: str = "") -> Spec | list[Problem]:
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
    merged, origins = _merge_defaults(doc.data)
    problems = _validate(merged, doc, origins) + _duplicate_names(merged, doc)
    problems = _unique(_validate_defaults(doc) + problems)
    if problems:
        return sorted(problems, key=_line_order)
    spec = Spec.model_validate(merged)

    def where(path: Path) -> str | None:
        pos = _position(_written(path, origins), doc)
        return f"{filename}:{pos.line}:{pos.column}" if pos else None

    spec._where = where
    return spec


def _line_order(problem: Problem) -> tuple[int, int]:
    pos = problem.position
    return (pos.line, pos.column) if pos else (0, 0)


def _deep_merge(base: Any, over: Any, path: Path, origin: Path, origins: dict[Path, Path]) -> Any:
    """Merge ``over`` onto ``base``; remember, for keys that came from ``base``, where they were written."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(over)
        for key, value in base.items():
            if key not in over:
                _mark_origin(value, (*path, key), (*origin, key), origins)
                out[key] = value
            else:
                out[key] = _deep_merge(value, over[key], (*path, key), (*origin, key), origins)
        return out
    if path[-1:] == ("lint_ignore",) and isinstance(base, list) and isinstance(over, list):
        return _union(base, over, path, origin, origins)
    return over


def _union(
    base: list[Any], over: list[Any], path: Path, origin: Path, origins: dict[Path, Path]
) -> list[Any]:
    """``lint_ignore`` adds up: codes silenced in ``defaults`` stay silenced next to the trigger's own."""
    for k, value in enumerate(base):
        _mark_origin(value, (*path, k), (*origin, k), origins)
    for j, value in enumerate(over):
        _mark_origin(value, (*path, len(base) + j), (*path, j), origins)
    return [*base, *over]


def _mark_origin(value: Any, path: Path, origin: Path, origins: dict[Path, Path]) -> None:
    origins[path] = origin
    if isinstance(value, dict):
        for key, sub in value.items():
            _mark_origin(sub, (*path, key), (*origin, key), origins)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _mark_origin(sub, (*path, i), (*origin, i), origins)


def _merge_defaults(data: dict[str, Any]) -> tuple[dict[str, Any], dict[Path, Path]]:
    defaults = data.get("defaults")
    triggers = data.get("triggers")
    origins: dict[Path, Path] = {}
    if not isinstance(defaults, dict) or not isinstance(triggers, list):
        return data, origins
    merged = []
    for i, trigger in enumerate(triggers):
        if isinstance(trigger, dict):
            trigger = _deep_merge(defaults, trigger, ("triggers", i), ("defaults",), origins)
        merged.append(trigger)
    return {**data, "triggers": merged}, origins


def _validate(data: dict[str, Any], doc: Document, origins: dict[Path, Path]) -> list[Problem]:
    try:
        Spec.model_validate(data)
    except ValidationError as e:
        return [_problem_from_error(err, doc, origins) for err in e.errors()]
    return []


def _validate_defaults(doc: Document) -> list[Problem]:
    """Check ``defaults.mapping``/``defaults.stream`` on their own, so a bad default is reported even
    when every trigger overrides it (or there is no trigger yet)."""
    defaults = doc.data.get("defaults") if isinstance(doc.data, dict) else None
    if not isinstance(defaults, dict):
        return []
    problems: list[Problem] = []
    for key, model in (("mapping", MappingSpec), ("stream", StreamSpec)):
        section = defaults.get(key)
        if not isinstance(section, dict):
            continue
        try:
            model.model_validate(section)
        except ValidationError as e:
            for err in e.errors():
                err = {**err, "loc": ("defaults", key, *err["loc"])}
                problems.append(_problem_from_error(err, doc, {}))
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


def _problem_from_error(err: Any, doc: Document, origins: dict[Path, Path]) -> Problem:
    loc: Path = tuple(part for part in err["loc"] if not _is_union_tag(part))
    if err["type"] == "extra_forbidden":
        written = _written(loc, origins)
        return Problem(format_path(written), _unknown_key(loc), _position(written, doc))
    written = _written(loc, origins)
    return Problem(format_path(written), _message(err), _position(written, doc))


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and (part.startswith("function-") or part in {"str", "int", "list[str]"})


def _written(loc: Path, origins: dict[Path, Path]) -> Path:
    """Where in the file a (merged) path was written: the trigger, or ``defaults`` it came from."""
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in origins:
            return origins[loc[:cut]] + loc[cut:]
    return loc


def _position(path: Path, doc: Document) -> Position | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in doc.positions:
            return doc.positions[path[:cut]]
    return None


def _unknown_key(loc: Path) -> str:
    key = str(loc[-1])
    shape = tuple(p for p in loc[:-1] if isinstance(p, str))
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


def _duplicate_names(data: dict[str, Any], doc: Document) -> list[Problem]:
    triggers = data.get("triggers")
    first: dict[str, int] = {}
    problems = []
    for i, trigger in enumerate(triggers if isinstance(triggers, list) else []):
        name = trigger.get("name") if isinstance(trigger, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            path: Path = ("triggers", i, "name")
            problems.append(
                Problem(
                    format_path(path),
                    f"duplicate trigger name '{name}' (also triggers[{first[name]}])",
                    _position(path, doc),
                )
            )
        else:
            first[name] = i
    return problems

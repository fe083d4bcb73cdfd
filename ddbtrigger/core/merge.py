"""Deep merges that remember where every merged value was written.

A merged document is what gets validated, but an error must point at the line where the bad value is
written: a trigger, the ``defaults`` it inherited, or an environment's ``overrides``. Each merge records
``origins`` (merged path -> path where the value was written, only where the two differ); merges done
one after another are undone in reverse with ``written``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ddbtrigger.core.yamlnodes import Path

Origins = dict[Path, Path]


def deep_merge(base: Any, over: Any, *, at: Path, base_at: Path, over_at: Path, origins: Origins) -> Any:
    """``over`` onto ``base`` (mappings merge key by key, ``lint_ignore`` lists add up, anything else is
    replaced), the result living at ``at``; values from ``base`` were written under ``base_at``, values
    from ``over`` under ``over_at``."""
    if isinstance(base, dict) and isinstance(over, dict):
        out: dict[str, Any] = {}
        for key, value in over.items():
            where = ((*at, key), (*base_at, key), (*over_at, key))
            if key in base:
                out[key] = deep_merge(
                    base[key], value, at=where[0], base_at=where[1], over_at=where[2], origins=origins
                )
            else:
                mark_origin(value, where[0], where[2], origins)
                out[key] = value
        for key, value in base.items():
            if key not in over:
                mark_origin(value, (*at, key), (*base_at, key), origins)
                out[key] = value
        return out
    if at[-1:] == ("lint_ignore",) and isinstance(base, list) and isinstance(over, list):
        for k, value in enumerate(base):
            mark_origin(value, (*at, k), (*base_at, k), origins)
        for j, value in enumerate(over):
            mark_origin(value, (*at, len(base) + j), (*over_at, j), origins)
        return [*base, *over]
    mark_origin(over, at, over_at, origins)
    return over


def mark_origin(value: Any, path: Path, origin: Path, origins: Origins) -> None:
    """Record that ``value`` (and everything inside it) at ``path`` was written at ``origin``."""
    if path == origin:
        return
    origins[path] = origin
    if isinstance(value, dict):
        for key, sub in value.items():
            mark_origin(sub, (*path, key), (*origin, key), origins)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            mark_origin(sub, (*path, i), (*origin, i), origins)


def written(loc: Path, chain: Sequence[Origins]) -> Path:
    """Where in the file a merged path was written: ``chain`` holds the merges' origins, last merge
    first."""
    for origins in chain:
        for cut in range(len(loc), 0, -1):
            if loc[:cut] in origins:
                loc = origins[loc[:cut]] + loc[cut:]
                break
    return loc


def overlay(
    base: dict[str, Any], overrides: dict[str, Any], *, over_at: Path, origins: Origins
) -> dict[str, Any]:
    """An environment's ``overrides`` onto the whole spec: ``defaults`` merge as mappings do, and each
    trigger in ``overrides.triggers`` merges into the base trigger of the same ``name`` (one not in the
    base is added: a trigger of that environment only)."""
    rest = {k: v for k, v in overrides.items() if k != "triggers"}
    merged: dict[str, Any] = deep_merge(base, rest, at=(), base_at=(), over_at=over_at, origins=origins)
    if "triggers" in overrides:
        merged["triggers"] = _merge_triggers(
            base.get("triggers"), overrides["triggers"], over_at=(*over_at, "triggers"), origins=origins
        )
    return merged


def _merge_triggers(base: Any, over: Any, *, over_at: Path, origins: Origins) -> Any:
    if not isinstance(base, list) or not isinstance(over, list):
        mark_origin(over, ("triggers",), over_at, origins)
        return over
    by_name = {
        t["name"]: i for i, t in enumerate(base) if isinstance(t, dict) and isinstance(t.get("name"), str)
    }
    out = list(base)
    for j, trigger in enumerate(over):
        name = trigger.get("name") if isinstance(trigger, dict) else None
        i = by_name.get(name) if isinstance(name, str) else None
        if i is None:
            mark_origin(trigger, ("triggers", len(out)), (*over_at, j), origins)
            out.append(trigger)
        else:
            at: Path = ("triggers", i)
            out[i] = deep_merge(base[i], trigger, at=at, base_at=at, over_at=(*over_at, j), origins=origins)
    return out

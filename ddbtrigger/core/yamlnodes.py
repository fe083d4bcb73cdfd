"""YAML to plain data, keeping where every key and value was written.

PyYAML's own constructor forgets positions and silently keeps the last of two equal keys. We compose
the node graph instead and build the data ourselves, so every problem can be reported as
``FILE:LINE:COL``, duplicate keys are errors, and alias expansion (a "billion laughs" file) is bounded
by a node budget instead of memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
MAX_NODES = 100_000
MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, before or during validation."""

    path: str
    message: str
    position: Position | None


@dataclass
class Document:
    data: Any
    positions: dict[Path, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


class TooLarge(Exception):
    pass


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def format_path(path: Path) -> str:
    """``("triggers", 0, "mapping")`` -> ``triggers[0].mapping``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Builder:
    def __init__(self) -> None:
        self.doc = Document(data=None)
        self.budget = MAX_NODES
        self.scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise TooLarge
        self.doc.positions.setdefault(path, _pos(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.scalars.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.update(self._merge_sources(value_node, path))
                continue
            key = self.scalars.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            child = (*path, key)
            if key in out:
                self._problem(child, f"duplicate key '{key}' (first written at line "
                              f"{self.doc.positions[child].line})", _pos(key_node))
                continue
            self.doc.positions[child] = _pos(key_node)
            out[key] = self.build(value_node, child)
        return {**merged, **out}

    def _merge_sources(self, node: yaml.Node, path: Path) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            value = self.build(source, path)
            if isinstance(value, dict):
                merged.update(value)
            else:
                self._problem(path, "a merge key ('<<') must refer to a mapping", _pos(source))
        return merged

    def _problem(self, path: Path, message: str, position: Position) -> None:
        self.doc.problems.append(Problem(format_path(path), message, position))


def compose(text: str) -> Document:
    """Parse ``text``; syntax errors and size limits come back as problems, never as exceptions."""
    builder = _Builder()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        pos = Position(mark.line + 1, mark.column + 1) if mark else None
        problem = " ".join(p for p in (e.context, e.problem) if p) or "invalid YAML"
        builder.doc.problems.append(Problem("yaml", f"invalid YAML: {problem}", pos))
        return builder.doc
    except (yaml.YAMLError, RecursionError) as e:
        builder.doc.problems.append(Problem("yaml", f"invalid YAML: {e}", None))
        return builder.doc
    if node is None:
        builder.doc.problems.append(Problem("(top level)", "the file is empty", Position(1, 1)))
        return builder.doc
    try:
        builder.doc.data = builder.build(node, ())
    except TooLarge:
        builder.doc.problems.append(Problem(
            "yaml", f"the document expands to more than {MAX_NODES} nodes (aliases?); refusing it",
            _pos(node)))
        builder.doc.data = None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as e:
        builder.doc.problems.append(Problem("yaml", f"invalid YAML value: {e}", _pos(node)))
        builder.doc.data = None
    return builder.doc

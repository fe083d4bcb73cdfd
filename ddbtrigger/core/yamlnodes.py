"""YAML to plain data, keeping where every key and value was written.

PyYAML's own constructor forgets positions and silently keeps the last of two equal keys. We compose
the node graph instead and build the data ourselves, so every problem can be reported as
``FILE:LINE:COL``, duplicate keys are errors, and alias expansion (a "billion laughs" file) is bounded
by a node budget instead of memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_EXPANDED_CHARS = 4_000_000
MERGE_TAG = "tag:yaml.org,2002:merge"
BOOL_TAG = "tag:yaml.org,2002:bool"


class SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false are booleans.

    YAML 1.1 also reads yes/no/on/off as booleans, which turns a tag value ``env: on`` into ``True``
    and lets ``enabled: yes`` pass silently; here they stay strings, and a boolean field says so.
    """


SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
SpecLoader.add_implicit_resolver(
    BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


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
    """The document expands past a budget (nodes, depth or characters): refused, never expanded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def one_line(text: str) -> str:
    """Collapse whitespace so a problem is always one line."""
    return " ".join(text.split())


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
        self.chars = MAX_EXPANDED_CHARS
        self.scalars = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: Path, depth: int = 0) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise TooLarge(f"the document expands to more than {MAX_NODES} nodes (aliases?); refusing it")
        if depth > MAX_DEPTH:
            raise TooLarge(f"the document nests deeper than {MAX_DEPTH} levels; refusing it")
        self.doc.positions.setdefault(path, _pos(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        self.chars -= len(node.value) if isinstance(node.value, str) else 1
        if self.chars < 0:
            raise TooLarge(
                f"the document expands to more than {MAX_EXPANDED_CHARS} characters (aliases?); refusing it"
            )
        return self.scalars.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merged.update(self._merge_sources(value_node, path, depth))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(path, "a key must be a plain string, not a list or a mapping", _pos(key_node))
                continue
            key = str(self.scalars.construct_object(key_node, deep=True))
            child = (*path, key)
            if key in out:
                self._problem(
                    child,
                    f"duplicate key '{key}' (first written at line {self.doc.positions[child].line})",
                    _pos(key_node),
                )
                continue
            self.doc.positions[child] = _pos(key_node)
            out[key] = self.build(value_node, child, depth + 1)
        return {**merged, **out}

    def _merge_sources(self, node: yaml.Node, path: Path, depth: int) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            value = self.build(source, path, depth + 1)
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
    node = _compose_nodes(text, builder.doc)
    if node is None:
        if not builder.doc.problems:
            builder.doc.problems.append(Problem("(top level)", "the file is empty", Position(1, 1)))
        return builder.doc
    try:
        _check_expansion(node)
        builder.doc.data = builder.build(node, ())
    except TooLarge as e:
        builder.doc.problems.append(Problem("yaml", e.reason, _pos(node)))
        builder.doc.data = None
    except yaml.MarkedYAMLError as e:
        builder.doc.problems.append(_syntax_problem(e, "invalid YAML value"))
        builder.doc.data = None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError, OverflowError) as e:
        builder.doc.problems.append(Problem("yaml", one_line(f"invalid YAML value: {e}"), _pos(node)))
        builder.doc.data = None
    return builder.doc


def _check_expansion(root: yaml.Node) -> None:
    """Refuse an alias bomb from the node graph alone, before expanding anything.

    Aliases share node objects, so the graph stays small while its expansion can be astronomical; the
    expanded size of each node is counted once (memoized), which makes the check linear in the graph.
    A node that contains itself (a recursive anchor) is refused too.
    """
    if _unique_nodes(root) > MAX_NODES:
        raise TooLarge(f"the document has more than {MAX_NODES} nodes; refusing it")
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise TooLarge("the document contains itself through an alias; refusing it")
        active.add(key)
        nodes, chars = 1, len(node.value) if isinstance(node.value, str) else 0
        children = node.value if isinstance(node, yaml.SequenceNode) else []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        for child in children:
            n, c = size(child)
            nodes, chars = nodes + n, chars + c
            if nodes > MAX_NODES:
                raise TooLarge(f"the document expands to more than {MAX_NODES} nodes (aliases?); refusing it")
            if chars > MAX_EXPANDED_CHARS:
                raise TooLarge(
                    f"the document expands to more than {MAX_EXPANDED_CHARS} characters (aliases?); refusing it"
                )
        active.discard(key)
        sizes[key] = (nodes, chars)
        return nodes, chars

    size(root)


def _unique_nodes(root: yaml.Node) -> int:
    """How many distinct nodes the file itself holds (aliases counted once), without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack and len(seen) <= MAX_NODES:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
    return len(seen)


def _flow_depth_problem(text: str) -> Problem | None:
    """Refuse deeply nested flow collections before PyYAML's scanner, which is quadratic in their depth.

    Brackets are counted without parsing (quotes included), so this only ever refuses a text with more
    than MAX_DEPTH brackets open at once, which no spec has.
    """
    depth, line, column = 0, 1, 0
    for char in text:
        column += 1
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return Problem(
                    "yaml",
                    f"the document nests deeper than {MAX_DEPTH} levels; refusing it",
                    Position(line, column),
                )
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            line, column = line + 1, 0
    return None


def _compose_nodes(text: str, doc: Document) -> yaml.Node | None:
    """The node graph (aliases still shared, nothing expanded), or None with a problem recorded."""
    too_deep = _flow_depth_problem(text) if text.count("[") + text.count("{") > MAX_DEPTH else None
    if too_deep is not None:
        doc.problems.append(too_deep)
        return None
    fast = _compose_fast(text)
    if fast is not None:
        return fast
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=SpecLoader)
        return node
    except yaml.MarkedYAMLError as e:
        doc.problems.append(_syntax_problem(e, "invalid YAML"))
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        doc.problems.append(
            Problem("yaml", f"invalid YAML: unacceptable character U+{char:04X}", Position(line, column))
        )
    except RecursionError:
        doc.problems.append(Problem("yaml", "invalid YAML: the document nests too deeply", Position(1, 1)))
    except yaml.YAMLError as e:
        doc.problems.append(Problem("yaml", one_line(f"invalid YAML: {e}"), Position(1, 1)))
    return None


def _compose_fast(text: str) -> yaml.Node | None:
    """libyaml's composer when present: about ten times faster on large files. Any failure (or an empty
    document) goes back to the pure-Python composer, whose messages and marks are the reference."""
    loader_class = getattr(yaml, "CSafeLoader", None)
    if loader_class is None or not text.strip():
        return None
    loader = _c_loader(loader_class)(text)
    try:
        node: yaml.Node | None = loader.get_single_node()
        return node
    except Exception:
        return None
    finally:
        loader.dispose()


def _c_loader(base: type[Any]) -> type[Any]:
    """libyaml's loader with the same YAML 1.2 booleans as ``SpecLoader``."""
    global _C_LOADER
    if _C_LOADER is None:
        _C_LOADER = type(
            "CSpecLoader", (base,), {"yaml_implicit_resolvers": SpecLoader.yaml_implicit_resolvers}
        )
    return _C_LOADER


_C_LOADER: type[Any] | None = None


def _syntax_problem(e: yaml.MarkedYAMLError, prefix: str) -> Problem:
    mark = e.problem_mark or e.context_mark
    pos = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
    problem = " ".join(p for p in (e.context, e.problem) if p) or "syntax error"
    return Problem("yaml", one_line(f"{prefix}: {problem}"), pos)

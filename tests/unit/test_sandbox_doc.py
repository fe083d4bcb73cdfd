"""docs/sandbox.md names the test that proves each reproduced behaviour: every named test must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "sandbox.md"
REFERENCE = re.compile(r"(tests/[\w/]+\.py)((?:::\w+)?)|(?<![\w/])(test_\w+\.py)((?:::\w+)?)|, ::(\w+)")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _references() -> list[tuple[Path, str | None]]:
    """(file, test name or None) for every reference in the proof column, ``, ::name`` meaning the same file."""
    found: list[tuple[Path, str | None]] = []
    for row in DOC.read_text().splitlines():
        if not row.startswith("| ") or row.startswith("| behaviour"):
            continue
        current: Path | None = None
        for full, name, short, short_name, same_file in REFERENCE.findall(row.split(" | ")[-1]):
            if full or short:
                current = (
                    ROOT / full if full else next(ROOT.glob(f"tests/**/{short}"), ROOT / "missing" / short)
                )
                found.append((current, (name or short_name).lstrip(":") or None))
            elif same_file and current is not None:
                found.append((current, same_file))
    return found


def test_every_test_named_in_the_sandbox_doc_exists() -> None:
    references = _references()
    assert len(references) >= 40, "the proof column should name the conformance tests"
    missing = [
        f"{path.relative_to(ROOT)}::{name}" if name else str(path.relative_to(ROOT))
        for path, name in references
        if not path.is_file() or (name is not None and name not in _tests_in(path))
    ]
    assert missing == []


def test_every_conformance_module_is_named_in_the_doc() -> None:
    named = {path.name for path, _ in _references()}
    modules = {p.name for p in (ROOT / "tests" / "conformance").glob("test_*.py")}
    assert modules <= named, f"not listed in docs/sandbox.md: {sorted(modules - named)}"

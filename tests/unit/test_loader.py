"""The loader's two YAML composers agree: libyaml (fast) and PyYAML (reference for messages)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import ddbtrigger.core.yamlnodes as yamlnodes
from tests.unit.test_spec_errors import CASES

ROOT = Path(__file__).resolve().parents[2]


def composed_both_ways(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[yamlnodes.Document, yamlnodes.Document]:
    fast = yamlnodes.compose(text)
    with monkeypatch.context() as patch:
        patch.setattr(yamlnodes, "_compose_fast", lambda text: None)
        slow = yamlnodes.compose(text)
    return fast, slow


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML built without libyaml")
def test_fast_path_is_used_for_a_valid_file() -> None:
    node = yamlnodes._compose_fast((ROOT / "config.example.yaml").read_text())
    assert isinstance(node, yaml.MappingNode)


def test_example_spec_composes_identically(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = composed_both_ways((ROOT / "config.example.yaml").read_text(), monkeypatch)
    assert fast.data == slow.data
    assert fast.positions == slow.positions
    assert fast.problems == slow.problems == []


@pytest.mark.parametrize("text", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_specs_compose_identically(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = composed_both_ways(text, monkeypatch)
    assert fast.problems == slow.problems
    assert fast.positions == slow.positions
    assert repr(fast.data) == repr(slow.data)


def test_yaml_12_booleans_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = composed_both_ways("a: yes\nb: on\nc: true\nd: False\ne: 'no'\n", monkeypatch)
    assert fast.data == slow.data == {"a": "yes", "b": "on", "c": True, "d": False, "e": "no"}

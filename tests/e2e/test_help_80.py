"""``--help`` of every command at 80 columns (issue 13): no ``<bool>``/``<list[str]>`` placeholders,
and no word of the help text broken over two lines."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ddbtrigger.cli.docs import documented_params, root_command, walk

pytestmark = pytest.mark.e2e

BOX = re.compile(r"[│╭╮╰╯─┃┏┓┗┛━]")


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    return list(walk(root_command()))


def _words(command: Any) -> set[str]:
    """Every word the help of ``command`` must show whole."""
    texts = [command.help or ""]
    for param in documented_params(command):
        texts.append(getattr(param, "help", None) or "")
        if param.param_type_name == "option":
            texts.append(" ".join(param.opts))
    return {w for text in texts for w in text.split() if len(w) > 1}


@pytest.mark.parametrize(
    ("path", "command"), _commands(), ids=lambda p: " ".join(p) if isinstance(p, tuple) else ""
)
def test_help_at_80_columns_has_no_placeholder_and_no_broken_word(
    run_cli: Any, path: tuple[str, ...], command: Any
) -> None:
    shown = run_cli(*path[1:], "--help", env={"COLUMNS": "80", "TERMINAL_WIDTH": "80"})
    assert shown.returncode == 0, shown.stderr
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    for placeholder in ("<bool>", "<list[", "<str>", "<int>", "<float>", "<path>"):
        assert placeholder not in shown.stdout, placeholder
    tokens = set(BOX.sub(" ", shown.stdout).split())
    broken = sorted(w for w in _words(command) if w not in tokens)
    assert broken == [], f"words broken (or missing) in `{' '.join(path)} --help`: {broken}\n{shown.stdout}"

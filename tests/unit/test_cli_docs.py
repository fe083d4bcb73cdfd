"""``docs/cli.md`` is generated from the commands' own help: every command and option must have help
text, and the committed reference must match what the code generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
from typer.main import get_command

from ddbtrigger.cli.docs import REGEN, missing_help, render

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "cli.md"


def test_every_command_and_option_has_help_text() -> None:
    missing = missing_help()
    assert missing == [], f"add help text to: {', '.join(missing)}"


def test_the_reference_is_current() -> None:
    assert REFERENCE.exists(), f"docs/cli.md is missing: run `{REGEN}`"
    assert REFERENCE.read_text(encoding="utf-8") == render(), (
        f"docs/cli.md is stale (a command or option changed): regenerate it with `{REGEN}` and commit it"
    )


def test_the_reference_covers_every_command() -> None:
    text = render()
    for name in get_command(__import__("ddbtrigger.cli.app", fromlist=["app"]).app).commands:
        assert f"## `ddbtrigger {name}`" in text, name
    assert "| `--output`, `-o` | `table` \\| `json` | `table` |" in text


def test_the_generator_runs_as_a_module() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ddbtrigger.cli.docs"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == render()


def test_missing_help_is_detected() -> None:
    app = typer.Typer(help="A test app.")

    @app.command("documented")
    def documented(name: str = typer.Option("x", "--name", help="A name.")) -> None:
        """Has help."""

    @app.command("bare")
    def bare(count: int = typer.Option(1, "--count")) -> None:
        pass

    assert missing_help(get_command(app)) == ["ddbtrigger bare", "ddbtrigger bare --count"]

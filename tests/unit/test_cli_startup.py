"""``ddbtrigger --help`` stays fast: it must not import boto3, botocore, moto or yaml.

Checked two ways in fresh interpreters: ``python -X importtime -m ddbtrigger ... --help`` (the real entry
point; the import log names every module loaded), and ``sys.modules`` after invoking each command's help
through typer's runner, so a failure names the command whose module imports too eagerly. (pydantic is
not in the list: typer itself imports it to coerce parameters.)
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "moto", "yaml")


def imported_modules(*args: str) -> set[str]:
    """Every module ``python -m ddbtrigger ARGS`` imported, from ``-X importtime``'s log."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ddbtrigger", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Usage" in proc.stdout
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize("args", [["--help"], ["validate", "--help"]], ids=["root", "validate"])
def test_help_imports_no_aws_sdk(args: list[str]) -> None:
    modules = imported_modules(*args)
    assert "ddbtrigger.cli.app" in modules
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert loaded == [], f"`ddbtrigger {' '.join(args)}` imported {loaded[:5]}"


PROBE = """
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from ddbtrigger.cli.app import app
heavy = {heavy!r}
report = {{}}
for name in sorted(get_command(app).commands):
    before = {{m for m in sys.modules if m.split(".")[0] in heavy}}
    result = CliRunner().invoke(app, [name, "--help"])
    after = {{m.split(".")[0] for m in sys.modules if m.split(".")[0] in heavy}} - before
    report[name] = {{"exit": result.exit_code, "heavy": sorted(after)}}
print(json.dumps(report))
"""


def test_no_command_help_imports_the_aws_sdk() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=set(HEAVY))], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert {"validate", "schema", "policy"} <= set(report)
    offenders = {name: r["heavy"] for name, r in report.items() if r["heavy"]}
    assert offenders == {}, f"these commands' help imports the AWS SDK or yaml: {offenders}"
    failing = {name: r["exit"] for name, r in report.items() if r["exit"] != 0}
    assert failing == {}


def test_version_and_module_entry_point() -> None:
    from ddbtrigger import __version__

    proc = subprocess.run(
        [sys.executable, "-m", "ddbtrigger", "--version"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"ddbtrigger {__version__}"

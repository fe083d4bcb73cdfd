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
from typer.testing import CliRunner

from ddbtrigger.cli.app import COMMANDS, app
from ddbtrigger.cli.wiring import build_app

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


# --- What start-up loads, module by module (issue 19) ---------------------------------------------

WIRING = {
    "ddbtrigger",
    "ddbtrigger.cli",
    "ddbtrigger.cli.app",
    "ddbtrigger.cli.wiring",
    "ddbtrigger.cli.boundary",
    "ddbtrigger.cli.options",
    "ddbtrigger.cli.render",
    "ddbtrigger.errors",
}
"""Our modules ``--help`` may load: the entry point and the wiring, no command module."""

NEVER_AT_START = ("pydantic", "pydantic_core", "boto3", "botocore", "moto", "yaml")

BARE_TYPER_APP = """
import typer
app = typer.Typer()
@app.command()
def one(name: str = "x") -> None: "One."
@app.command()
def two(count: int = 1) -> None: "Two."
app()
"""


DUMP = (
    "import atexit, sys\natexit.register(lambda: print('MODULES', *sorted(sys.modules), file=sys.stderr))\n"
)
ENTRY_POINT = "import runpy; runpy.run_module('ddbtrigger', run_name='__main__')"


def loaded(code: str, *args: str) -> set[str]:
    """Every module in ``sys.modules`` when ``python -c CODE ARGS`` exits (``-X importtime`` does not
    log what ``importlib.import_module`` imports, as the root group does for a command)."""
    proc = subprocess.run(
        [sys.executable, "-c", DUMP + code, *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    dumps = [line.split()[1:] for line in proc.stderr.splitlines() if line.startswith("MODULES ")]
    return set(dumps[-1])


def third_party(modules: set[str]) -> set[str]:
    """The top-level packages among ``modules`` that are neither the stdlib nor ddbtrigger."""
    tops = {m.split(".")[0] for m in modules}
    return {t for t in tops if t not in sys.stdlib_module_names and t != "ddbtrigger"}


def test_version_loads_nothing_but_the_stdlib_and_the_entry_point() -> None:
    interpreter = loaded("pass")  # site's own imports (.pth files, sitecustomize)
    modules = loaded(ENTRY_POINT, "--version") - interpreter
    ours = {m for m in modules if m.split(".")[0] == "ddbtrigger"}
    assert ours == {"ddbtrigger", "ddbtrigger.cli", "ddbtrigger.cli.app"}
    assert third_party(modules) == set(), "`ddbtrigger --version` must not load typer, click or rich"


def test_help_loads_only_what_a_bare_typer_app_loads_and_the_wiring() -> None:
    interpreter = loaded("pass")
    modules = loaded(ENTRY_POINT, "--help") - interpreter
    floor = loaded(BARE_TYPER_APP, "--help") - interpreter
    assert {m for m in modules if m.split(".")[0] == "ddbtrigger"} == WIRING
    assert third_party(modules) <= third_party(floor), "more than typer (and what it loads for help)"
    assert not [m for m in modules if m.split(".")[0] in NEVER_AT_START]


def test_a_command_loads_its_own_module_only() -> None:
    modules = loaded(ENTRY_POINT, "validate", "--help")
    commands = {f"ddbtrigger.cli.{module}" for module, _ in COMMANDS.values()}
    assert modules & commands == {"ddbtrigger.cli.validate"}


def test_the_command_table_matches_the_commands() -> None:
    """``COMMANDS`` (what ``--help`` lists without importing anything) says what the modules register,
    in the same order, with each command's first help paragraph."""
    from ddbtrigger.cli.options import reflow

    registered = [(info.name, info.callback) for info in app.registered_commands if info.callback]
    assert [name for name, _ in registered] == list(COMMANDS)
    for name, callback in registered:
        module, short = COMMANDS[str(name)]
        assert callback.__module__ == f"ddbtrigger.cli.{module}", name
        assert (reflow(callback.__doc__) or "").split("\n\n")[0] == short, name


@pytest.mark.parametrize("width", ["80", "132"])
@pytest.mark.parametrize("args", [["--help"], [], ["valdate"], ["plan", "--help"]], ids=str)
def test_the_lazy_app_prints_what_the_full_app_prints(args: list[str], width: str) -> None:
    runner = CliRunner()
    env = {"COLUMNS": width, "TERMINAL_WIDTH": width}
    full = runner.invoke(app, args, env=env)
    lazy = runner.invoke(build_app(lazy=True), args, env=env)
    assert (lazy.exit_code, lazy.output) == (full.exit_code, full.output)
    assert "Usage" in lazy.output


def test_the_lazy_app_runs_a_command() -> None:
    result = CliRunner().invoke(build_app(lazy=True), ["schema"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["title"]


def test_a_command_printing_json_never_loads_rich() -> None:
    """``Output``'s consoles are made on first use: JSON alone goes to stdout without rich."""
    modules = loaded(ENTRY_POINT, "schema")
    assert not [m for m in modules if m.split(".")[0] == "rich"]
    assert "ddbtrigger.cli.validate" in modules

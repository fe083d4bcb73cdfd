"""The error boundary every command runs in: our errors become one line and their exit code (plus the
JSON error document under ``--output json``); anything unexpected becomes one line and a hint to rerun
with ``--debug``; ``--debug`` shows the traceback instead."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from ddbtrigger.cli import boundary
from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import OutputOpt, YesOpt
from ddbtrigger.cli.render import Output, OutputFormat
from ddbtrigger.errors import AccessDenied, SpecError, WaitTimeout

app = typer.Typer()


@app.command("fail")
@command
def fail(kind: str, output: OutputOpt = OutputFormat.table) -> None:
    """Raise the error named by KIND."""
    errors = {
        "denied": AccessDenied("access denied: could not list event source mappings: not authorized"),
        "spec": SpecError(
            "f.yaml: 1 problem(s) in the spec", details=["f.yaml:2:3: a.b: must be ≥ 1 (got 0)"]
        ),
        "timeout": WaitTimeout("mapping did not settle in 600 s: Creating"),
        "crash": RuntimeError("boom\nsecond line"),
        "interrupt": KeyboardInterrupt(),
    }
    raise errors[kind]


@app.command("change")
@command
def change(yes: YesOpt = False, output: OutputOpt = OutputFormat.table) -> None:
    """Pretend to change something, after asking."""
    Output(format=output).confirm("Change it?", yes=yes)
    Output(format=output).result({"changed": True}, lambda console: console.print("changed"))


@pytest.fixture(autouse=True)
def no_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(boundary._state, "debug", False)


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args))


def test_our_error_is_one_line_and_its_exit_code() -> None:
    result = CliRunner().invoke(app, ["fail", "denied"])
    assert result.exit_code == 1
    assert result.stderr == "error: access denied: could not list event source mappings: not authorized\n"
    assert result.stdout == ""


def test_json_mode_prints_the_error_document_on_stdout() -> None:
    result = CliRunner().invoke(app, ["fail", "denied", "--output", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": {
            "code": "access_denied",
            "message": "access denied: could not list event source mappings: not authorized",
        }
    }
    assert result.stderr.startswith("error: access denied")


def test_spec_error_lists_details_and_exits_2() -> None:
    result = CliRunner().invoke(app, ["fail", "spec", "-o", "json"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "f.yaml:2:3: a.b: must be ≥ 1 (got 0)",
        "error: f.yaml: 1 problem(s) in the spec",
    ]
    assert json.loads(result.stdout)["error"]["details"] == ["f.yaml:2:3: a.b: must be ≥ 1 (got 0)"]


def test_timeout_is_exit_1_with_code_timeout() -> None:
    result = CliRunner().invoke(app, ["fail", "timeout", "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "timeout"


def test_unexpected_exception_is_one_line_and_a_debug_hint() -> None:
    result = CliRunner().invoke(app, ["fail", "crash"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert (
        result.stderr
        == "error: unexpected RuntimeError: boom second line (rerun with --debug for the traceback)\n"
    )
    assert "Traceback" not in result.output


def test_unexpected_exception_in_json_mode_has_code_internal() -> None:
    result = CliRunner().invoke(app, ["fail", "crash", "-o", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "internal"


def test_debug_lets_the_traceback_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(boundary._state, "debug", True)
    result = CliRunner().invoke(app, ["fail", "crash"])
    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)


def test_debug_flag_on_the_real_app_sets_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from ddbtrigger.cli.app import app as real_app

    monkeypatch.setattr(logging, "basicConfig", lambda **kwargs: None)
    botocore_logger = logging.getLogger("botocore")
    monkeypatch.setattr(botocore_logger, "level", botocore_logger.level)
    result = CliRunner().invoke(real_app, ["--debug", "schema"])
    assert result.exit_code == 0
    assert boundary.debug_enabled() is True


def test_ctrl_c_is_exit_130() -> None:
    result = CliRunner().invoke(app, ["fail", "interrupt"])
    assert result.exit_code == 130
    assert result.stderr == "error: interrupted\n"


def test_a_change_without_terminal_and_without_yes_refuses_with_exit_2() -> None:
    result = CliRunner().invoke(app, ["change"])
    assert result.exit_code == 2
    assert "no terminal; pass --yes" in result.stderr
    assert result.stdout == ""


def test_a_change_with_yes_goes_ahead() -> None:
    result = CliRunner().invoke(app, ["change", "--yes", "-o", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"changed": True}

"""The one renderer: results on stdout (one JSON document, or tables), everything else on stderr,
``NO_COLOR`` honoured, and ``confirm`` refusing rather than hanging without a terminal."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest

from ddbtrigger.cli.render import Output, OutputFormat, make_console
from ddbtrigger.errors import UsageError


def test_json_result_is_one_document_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output(format=OutputFormat.json)
    out.info("working on it")
    out.warn("careful")
    out.result({"a": [1, 2], "ü": "ß"}, lambda console: console.print("TABLE"))
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"a": [1, 2], "ü": "ß"}
    assert "TABLE" not in captured.out
    assert "working on it" in captured.err
    assert "warning: careful" in captured.err


def test_table_result_is_drawn_on_stdout_and_messages_stay_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = Output(format=OutputFormat.table)
    out.result({"a": 1}, lambda console: console.print("TABLE"))
    out.info("done")
    captured = capsys.readouterr()
    assert captured.out == "TABLE\n"
    assert captured.err == "done\n"


def test_result_without_a_table_falls_back_to_json(capsys: pytest.CaptureFixture[str]) -> None:
    Output(format=OutputFormat.table).result({"ok": True})
    assert json.loads(capsys.readouterr().out) == {"ok": True}


def test_error_line_and_document(capsys: pytest.CaptureFixture[str]) -> None:
    out = Output(format=OutputFormat.json)
    out.error_line("bad [thing]", ["f.yaml:1:1: x: y"])
    out.error_document("invalid_spec", "bad [thing]", ["f.yaml:1:1: x: y"])
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ["f.yaml:1:1: x: y", "error: bad [thing]"]
    assert json.loads(captured.out) == {
        "error": {"code": "invalid_spec", "message": "bad [thing]", "details": ["f.yaml:1:1: x: y"]}
    }


def test_error_document_without_details_has_only_code_and_message(capsys: pytest.CaptureFixture[str]) -> None:
    Output(format=OutputFormat.json).error_document("aws_error", "nope")
    assert json.loads(capsys.readouterr().out) == {"error": {"code": "aws_error", "message": "nope"}}


def colored(monkeypatch: pytest.MonkeyPatch, *, no_color: bool) -> str:
    """What a forced-terminal stderr console writes for a red message."""
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("TERM", raising=False)
    buffer = io.StringIO()
    console = make_console(stderr=True)
    console.file = buffer
    console.print("[red]alarm[/red]")
    return buffer.getvalue()


def test_no_color_strips_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b[31m" in colored(monkeypatch, no_color=False)
    plain = colored(monkeypatch, no_color=True)
    assert "alarm" in plain
    assert "\x1b[31m" not in plain


def test_no_color_is_read_when_the_console_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_console(stderr=True).no_color is True
    monkeypatch.delenv("NO_COLOR")
    assert make_console(stderr=False).no_color is False


class _Stdin(io.StringIO):
    def __init__(self, text: str, *, tty: bool) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_confirm_refuses_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin("y\n", tty=False))
    with pytest.raises(UsageError) as caught:
        Output().confirm("Apply?", yes=False)
    assert caught.value.exit_code == 2
    assert "no terminal; pass --yes" in caught.value.message


def test_confirm_with_yes_never_asks(monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = _Stdin("", tty=False)
    monkeypatch.setattr(sys, "stdin", stdin)
    Output().confirm("Apply?", yes=True)
    assert stdin.tell() == 0


@pytest.mark.parametrize(("answer", "accepted"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_confirm_asks_on_a_terminal(monkeypatch: pytest.MonkeyPatch, answer: str, accepted: bool) -> None:
    import typer

    asked: list[Any] = []

    def fake_confirm(question: str, *, default: bool, err: bool) -> bool:
        asked.append((question, default, err))
        return answer.strip() == "y"

    monkeypatch.setattr(sys, "stdin", _Stdin(answer, tty=True))
    monkeypatch.setattr(typer, "confirm", fake_confirm)
    if accepted:
        Output().confirm("Apply?", yes=False)
    else:
        with pytest.raises(UsageError, match="cancelled; nothing was changed"):
            Output().confirm("Apply?", yes=False)
    assert asked == [("Apply?", False, True)]


def test_progress_is_hidden_when_stderr_is_not_a_terminal() -> None:
    progress = Output().progress()
    assert progress.disable is True


def test_a_long_question_is_wrapped_at_words_for_the_terminal() -> None:
    """Issue 13: prompts wrapped mid-word at 80 columns. The prompt is written raw, so the question is
    wrapped here: every line but the last printed, the last left for the prompt and its [y/N] suffix."""
    from rich.console import Console

    buffer = io.StringIO()
    out = Output(err=Console(file=buffer, width=80, no_color=True))
    question = (
        "Redrive 12 failure(s) of orders-audit, payments-sync to each trigger's function, deleting each "
        "failure once its records are delivered?"
    )
    last = out.prompt_line(question)
    printed = buffer.getvalue().splitlines()
    assert all(len(line) <= 72 for line in [*printed, last])
    assert " ".join([*printed, last]) == question  # nothing lost, no word split

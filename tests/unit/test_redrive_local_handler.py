"""``--handler``: loading a local handler and calling it the way the Lambda runtime would."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.core.redrive import judge
from ddbtrigger.errors import UsageError
from ddbtrigger.runtime.local_lambda import invoke_local
from ddbtrigger.usecases.redrive import load_local_handler as load_handler

HANDLERS = """
seen = []

def ok(event, context):
    seen.append((event, context.function_name, context.get_remaining_time_in_millis() > 0))
    return {"batchItemFailures": []}

def partial(event, context):
    return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}

def boom(event, context):
    raise ValueError("poison pill")

def unserialisable(event, context):
    return object()

class Box:
    @staticmethod
    def nested(event, context):
        return None

not_callable = 3
"""


@pytest.fixture
def handler_file(tmp_path: Path) -> Path:
    path = tmp_path / "myhandlers.py"
    path.write_text(HANDLERS)
    return path


EVENT = {
    "Records": [{"eventID": "1", "dynamodb": {"SequenceNumber": "42", "ApproximateCreationDateTime": 1}}]
}


def test_path_handler_gets_the_event_as_json_and_a_context(handler_file: Path) -> None:
    handler = load_handler(f"{handler_file}:ok")
    response = invoke_local(handler, EVENT, function_name="orders-audit")
    assert judge(response).delivered
    module = sys.modules[handler.__module__]
    event, name, has_time = module.seen[-1]
    assert event == EVENT and name == "orders-audit" and has_time


def test_module_handler_is_imported_from_the_working_directory(
    handler_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(handler_file.parent)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(handler_file.parent))])
    assert load_handler("myhandlers:Box.nested")(EVENT, None) is None


def test_exception_is_an_unhandled_function_error(handler_file: Path) -> None:
    response = invoke_local(load_handler(f"{handler_file}:boom"), EVENT)
    assert response.status_code == 200 and response.function_error == "Unhandled"
    body = json.loads(response.payload)
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "poison pill"
    assert isinstance(body["stackTrace"], list)
    assert not judge(response).delivered


def test_partial_batch_response_and_unmarshalable_result_fail(handler_file: Path) -> None:
    partial = judge(invoke_local(load_handler(f"{handler_file}:partial"), EVENT))
    assert not partial.delivered and partial.failed_items == ("42",)
    response = invoke_local(load_handler(f"{handler_file}:unserialisable"), EVENT)
    assert response.function_error is None or not judge(response).delivered


@pytest.mark.parametrize(
    "ref",
    [
        "nocolon",
        ":ok",
        "x.py:",
        "missing_module_xyz:ok",
        "{f}:nope",
        "{f}:not_callable",
        "/no/such/file.py:ok",
    ],
)
def test_bad_references_are_usage_errors(ref: str, handler_file: Path) -> None:
    with pytest.raises(UsageError):
        load_handler(ref.format(f=handler_file))


def test_a_handler_file_that_does_not_load_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(UsageError, match="SyntaxError"):
        load_handler(f"{bad}:broken")


def test_context_fields(handler_file: Path) -> None:
    captured: dict[str, Any] = {}

    def grab(event: dict[str, Any], context: Any) -> None:
        captured.update(vars(context))

    invoke_local(grab, EVENT, function_name="fn")
    assert captured["function_name"] == "fn"
    assert captured["invoked_function_arn"].endswith(":function:fn")
    assert captured["log_group_name"] == "/aws/lambda/fn"

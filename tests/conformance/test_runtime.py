"""The sandbox's Lambda runtime: redeploys, the invocation log, and a Powertools handler.

Issue 12 §7 and the Powertools "done when": a handler is redeployed without losing state (UpdateFunctionCode
with a zip, or an edited ``--handler`` file, take effect on the next invoke), each invocation is logged to
the console and to CloudWatch Logs as Lambda does, and a handler written with AWS Lambda Powertools runs
unchanged in the sandbox and under ``redrive --handler``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.sandbox.handlers import load_handler
from tests.aws.conftest_sandbox import create_mapping, make_queue, make_table, put, sandbox_factory, wait_for

pytestmark = pytest.mark.xdist_group("sandbox")

HERE = Path(__file__).parent
LOG_STREAM = re.compile(r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")


def package(**modules: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, source in modules.items():
            archive.writestr(name, source)
    return buffer.getvalue()


def invoke(sb: Any, function: str, event: Any) -> tuple[str | None, Any]:
    response = sb.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read() or b"null")


def recording(path: Path, tag: str) -> str:
    """Handler source that appends ``tag:<sequence number>`` to ``path`` for each record it is given."""
    return (
        "def handler(event, context):\n"
        f"    with open({str(path)!r}, 'a') as out:\n"
        "        for r in event.get('Records', []):\n"
        f"            out.write({tag!r} + ':' + r['dynamodb']['Keys']['pk']['S'] + '\\n')\n"
        f"    return {{'version': {tag!r}}}\n"
    )


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_update_function_code_takes_effect_on_the_next_invoke_and_keeps_the_position(
    sandbox: Any, tmp_path: Path
) -> None:
    """Issue 12 §7: ``aws lambda update-function-code`` takes effect on the next invoke, without losing
    state; the zip holds the module the function's Handler names (``app.handler`` -> ``app.py``)."""
    out = tmp_path / "delivered.txt"
    sandbox.register_handler(
        "fn", load_handler(f"{_write(tmp_path / 'v1.py', recording(out, 'v1'))}:handler")
    )
    stream = make_table(sandbox)
    create_mapping(sandbox, stream, "fn", BatchSize=1)
    put(sandbox, "a")
    wait_for(lambda: lines(out) == ["v1:a"], what="v1 to process a")
    lam = sandbox.client("lambda")
    lam.update_function_configuration(FunctionName="fn", Handler="app.handler")
    lam.update_function_code(FunctionName="fn", ZipFile=package(**{"app.py": recording(out, "v2")}))
    assert invoke(sandbox, "fn", {}) == (None, {"version": "v2"})
    put(sandbox, "b")
    wait_for(lambda: len(lines(out)) == 2, what="v2 to process b")
    assert lines(out) == ["v1:a", "v2:b"]  # a was not delivered again: the mapping kept its position


def test_a_package_without_the_handler_module_fails_each_invoke_as_lambda_does(sandbox: Any) -> None:
    """Lambda accepts any package; invoking one without the Handler's module is
    ``Runtime.ImportModuleError`` "Unable to import module 'app': No module named 'app'"."""
    sandbox.register_handler("fn", lambda event, context: "v1")
    lam = sandbox.client("lambda")
    lam.update_function_configuration(FunctionName="fn", Handler="app.handler")
    lam.update_function_code(FunctionName="fn", ZipFile=package(**{"other.py": "x = 1\n"}))
    error, payload = invoke(sandbox, "fn", {})
    assert error == "Unhandled" and payload["errorType"] == "Runtime.ImportModuleError"
    assert payload["errorMessage"] == "Unable to import module 'app': No module named 'app'"


def _write(path: Path, source: str, *, bump: int = 0) -> Path:
    path.write_text(source)
    if bump:  # a later mtime even on a coarse clock
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))
    return path


def test_an_edited_handler_file_takes_effect_on_the_next_invoke(sandbox: Any, tmp_path: Path) -> None:
    """Issue 12 §7: editing a ``--handler`` file takes effect on the next invoke (reloaded when its mtime
    changes); a file that no longer compiles fails the invoke (``Runtime.UserCodeSyntaxError``) until it
    is fixed."""
    path = _write(tmp_path / "h.py", "def handler(event, context):\n    return 1\n")
    sandbox.register_handler("fn", load_handler(f"{path}:handler"))
    assert invoke(sandbox, "fn", {}) == (None, 1)
    _write(path, "def handler(event, context):\n    return 2\n", bump=10**9)
    assert invoke(sandbox, "fn", {}) == (None, 2)
    _write(path, "def handler(event, context):\n    return (\n", bump=2 * 10**9)
    error, payload = invoke(sandbox, "fn", {})
    assert error == "Unhandled" and payload["errorType"] == "Runtime.UserCodeSyntaxError"
    _write(path, "def handler(event, context):\n    return 3\n", bump=3 * 10**9)
    assert invoke(sandbox, "fn", {}) == (None, 3)


def log_events(sb: Any, function: str) -> list[dict[str, Any]]:
    logs = sb.client("logs")
    return list(logs.filter_log_events(logGroupName=f"/aws/lambda/{function}").get("events", []))


def test_invocations_are_logged_to_the_console_and_cloudwatch_logs(
    sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 12 §7: each invocation (function, batch size, result) and a handler's exception (traceback)
    go to the sandbox's console and to CloudWatch Logs ``/aws/lambda/<function>``, in a stream named like
    Lambda's ``YYYY/MM/DD/[$LATEST]<id>``, between START, END and REPORT lines."""

    def handler(event: dict[str, Any], context: Any) -> None:
        if any(r["dynamodb"]["NewImage"].get("poison") for r in event["Records"]):
            raise ValueError("poison pill")

    caplog.set_level(logging.INFO, logger="ddbtrigger.sandbox.invocations")
    sandbox.register_handler("fn", handler)
    stream = make_table(sandbox)
    create_mapping(sandbox, stream, "fn", BatchSize=1, MaximumRetryAttempts=0)
    put(sandbox, "ok")
    put(sandbox, "pill", poison=True)
    events = wait_for(lambda: len(log_events(sandbox, "fn")) >= 9 and log_events(sandbox, "fn"), what="logs")
    messages = [e["message"] for e in events]
    assert sum(m.startswith("START RequestId: ") for m in messages) == 2
    assert sum(m.startswith("END RequestId: ") for m in messages) == 2
    assert sum(m.startswith("REPORT RequestId: ") and "\tDuration: " in m for m in messages) == 2
    assert any(re.fullmatch(r"ddbtrigger sandbox: fn: 1 record\(s\) -> OK \(\d+ ms\)", m) for m in messages)
    assert any("fn: 1 record(s) -> Unhandled: ValueError: poison pill" in m for m in messages)
    (error,) = [m for m in messages if m.startswith("[ERROR]")]
    assert error.startswith("[ERROR] ValueError: poison pill\nTraceback (most recent call last):")
    assert "test_runtime.py" in error and "handlers.py" not in error  # the handler's frames only
    assert {e["logStreamName"] for e in events} == {e["logStreamName"] for e in events[:1]}
    assert LOG_STREAM.match(events[0]["logStreamName"])
    console = [r.getMessage() for r in caplog.records if r.name == "ddbtrigger.sandbox.invocations"]
    assert any(m.startswith("fn: 1 record(s) -> OK") for m in console)
    assert any("Traceback (most recent call last)" in m for m in console)


def test_a_redeploy_starts_a_new_log_stream(sandbox: Any) -> None:
    """Lambda writes a new execution environment's logs to a new stream: so does a redeploy here."""
    sandbox.register_handler("fn", lambda event, context: "v1")
    invoke(sandbox, "fn", {})
    lam = sandbox.client("lambda")
    lam.update_function_code(
        FunctionName="fn", ZipFile=package(**{"sandbox.py": "def handler(e, c):\n    return 2\n"})
    )
    assert invoke(sandbox, "fn", {}) == (None, 2)
    streams = sandbox.client("logs").describe_log_streams(logGroupName="/aws/lambda/fn")["logStreams"]
    assert len(streams) == 2 and all(LOG_STREAM.match(s["logStreamName"]) for s in streams)


POWERTOOLS = HERE / "powertools_handler.py"


def test_a_powertools_handler_runs_unchanged_in_the_sandbox_and_under_redrive(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12 "done when": a handler written with AWS Lambda Powertools (BatchProcessor with partial
    batch responses, its models for the stream event and the on-failure record) runs unchanged in the
    sandbox and under ``redrive --handler``. Recorded: a partial batch failure's record has
    ``functionError: null``, which Powertools' on-failure model accepts."""
    from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel

    handler = load_handler(f"{POWERTOOLS}:handler")
    sandbox.register_handler("orders-fn", handler)
    stream = make_table(sandbox)
    url, arn = make_queue(sandbox, "dlq")
    put(sandbox, "k0")
    put(sandbox, "k1", poison=True)
    put(sandbox, "k2")
    create_mapping(
        sandbox, stream, "orders-fn", BatchSize=3, MaximumRetryAttempts=2,
        FunctionResponseTypes=["ReportBatchItemFailures"], DestinationConfig={"OnFailure": {"Destination": arn}},
    )  # fmt: skip
    sqs = sandbox.client("sqs")
    (message,) = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, VisibilityTimeout=0).get("Messages"),
        timeout=20,
        what="the pill's invocation record",
    )  # VisibilityTimeout 0: left in place for the redrive below
    record = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(message["Body"])
    assert record.response_context.function_error is None and record.response_context.status_code == 200
    assert record.request_context.approximate_invoke_count == 3  # [k1, k2] once + 2 retries
    assert record.ddb_stream_batch_info.batch_size == 2 and record.ddb_stream_batch_info.stream_arn == stream
    events = handler.current().__globals__["EVENTS"]  # what the handler's own module saw, parsed
    assert [[r.dynamodb.Keys["pk"] for r in e.Records] for e in events] == [["k0", "k1", "k2"]] + [
        ["k1", "k2"]
    ] * 3

    # the same file, loaded by redrive --handler: still poisoned, then "fixed"
    first = _redrive(sandbox, handler=f"{POWERTOOLS}:handler")
    assert [r.status.value for r in first.results] == ["failed"]
    monkeypatch.setenv("ACCEPT_POISON", "1")
    second = _redrive(sandbox, handler=f"{POWERTOOLS}:handler", delete_on_success=True)
    assert [r.status.value for r in second.results] == ["redriven"]
    assert second.as_json()["records"] == 2


def _redrive(sb: Any, **options: Any) -> Any:
    from ddbtrigger.core.loader import load_spec
    from ddbtrigger.usecases.redrive import RedriveOptions, open_redrive

    spec = "version: 1\ntriggers:\n  - {name: orders-audit, table: orders, function: orders-fn, on_failure: {type: sqs, name: dlq}}\n"
    factory = sandbox_factory(sb)
    with open_redrive(factory, load_spec(spec, "ddbtrigger.yaml").triggers, RedriveOptions(**options)) as run:
        return run.run()

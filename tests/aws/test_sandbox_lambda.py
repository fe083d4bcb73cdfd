"""Lambda in the sandbox: local handlers behind Invoke, and event source mappings' API fidelity."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest_sandbox import (
    create_mapping,
    make_table,
    wait_for,
)


def _boom(event: Any, context: Any) -> Any:
    raise KeyError(event.get("key"))


def test_invoke_runs_the_handler_with_a_lambda_context(sandbox: Any) -> None:
    seen: dict[str, Any] = {}

    def handler(event: Any, context: Any) -> Any:
        seen.update(
            event=event,
            name=context.function_name,
            arn=context.invoked_function_arn,
            request=context.aws_request_id,
            remaining=context.get_remaining_time_in_millis(),
        )
        return {"echo": event["n"] * 2}

    sandbox.register_handler("calc", handler)
    response = sandbox.client("lambda").invoke(FunctionName="calc", Payload=json.dumps({"n": 21}))
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"echo": 42}
    assert seen["event"] == {"n": 21}
    assert seen["name"] == "calc"
    assert seen["arn"].endswith(":function:calc")
    assert len(seen["request"]) == 36
    assert 0 < seen["remaining"] <= 30_000


def test_an_exception_is_an_unhandled_function_error(sandbox: Any) -> None:
    sandbox.register_handler("boom", _boom)
    response = sandbox.client("lambda").invoke(FunctionName="boom", Payload=json.dumps({"key": "x"}))
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "KeyError"
    assert payload["errorMessage"] == "'x'"
    assert isinstance(payload["stackTrace"], list) and payload["stackTrace"]


def test_invoking_a_missing_function_is_a_404(sandbox: Any) -> None:
    with pytest.raises(ClientError) as caught:
        sandbox.client("lambda").invoke(FunctionName="nope", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_register_handler_replaces_the_handler_and_creates_the_function_once(sandbox: Any) -> None:
    sandbox.register_handler("fn", _boom)
    sandbox.register_handler("fn", lambda event, context: "fixed")
    lam = sandbox.client("lambda")
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]] == ["fn"]
    response = lam.invoke(FunctionName="fn", Payload=b"{}")
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == "fixed"


def test_event_invocations_run_asynchronously(sandbox: Any) -> None:
    calls: list[Any] = []
    sandbox.register_handler("later", lambda event, context: calls.append(event))
    response = sandbox.client("lambda").invoke(
        FunctionName="later", InvocationType="Event", Payload=b'{"a": 1}'
    )
    assert response["StatusCode"] == 202
    wait_for(lambda: calls == [{"a": 1}])


def test_latency_delays_every_request() -> None:
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(latency_ms=40, poll_interval=0.05, state_seconds=0) as sb:
        ddb = sb.client("dynamodb")
        ddb.list_tables()
        started = time.perf_counter()
        for _ in range(3):
            ddb.list_tables()
        assert time.perf_counter() - started >= 0.12


def test_mapping_api_fidelity(sandbox: Any) -> None:
    stream = make_table(sandbox)
    assert stream
    sandbox.register_handler("orders-audit", lambda e, c: None)
    lam = sandbox.client("lambda")
    mapping = create_mapping(sandbox, stream, "orders-audit")
    assert mapping["LastProcessingResult"] == "No records processed"
    with pytest.raises(ClientError) as dup:
        create_mapping(sandbox, stream, "orders-audit")
    assert dup.value.response["Error"]["Code"] == "ResourceConflictException"
    assert mapping["UUID"] in dup.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as bad:
        lam.update_event_source_mapping(UUID=mapping["UUID"], MaximumRecordAgeInSeconds=30)
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValueException"
    arn = lam.get_function(FunctionName="orders-audit")["Configuration"]["FunctionArn"]
    for name in ("orders-audit", arn):
        found = lam.list_event_source_mappings(EventSourceArn=stream, FunctionName=name)[
            "EventSourceMappings"
        ]
        assert [m["UUID"] for m in found] == [mapping["UUID"]]
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    with pytest.raises(ClientError) as gone:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_fifo_and_on_success_destinations_are_rejected(sandbox: Any) -> None:
    stream = make_table(sandbox)
    sandbox.register_handler("fn", lambda e, c: None)
    assert stream
    fifo = "arn:aws:sqs:us-east-1:123456789012:dlq.fifo"
    for config in (
        {"OnFailure": {"Destination": fifo}},
        {"OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}},
    ):
        with pytest.raises(ClientError) as caught:
            create_mapping(sandbox, stream, "fn", DestinationConfig=config)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"


EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "handlers.py"


def test_handlers_load_from_a_file_or_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ddbtrigger.sandbox.handlers import load_handler

    audit = load_handler(f"{EXAMPLES}:audit")
    poison = {
        "Records": [
            {
                "eventName": "INSERT",
                "dynamodb": {"Keys": {"pk": {"S": "p"}}, "NewImage": {"poison": {"BOOL": True}}},
            }
        ]
    }
    with pytest.raises(ValueError, match="poison pill"):
        audit(poison, None)
    assert load_handler(f"{EXAMPLES}:audit_fixed")(poison, None)["skipped"] == [{"pk": {"S": "p"}}]
    (tmp_path / "local_handlers_mod.py").write_text("def go(event, context):\n    return 7\n")
    monkeypatch.chdir(tmp_path)
    assert load_handler("local_handlers_mod:go")({}, None) == 7
    for bad in ("no-colon", "missing_module_xyz:go", f"{tmp_path}/nope.py:go", "local_handlers_mod:absent"):
        with pytest.raises(ValueError):
            load_handler(bad)


def test_record_log_writes_one_line_per_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ddbtrigger.sandbox.handlers import load_handler

    log = tmp_path / "records.jsonl"
    monkeypatch.setenv("DDBTRIGGER_RECORD_LOG", str(log))
    record_log = load_handler(f"{EXAMPLES}:record_log")
    event = {
        "Records": [
            {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(n), "Keys": {}}} for n in (1, 2)
        ]
    }
    record_log(event, None)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["sequence_number"] for line in lines] == ["1", "2"]
    assert not any(line["failed"] for line in lines)


def test_a_busy_port_raises_and_leaves_moto_as_it_was() -> None:
    import socket

    from moto.awslambda_simple.models import LambdaSimpleBackend

    from ddbtrigger.sandbox import Sandbox

    original = LambdaSimpleBackend.invoke
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError):
            Sandbox(port=taken.getsockname()[1]).start()
    assert LambdaSimpleBackend.invoke is original
    with Sandbox(state_seconds=0) as sb:  # and the next one starts
        assert sb.endpoint_url.startswith("http://127.0.0.1:")
    assert LambdaSimpleBackend.invoke is original

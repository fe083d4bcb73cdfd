"""Lambda as AWS has it, on top of moto's Lambda backend.

- Invoke runs the registered local handler (see ``handlers.py``); a function that does not exist is a
  404 ``ResourceNotFoundException`` (moto's Docker-less backend would "succeed").
- moto's own invoke-on-write (``send_dynamodb_items``) is switched off: the sandbox's mapping emulator
  reads the streams instead.
- Event source mappings: one per (stream, function) (409 otherwise), AWS's ranges are checked,
  ``LastProcessingResult`` is reported, LATEST remembers the shard's end at creation, and
  ``ListEventSourceMappings(FunctionName=...)`` matches a name or an ARN.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from ddbtrigger.sandbox.handlers import HandlerRegistry, InvokeResult, run_handler
from ddbtrigger.sandbox.patching import Patcher
from ddbtrigger.sandbox.streams import StreamsError, StreamsModel

NO_RECORDS = "No records processed"


@dataclass
class MappingRuntime:
    """The sandbox's own state of one mapping, kept on moto's EventSourceMapping object."""

    last_processing_result: str = NO_RECORDS
    latest_positions: dict[str, int] = field(default_factory=dict)


def runtime_of(esm: Any) -> MappingRuntime:
    runtime: MappingRuntime | None = getattr(esm, "_sandbox_runtime", None)
    if runtime is None:
        runtime = MappingRuntime()
        esm._sandbox_runtime = runtime
    return runtime


def lambda_backend_for(account_id: str, region: str) -> Any:
    from moto.awslambda.utils import get_backend

    return get_backend(account_id, region)


def invoke_function(registry: HandlerRegistry, function_arn: str, body: bytes) -> InvokeResult:
    """The mapping emulator's invoke: the same handler path as the Invoke API."""
    from moto.awslambda.exceptions import UnknownFunctionException

    parts = function_arn.split(":")
    backend = lambda_backend_for(parts[4], parts[3])
    try:
        fn = backend.get_function(function_arn)
    except UnknownFunctionException as e:
        error = {"errorMessage": str(e.message), "errorType": "ResourceNotFoundException"}
        return InvokeResult(json.dumps(error).encode(), "Unhandled", "", 404)
    handler = registry.get(fn.function_name)
    if handler is None:
        return InvokeResult(body, None, "")
    return run_handler(
        handler,
        body,
        function_name=fn.function_name,
        function_arn=fn.function_arn,
        timeout=float(fn.timeout or 3),
    )


def _invoke_patch(registry: HandlerRegistry, original: Any) -> Any:
    def invoke(
        backend: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> Any:
        fn = backend.get_function(function_name, qualifier)  # 404 ResourceNotFoundException if missing
        handler = registry.get(fn.function_name)
        if handler is None:
            return original(backend, function_name, qualifier, body, headers, response_headers)
        kind = headers.get("X-Amz-Invocation-Type", "RequestResponse")
        response_headers["x-amz-executed-version"] = "$LATEST"
        call = {
            "function_name": fn.function_name,
            "function_arn": fn.function_arn,
            "timeout": float(fn.timeout or 3),
        }
        if kind == "DryRun":
            return b""
        if kind == "Event":
            threading.Thread(target=run_handler, args=(handler, body), kwargs=call, daemon=True).start()
            return b""
        result = run_handler(handler, body, **call)
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        return result.payload

    return invoke


def _validate_mapping(spec: dict[str, Any], *, creating: bool) -> None:
    """The ranges AWS checks for a DynamoDB stream mapping (moto checks none)."""
    from moto.awslambda.exceptions import InvalidParameterValueException as Invalid

    from ddbtrigger.core.filters import INVALID_PATTERN, PatternError, check_filter_criteria

    try:
        check_filter_criteria(spec.get("FilterCriteria"))
    except PatternError:
        raise Invalid(INVALID_PATTERN) from None
    checks = (
        ("BatchSize", 1, 10000),
        ("MaximumBatchingWindowInSeconds", 0, 300),
        ("ParallelizationFactor", 1, 10),
        ("MaximumRetryAttempts", -1, 10000),
        ("MaximumRecordAgeInSeconds", -1, 604800),
        ("TumblingWindowInSeconds", 0, 900),
    )
    for key, low, high in checks:
        value = spec.get(key)
        if value is not None and not low <= int(value) <= high:
            raise Invalid(f"{key} must be between {low} and {high}: {value}")
    age = spec.get("MaximumRecordAgeInSeconds")
    if age is not None and 0 <= int(age) < 60:
        raise Invalid(f"MaximumRecordAgeInSeconds must be -1 or between 60 and 604800: {age}")
    if creating and spec.get("StartingPosition") not in ("TRIM_HORIZON", "LATEST"):
        raise Invalid("StartingPosition must be TRIM_HORIZON or LATEST for a DynamoDB stream")
    destination = spec.get("DestinationConfig") or {}
    if "OnSuccess" in destination:
        raise Invalid("Unsupported DestinationConfig parameter for given event source mapping type.")
    if "OnFailure" in destination:
        arn = (destination["OnFailure"] or {}).get("Destination")
        if arn is None:  # an empty string clears the destination
            raise Invalid("The Destination field is required.")
        if str(arn).endswith(".fifo"):
            raise Invalid("FIFO destinations are not supported for this event source mapping type.")


def _create_patch(model: StreamsModel, original: Any) -> Any:
    from moto.awslambda.exceptions import LambdaClientError
    from moto.dynamodb.models import dynamodb_backends

    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        source = spec.get("EventSourceArn", "")
        if ":dynamodb:" in source:
            _validate_mapping(spec, creating=True)
            fn = backend.get_function(spec.get("FunctionName", ""))
            for esm in backend._event_source_mappings.values():
                if esm.event_source_arn == source and esm.function_arn == fn.function_arn:
                    raise LambdaClientError(
                        "ResourceConflictException",
                        f"The event source arn ({source}) and function ({fn.function_name}) provided "
                        f"mapping already exists. Please update or delete the existing mapping with "
                        f"UUID {esm.uuid}",
                    )
        esm = original(backend, spec)
        if ":dynamodb:" in source:
            runtime = runtime_of(esm)
            try:
                stream = model.find(dynamodb_backends[backend.account_id][backend.region_name], source)
            except StreamsError:
                return esm
            for shard in stream.shards:
                runtime.latest_positions[shard.id] = len(shard.items)
        return esm

    return create_event_source_mapping


def _list_patch() -> Any:
    def list_event_source_mappings(
        backend: Any, event_source_arn: str | None, function_name: str | None
    ) -> list[Any]:
        found = list(backend._event_source_mappings.values())
        if event_source_arn:
            found = [e for e in found if e.event_source_arn == event_source_arn]
        if function_name:
            found = [
                e
                for e in found
                if function_name in (e.function_name, e.function_arn)
                or e.function_arn.split(":")[6] == function_name
            ]
        return found

    return list_event_source_mappings


def _update_patch(original: Any) -> Any:
    def update_event_source_mapping(backend: Any, uuid: str, spec: dict[str, Any]) -> Any:
        esm = backend._event_source_mappings.get(uuid)
        if esm is None:
            raise _not_found(uuid)
        if ":dynamodb:" in esm.event_source_arn:
            _validate_mapping(spec, creating=False)
        return original(backend, uuid, spec)

    return update_event_source_mapping


def _delete_patch(original: Any) -> Any:
    def delete_event_source_mapping(backend: Any, uuid: str) -> Any:
        if uuid not in backend._event_source_mappings:
            raise _not_found(uuid)
        return original(backend, uuid)

    return delete_event_source_mapping


def _not_found(uuid: str) -> Exception:
    from moto.awslambda.exceptions import LambdaClientError

    return LambdaClientError(
        "ResourceNotFoundException", f"The resource you requested does not exist. ({uuid})"
    )


def install_lambda(patcher: Patcher, registry: HandlerRegistry, model: StreamsModel) -> None:
    """Patch moto's Lambda for the sandbox's lifetime."""
    from moto.awslambda.models import EventSourceMapping, LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def get_configuration(esm: Any) -> dict[str, Any]:
        config: dict[str, Any] = original_config(esm)
        if ":dynamodb:" in esm.event_source_arn:
            config["LastProcessingResult"] = runtime_of(esm).last_processing_result
        return config

    original_config = EventSourceMapping.get_configuration
    patcher.set(LambdaBackend, "send_dynamodb_items", lambda *a, **k: None)
    patcher.set(LambdaSimpleBackend, "invoke", _invoke_patch(registry, LambdaSimpleBackend.invoke))
    patcher.set(LambdaBackend, "invoke", _invoke_patch(registry, LambdaBackend.invoke))
    patcher.set(
        LambdaBackend,
        "create_event_source_mapping",
        _create_patch(model, LambdaBackend.create_event_source_mapping),
    )
    patcher.set(
        LambdaBackend, "update_event_source_mapping", _update_patch(LambdaBackend.update_event_source_mapping)
    )
    patcher.set(
        LambdaBackend, "delete_event_source_mapping", _delete_patch(LambdaBackend.delete_event_source_mapping)
    )
    patcher.set(LambdaBackend, "list_event_source_mappings", _list_patch())
    patcher.set(EventSourceMapping, "get_configuration", get_configuration)

"""Lambda as AWS has it, on top of moto's Lambda backend.

- Invoke runs the registered local handler (see ``handlers.py``); a function that does not exist is a
  404 ``ResourceNotFoundException`` (moto's Docker-less backend would "succeed").
- moto's own invoke-on-write (``send_dynamodb_items``) is switched off: the sandbox's mapping emulator
  reads the streams instead.
- Event source mappings: one per (stream, function) (409 otherwise), AWS's ranges are checked,
  ``LastProcessingResult`` is reported, LATEST remembers the shard's end at creation, and
  ``ListEventSourceMappings(FunctionName=...)`` matches a name or an ARN.
- The mapping API answers as AWS does: 202 with a transitional state, the end state after a dwell
  (``mapping_states.py``), ``ResourceInUseException`` mid-transition, every default field, and AWS's
  error codes, statuses and messages (with ``"Type": "User"``) for the errors recorded on real AWS.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from ddbtrigger.sandbox.handlers import HandlerRegistry, InvokeResult, run_handler
from ddbtrigger.sandbox.mapping_states import POLLING, TRANSITIONAL, Dwell, Lifecycle, update_transition
from ddbtrigger.sandbox.patching import Patcher
from ddbtrigger.sandbox.streams import StreamsError, StreamsModel

NO_RECORDS = "No records processed"


@dataclass
class MappingRuntime:
    """The sandbox's own state of one mapping, kept on moto's EventSourceMapping object."""

    last_processing_result: str = NO_RECORDS
    latest_positions: dict[str, int] = field(default_factory=dict)
    life: Lifecycle = field(default_factory=Lifecycle)


def runtime_of(esm: Any) -> MappingRuntime:
    runtime: MappingRuntime | None = getattr(esm, "_sandbox_runtime", None)
    if runtime is None:
        runtime = MappingRuntime()
        esm._sandbox_runtime = runtime
    return runtime


def current_state(esm: Any) -> str:
    """The mapping's State as GetEventSourceMapping reports it now."""
    return runtime_of(esm).life.state(bool(esm.enabled))


def polls(esm: Any) -> bool:
    """Whether Lambda reads the stream for this mapping now (not while Creating, Enabling, Disabled...)."""
    return bool(esm.enabled) and current_state(esm) in POLLING


def deleting(esm: Any) -> bool:
    return runtime_of(esm).life.deleting


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
    destination = spec.get("DestinationConfig") or {}
    if "OnSuccess" in destination:
        raise Invalid("Unsupported DestinationConfig parameter for given event source mapping type.")
    if "OnFailure" in destination:
        arn = (destination["OnFailure"] or {}).get("Destination")
        if arn is None:  # an empty string clears the destination
            raise Invalid("The Destination field is required.")
        if str(arn).endswith(".fifo"):
            raise Invalid("FIFO destinations are not supported for this event source mapping type.")


STARTING_POSITIONS = ("LATEST", "AT_TIMESTAMP", "TRIM_HORIZON")
DEFAULTS: dict[str, Any] = {
    "BisectBatchOnFunctionError": False,
    "MaximumRecordAgeInSeconds": -1,
    "MaximumRetryAttempts": -1,
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 0,
    "FunctionResponseTypes": [],
    "MaximumBatchingWindowInSeconds": 0,
}


def aws_error(
    code: str, message: str, status: int = 400, *, user: bool = True, key: str = "message"
) -> Exception:
    """A Lambda error with AWS's body: ``{"Type": "User", "message": ...}`` (moto sends ``__type``)."""
    from moto.awslambda.exceptions import LambdaClientError

    error = LambdaClientError(code, message)
    error.code = status
    error.description = json.dumps({"Type": "User", key: message} if user else {"message": message})
    result: Exception = error
    return result


def _not_found(uuid: str) -> Exception:
    return aws_error(
        "ResourceNotFoundException", "The resource you requested does not exist.", 404, key="Message"
    )


def _in_use(verb: str) -> Exception:
    """Not recorded on AWS: the code and status are the API reference's, the wording ours."""
    return aws_error(
        "ResourceInUseException", f"Cannot {verb} the event source mapping because it is in use."
    )


def _validate_source(spec: dict[str, Any]) -> None:
    """The event source and starting position checks, in AWS's order, with AWS's recorded messages."""
    position = spec.get("StartingPosition")
    if position is not None and position not in STARTING_POSITIONS:
        raise aws_error(
            "ValidationException",
            f"1 validation error detected: Value '{position}' at 'startingPosition' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(STARTING_POSITIONS)}]",
            user=False,
        )
    source = spec.get("EventSourceArn") or ""
    if not source:
        raise aws_error("InvalidParameterValueException", "Unrecognized event source.")
    if ":dynamodb:" not in source:
        return
    if position is None:
        raise aws_error(
            "InvalidParameterValueException",
            "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
            "Member must not be null.",
        )
    if position == "AT_TIMESTAMP":
        raise aws_error(
            "InvalidParameterValueException", f"Unsupported starting position for arn type: {source}"
        )


def _find_stream(model: StreamsModel, backend: Any, source: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    try:
        return model.find(dynamodb_backends[backend.account_id][backend.region_name], source)
    except (StreamsError, KeyError):
        raise aws_error("InvalidParameterValueException", f"Stream not found: {source}") from None


def settle(backend: Any) -> None:
    """Remove the mappings whose deletion has run its course (lazily, on the next API call)."""
    for uuid, esm in list(backend._event_source_mappings.items()):
        if runtime_of(esm).life.gone():
            backend._event_source_mappings.pop(uuid, None)


def _create_patch(model: StreamsModel, dwell: Dwell, original: Any) -> Any:
    def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
        settle(backend)
        _validate_source(spec)
        source = spec["EventSourceArn"]
        if ":dynamodb:" not in source:
            esm = original(backend, spec)
            dwell.begin(runtime_of(esm).life, "Creating")
            return esm
        _validate_mapping(spec, creating=True)
        stream = _find_stream(model, backend, source)
        fn = backend.get_function(spec.get("FunctionName", ""))
        for esm in backend._event_source_mappings.values():
            if esm.event_source_arn == source and esm.function_arn == fn.function_arn:
                raise aws_error(
                    "ResourceConflictException",
                    f'The event source arn (" {source} ") and function (" {fn.function_name} ") provided '
                    f"mapping already exists. Please update or delete the existing mapping with "
                    f"UUID {esm.uuid}",
                    409,
                )
        esm = original(backend, spec)
        runtime = runtime_of(esm)
        for shard in stream.shards:
            runtime.latest_positions[shard.id] = len(shard.items)
        dwell.begin(runtime.life, "Creating")
        return esm

    return create_event_source_mapping


def _get_patch(original: Any) -> Any:
    def get_event_source_mapping(backend: Any, uuid: str) -> Any:
        settle(backend)
        return original(backend, uuid)

    return get_event_source_mapping


def _list_patch() -> Any:
    def list_event_source_mappings(
        backend: Any, event_source_arn: str | None, function_name: str | None
    ) -> list[Any]:
        settle(backend)
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


def _settled_mapping(backend: Any, uuid: str, action: str) -> Any:
    """The mapping an update or delete acts on, as AWS checks it: 404 when unknown, 400
    ResourceInUseException while it is still in a transition."""
    settle(backend)
    esm = backend._event_source_mappings.get(uuid)
    if esm is None:
        raise _not_found(uuid)
    if current_state(esm) in TRANSITIONAL:
        raise _in_use(action)
    return esm


def _update_patch(dwell: Dwell, original: Any) -> Any:
    def update_event_source_mapping(backend: Any, uuid: str, spec: dict[str, Any]) -> Any:
        esm = _settled_mapping(backend, uuid, "update")
        if ":dynamodb:" in esm.event_source_arn:
            _validate_mapping(spec, creating=False)
        transition = update_transition(spec, bool(esm.enabled))
        updated = original(backend, uuid, spec)
        dwell.begin(runtime_of(esm).life, transition)
        return updated

    return update_event_source_mapping


def _delete_patch(dwell: Dwell, original: Any) -> Any:
    def delete_event_source_mapping(backend: Any, uuid: str) -> Any:
        esm = _settled_mapping(backend, uuid, "delete")
        dwell.begin(runtime_of(esm).life, "Deleting")
        if dwell.seconds <= 0:
            original(backend, uuid)
        return esm

    return delete_event_source_mapping


def _configuration_patch(original: Any) -> Any:
    """AWS's shape: every default present, State from the life cycle, no empty FilterCriteria."""

    def get_configuration(esm: Any) -> dict[str, Any]:
        config: dict[str, Any] = original(esm)
        config["State"] = current_state(esm)
        config["StateTransitionReason"] = "User action"
        config.pop("Tags", None)  # tags are read through ListTags on the mapping's ARN
        if ":dynamodb:" not in esm.event_source_arn:
            return config
        config["LastProcessingResult"] = runtime_of(esm).last_processing_result
        for key, value in DEFAULTS.items():
            config.setdefault(key, value)
        on_failure = (config.get("DestinationConfig") or {}).get("OnFailure") or {}
        config["DestinationConfig"] = {"OnFailure": on_failure if on_failure.get("Destination") else {}}
        if not (config.get("FilterCriteria") or {}).get("Filters"):
            config.pop("FilterCriteria", None)
        return config

    return get_configuration


def _responses() -> dict[str, Any]:
    """Create/Update/Delete answer 202 with the transitional state they started (even at a 0 s dwell)."""

    def accepted(esm: Any, state: str) -> Any:
        config = esm.get_configuration()
        config["State"] = state
        return 202, {"status": 202}, json.dumps(config)

    def create(self: Any) -> Any:
        return accepted(self.backend.create_event_source_mapping(self.json_body), "Creating")

    def update(self: Any) -> Any:
        uuid = self.path.split("/")[-1]
        esm = self.backend.update_event_source_mapping(uuid, self.json_body)
        return accepted(esm, runtime_of(esm).life.transition or current_state(esm))

    def delete(self: Any) -> Any:
        return accepted(self.backend.delete_event_source_mapping(self.path.split("/")[-1]), "Deleting")

    return {
        "create_event_source_mapping": create,
        "update_event_source_mapping": update,
        "delete_event_source_mapping": delete,
    }


def install_lambda(
    patcher: Patcher, registry: HandlerRegistry, model: StreamsModel, dwell: Dwell | None = None
) -> None:
    """Patch moto's Lambda for the sandbox's lifetime."""
    from moto.awslambda.models import EventSourceMapping, LambdaBackend
    from moto.awslambda.responses import LambdaResponse
    from moto.awslambda_simple.models import LambdaSimpleBackend

    dwell = dwell or Dwell()
    patcher.set(LambdaBackend, "send_dynamodb_items", lambda *a, **k: None)
    patcher.set(LambdaSimpleBackend, "invoke", _invoke_patch(registry, LambdaSimpleBackend.invoke))
    patcher.set(LambdaBackend, "invoke", _invoke_patch(registry, LambdaBackend.invoke))
    patcher.set(
        LambdaBackend,
        "create_event_source_mapping",
        _create_patch(model, dwell, LambdaBackend.create_event_source_mapping),
    )
    patcher.set(
        LambdaBackend,
        "update_event_source_mapping",
        _update_patch(dwell, LambdaBackend.update_event_source_mapping),
    )
    patcher.set(
        LambdaBackend,
        "delete_event_source_mapping",
        _delete_patch(dwell, LambdaBackend.delete_event_source_mapping),
    )
    patcher.set(LambdaBackend, "get_event_source_mapping", _get_patch(LambdaBackend.get_event_source_mapping))
    patcher.set(LambdaBackend, "list_event_source_mappings", _list_patch())
    patcher.set(
        EventSourceMapping, "get_configuration", _configuration_patch(EventSourceMapping.get_configuration)
    )
    for name, method in _responses().items():
        patcher.set(LambdaResponse, name, method)

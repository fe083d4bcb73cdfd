"""The event-source-mapping API as AWS answers it (AWS-NOTES.md, last section: "Mapping responses" and
"Mapping errors", recorded by LocalStack's AWS-validated TestLambdaEventSourceMappings and
TestDynamoDBEventSourceMapping snapshots). Each test asserts code, HTTP status and message.

The transitional states are driven by the sandbox's fake clock: a 2 s dwell, and ``clock.advance``
moves a mapping past it without waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest_sandbox import POLL, FakeClock, create_mapping, make_table, put, stays_false, wait_for

DWELL = 2.0
NOT_FOUND = "The resource you requested does not exist."


@pytest.fixture
def slow(clock: FakeClock) -> Iterator[Any]:
    """A sandbox whose mappings spend ``DWELL`` seconds (of the fake clock) in each transition."""
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=POLL, clock=clock, state_seconds=DWELL) as sb:
        yield sb


@pytest.fixture
def stream(slow: Any) -> str:
    slow.register_handler("orders-fn", lambda event, context: None)
    arn = make_table(slow, "orders")
    assert arn
    return arn


def error_of(call: Callable[[], Any]) -> tuple[str, int, str, dict[str, Any]]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    status = response["ResponseMetadata"]["HTTPStatusCode"]
    return response["Error"]["Code"], status, response["Error"]["Message"], response


def status(response: dict[str, Any]) -> int:
    return int(response["ResponseMetadata"]["HTTPStatusCode"])


def get(sb: Any, uuid: str) -> dict[str, Any]:
    return dict(sb.client("lambda").get_event_source_mapping(UUID=uuid))


# --- responses and states ---------------------------------------------------------------------------


def test_create_answers_202_creating_then_enabled(slow: Any, stream: str, clock: FakeClock) -> None:
    """Recorded: create_response HTTP 202 with "State": "Creating"; get_response "State": "Enabled"."""
    created = create_mapping(slow, stream, "orders-fn")
    assert (status(created), created["State"]) == (202, "Creating")
    assert get(slow, created["UUID"])["State"] == "Creating"
    clock.advance(DWELL)
    assert get(slow, created["UUID"])["State"] == "Enabled"


def test_create_disabled_settles_disabled(slow: Any, stream: str, clock: FakeClock) -> None:
    """Lambda API reference: Creating ends in Enabled, or Disabled for a mapping created disabled."""
    created = create_mapping(slow, stream, "orders-fn", Enabled=False)
    assert created["State"] == "Creating"
    clock.advance(DWELL)
    assert get(slow, created["UUID"])["State"] == "Disabled"


def test_disabling_then_disabled_and_enabling_then_enabled(slow: Any, stream: str, clock: FakeClock) -> None:
    """Recorded (AWS-NOTES): disabling returns "Disabling" (then "Disabled"); enabling "Enabling"."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    clock.advance(DWELL)
    lam = slow.client("lambda")
    disabled = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert (status(disabled), disabled["State"]) == (202, "Disabling")
    clock.advance(DWELL)
    assert get(slow, uuid)["State"] == "Disabled"
    enabled = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert (status(enabled), enabled["State"]) == (202, "Enabling")
    clock.advance(DWELL)
    assert get(slow, uuid)["State"] == "Enabled"


def test_update_of_other_fields_is_updating(slow: Any, stream: str, clock: FakeClock) -> None:
    """Lambda API reference: an update answers 202 and passes through "Updating"."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    clock.advance(DWELL)
    updated = slow.client("lambda").update_event_source_mapping(UUID=uuid, BatchSize=7)
    assert (status(updated), updated["State"]) == (202, "Updating")
    clock.advance(DWELL)
    assert (get(slow, uuid)["State"], get(slow, uuid)["BatchSize"]) == ("Enabled", 7)


def test_delete_answers_202_deleting_then_gone(slow: Any, stream: str, clock: FakeClock) -> None:
    """Recorded: delete_response HTTP 202 with "State": "Deleting"; afterwards the mapping is gone."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    clock.advance(DWELL)
    deleted = slow.client("lambda").delete_event_source_mapping(UUID=uuid)
    assert (status(deleted), deleted["State"]) == (202, "Deleting")
    assert get(slow, uuid)["State"] == "Deleting"
    clock.advance(DWELL)
    code, http, _, _ = error_of(lambda: get(slow, uuid))
    assert (code, http) == ("ResourceNotFoundException", 404)


def test_update_during_a_transition_is_resource_in_use(slow: Any, stream: str) -> None:
    """AWS-NOTES: "an update during one of them is refused with ResourceInUseException" (HTTP 400)."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    code, http, message, _ = error_of(
        lambda: slow.client("lambda").update_event_source_mapping(UUID=uuid, BatchSize=5)
    )
    assert (code, http) == ("ResourceInUseException", 400)
    assert "in use" in message


def test_delete_during_a_transition_is_resource_in_use(slow: Any, stream: str, clock: FakeClock) -> None:
    """Lambda API reference: deleting a mapping that is Updating is ResourceInUseException."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    clock.advance(DWELL)
    slow.client("lambda").update_event_source_mapping(UUID=uuid, BatchSize=5)
    code, http, _, _ = error_of(lambda: slow.client("lambda").delete_event_source_mapping(UUID=uuid))
    assert (code, http) == ("ResourceInUseException", 400)


def test_every_default_field_is_present(slow: Any, stream: str, clock: FakeClock) -> None:
    """Recorded (response-with-empty-filters): BisectBatchOnFunctionError false, MaximumRecordAgeInSeconds
    -1, MaximumRetryAttempts -1, ParallelizationFactor 1, TumblingWindowInSeconds 0, FunctionResponseTypes
    [], DestinationConfig {"OnFailure": {}}, MaximumBatchingWindowInSeconds 0, StateTransitionReason
    "User action", BatchSize 100, LastProcessingResult "No records processed"."""
    created = create_mapping(slow, stream, "orders-fn", StartingPosition="LATEST")
    clock.advance(DWELL)
    expected = {
        "BatchSize": 100,
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {}},
        "FunctionResponseTypes": [],
        "LastProcessingResult": "No records processed",
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "ParallelizationFactor": 1,
        "StartingPosition": "LATEST",
        "StateTransitionReason": "User action",
        "TumblingWindowInSeconds": 0,
    }
    for response in (created, get(slow, created["UUID"])):
        assert {key: response.get(key) for key in expected} == expected
        assert "Tags" not in response


def test_filter_criteria_is_omitted_when_it_has_no_filters(slow: Any, stream: str) -> None:
    """Recorded (response-with-empty-filters): created with FilterCriteria {"Filters": []}, the response
    has no FilterCriteria key."""
    created = create_mapping(slow, stream, "orders-fn", FilterCriteria={"Filters": []})
    assert "FilterCriteria" not in created
    assert "FilterCriteria" not in get(slow, created["UUID"])


def test_a_mapping_outlives_its_table_and_function(slow: Any, stream: str, clock: FakeClock) -> None:
    """Recorded (get_response_post_delete): after the function is deleted the mapping is still there,
    "State": "Enabled"; the same holds when its table is deleted."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    clock.advance(DWELL)
    slow.client("lambda").delete_function(FunctionName="orders-fn")
    slow.client("dynamodb").delete_table(TableName="orders")
    assert get(slow, uuid)["State"] == "Enabled"
    listed = slow.client("lambda").list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    assert [(m["UUID"], m["State"]) for m in listed] == [(uuid, "Enabled")]


# --- the poller follows the states ------------------------------------------------------------------


def test_a_creating_mapping_does_not_poll_and_deleting_stops_it(
    slow: Any, stream: str, clock: FakeClock
) -> None:
    """Lambda reads the stream only once the mapping is Enabled, and stops when it is Deleting."""
    seen: list[str] = []
    slow.register_handler(
        "orders-fn", lambda event, context: seen.extend(r["eventID"] for r in event["Records"])
    )
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    put(slow, "a")
    assert stays_false(lambda: seen, slow)
    clock.advance(DWELL)
    wait_for(lambda: len(seen) == 1, what="the first record once Enabled")
    slow.client("lambda").delete_event_source_mapping(UUID=uuid)
    put(slow, "b")
    assert stays_false(lambda: len(seen) > 1, slow)


# --- errors -----------------------------------------------------------------------------------------


def test_duplicate_mapping_is_409_with_the_recorded_message(slow: Any, stream: str) -> None:
    """Recorded: 409 ResourceConflictException 'The event source arn (" ARN ") and function (" NAME ")
    provided mapping already exists. Please update or delete the existing mapping with UUID UUID'."""
    uuid = create_mapping(slow, stream, "orders-fn")["UUID"]
    code, http, message, response = error_of(lambda: create_mapping(slow, stream, "orders-fn"))
    assert (code, http) == ("ResourceConflictException", 409)
    assert message == (
        f'The event source arn (" {stream} ") and function (" orders-fn ") provided mapping already '
        f"exists. Please update or delete the existing mapping with UUID {uuid}"
    )
    assert response["Type"] == "User"


def test_a_stream_that_does_not_exist_is_stream_not_found(slow: Any, stream: str) -> None:
    """Recorded: 400 InvalidParameterValueException "Stream not found: ARN"."""
    missing = stream.rsplit("/", 1)[0] + "/2025-02-22T03:03:25.490"
    code, http, message, _ = error_of(lambda: create_mapping(slow, missing, "orders-fn"))
    assert (code, http, message) == ("InvalidParameterValueException", 400, f"Stream not found: {missing}")


@pytest.mark.parametrize("operation", ["get", "update", "delete"])
def test_unknown_uuid_is_404_type_user(slow: Any, operation: str) -> None:
    """Recorded: get/update/delete_unknown_uuid: 404 ResourceNotFoundException "The resource you
    requested does not exist." with "Type": "User"."""
    lam = slow.client("lambda")
    uuid = "00000000-0000-0000-0000-000000000000"
    calls = {
        "get": lambda: lam.get_event_source_mapping(UUID=uuid),
        "update": lambda: lam.update_event_source_mapping(UUID=uuid, BatchSize=5),
        "delete": lambda: lam.delete_event_source_mapping(UUID=uuid),
    }
    code, http, message, response = error_of(calls[operation])
    assert (code, http, message) == ("ResourceNotFoundException", 404, NOT_FOUND)
    assert response["Type"] == "User"


def test_no_event_source_arn_is_unrecognized(slow: Any, stream: str) -> None:
    """Recorded (create_no_event_source_arn): 400 InvalidParameterValueException "Unrecognized event source."."""
    lam = slow.client("lambda")
    code, http, message, response = error_of(
        lambda: lam.create_event_source_mapping(FunctionName="orders-fn", StartingPosition="LATEST")
    )
    assert (code, http, message) == ("InvalidParameterValueException", 400, "Unrecognized event source.")
    assert response["Type"] == "User"


def test_starting_position_missing(slow: Any, stream: str) -> None:
    """Recorded (no_starting_position): 400 IPVE "1 validation error detected: Value null at
    'startingPosition' failed to satisfy constraint: Member must not be null."."""
    lam = slow.client("lambda")
    code, http, message, _ = error_of(
        lambda: lam.create_event_source_mapping(EventSourceArn=stream, FunctionName="orders-fn")
    )
    assert (code, http) == ("InvalidParameterValueException", 400)
    assert message == (
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: "
        "Member must not be null."
    )


def test_starting_position_unknown_value(slow: Any, stream: str) -> None:
    """Recorded (invalid_starting_position): 400 ValidationException "... Member must satisfy enum value
    set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"."""
    code, http, message, _ = error_of(
        lambda: create_mapping(slow, stream, "orders-fn", StartingPosition="invalid")
    )
    assert (code, http) == ("ValidationException", 400)
    assert message == (
        "1 validation error detected: Value 'invalid' at 'startingPosition' failed to satisfy constraint: "
        "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]"
    )


def test_at_timestamp_on_a_dynamodb_stream(slow: Any, stream: str) -> None:
    """Recorded (incompatible_starting_position): 400 IPVE "Unsupported starting position for arn type: ARN"."""
    code, http, message, _ = error_of(
        lambda: create_mapping(
            slow, stream, "orders-fn", StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=0
        )
    )
    assert (code, http) == ("InvalidParameterValueException", 400)
    assert message == f"Unsupported starting position for arn type: {stream}"

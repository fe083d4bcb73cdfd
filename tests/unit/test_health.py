"""Health hints: each rule fires when it should, and stays quiet on a healthy trigger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ddbtrigger.core.health import HealthFacts, hints, human_duration

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
OLD_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2025-01-01T00:00:00.000"

HEALTHY = HealthFacts(
    latest_stream_arn=ARN,
    mapping_state="Enabled",
    last_processing_result="OK",
    mapping_stream_arn=ARN,
    readers=1,
    destination_type="sqs",
    destination_depth=0,
)


def codes(facts: HealthFacts) -> list[str]:
    return [h.code for h in hints(facts, NOW)]


def test_healthy_trigger_has_no_hints() -> None:
    assert hints(HEALTHY, NOW) == []


def test_missing_mapping() -> None:
    facts = HealthFacts(mapping_present=False, latest_stream_arn=ARN, drift=True)
    assert codes(facts) == ["mapping-missing"]


def test_disabled_mapping() -> None:
    (hint,) = hints(HealthFacts(mapping_state="Disabled"), NOW)
    assert hint.code == "mapping-disabled" and hint.level == "warning"
    assert "Disabled" in hint.message


def test_problem_result_is_an_error_and_quoted() -> None:
    (hint,) = hints(
        HealthFacts(mapping_state="Enabled", last_processing_result="PROBLEM: Function call failed"), NOW
    )
    assert hint.level == "error"
    assert "PROBLEM: Function call failed" in hint.message


def test_transitional_state_names_reason() -> None:
    (hint,) = hints(HealthFacts(mapping_state="Updating", state_transition_reason="User action"), NOW)
    assert hint.code == "mapping-transition" and "User action" in hint.message


def test_destination_not_empty_with_age_and_time_left() -> None:
    facts = HealthFacts(
        destination_type="sqs", destination_depth=3, oldest_failure_at=NOW - timedelta(hours=5, minutes=12)
    )
    (hint,) = hints(facts, NOW)
    assert hint.code == "destination-not-empty"
    assert "3 failures" in hint.message
    assert "5h 12m old" in hint.message
    assert "within 18h 48m" in hint.message


def test_destination_not_empty_age_unknown_and_expired() -> None:
    (unknown,) = hints(HealthFacts(destination_depth=1), NOW)
    assert "1 failure:" in unknown.message and " old" not in unknown.message
    old = HealthFacts(
        destination_type="sqs", destination_depth=2, oldest_failure_at=NOW - timedelta(hours=30)
    )
    assert "may already be trimmed" in hints(old, NOW)[0].message
    assert hints(old, NOW)[0].level == "error"
    s3 = HealthFacts(destination_type="s3", destination_depth=2, oldest_failure_at=NOW - timedelta(hours=30))
    assert "S3 keeps its records" in hints(s3, NOW)[0].message
    assert hints(s3, NOW)[0].level == "warning"


def test_more_than_two_readers() -> None:
    assert codes(HealthFacts(readers=2)) == []
    assert codes(HealthFacts(readers=3)) == ["too-many-readers"]


def test_stale_stream_arn() -> None:
    facts = HealthFacts(mapping_state="Enabled", latest_stream_arn=ARN, mapping_stream_arn=OLD_ARN)
    assert codes(facts) == ["stale-stream"]


def test_disabled_stream_and_drift_and_iterator_age() -> None:
    facts = HealthFacts(stream_enabled=False, drift=True, iterator_age=timedelta(hours=2))
    assert codes(facts) == ["stream-disabled", "iterator-age", "drift"]


def test_errors_sort_before_warnings() -> None:
    facts = HealthFacts(mapping_state="Disabled", last_processing_result="PROBLEM: x", readers=4)
    levels = [h.level for h in hints(facts, NOW)]
    assert levels == sorted(levels, key=["error", "warning", "info"].index)


def test_human_duration() -> None:
    assert human_duration(timedelta(seconds=45)) == "45s"
    assert human_duration(timedelta(minutes=12, seconds=5)) == "12m"
    assert human_duration(timedelta(hours=5)) == "5h"
    assert human_duration(timedelta(days=2, hours=3, minutes=9)) == "2d 3h"
    assert human_duration(timedelta(seconds=-5)) == "0s"


def test_missing_table_says_only_that() -> None:
    facts = HealthFacts(table_present=False, stream_enabled=False, mapping_present=False)
    assert codes(facts) == ["table-missing"]


def test_missing_function_and_destination() -> None:
    facts = HealthFacts(function_present=False, mapping_present=False, destination_exists=False)
    assert codes(facts) == ["function-missing", "mapping-missing", "destination-missing"]


def test_extra_mappings_on_old_streams() -> None:
    (hint,) = hints(HealthFacts(mapping_state="Enabled", extra_stale_mappings=2), NOW)
    assert hint.code == "stale-mappings" and hint.message.startswith("2 more mapping(s)")

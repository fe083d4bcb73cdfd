"""The spec model: the tool's safe defaults, deep-merged defaults, and the helpers other code uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.spec import MappingSpec, OnFailureSpec, Spec, TriggerSpec
from ddbtrigger.errors import UsageError
from ddbtrigger.usecases.spec_file import read_spec, select_triggers

ROOT = Path(__file__).resolve().parents[2]
ONE = "version: 1\ntriggers:\n  - name: a\n    table: orders\n    function: fn\n"


def test_the_safe_defaults() -> None:
    [trigger] = load_spec(ONE, "spec.yaml").triggers
    m = trigger.mapping
    assert (m.bisect_batch_on_function_error, m.maximum_retry_attempts, m.maximum_record_age_in_seconds) == (
        True,
        3,
        3600,
    )
    assert (m.report_batch_item_failures, m.starting_position, m.batch_size) == (True, "TRIM_HORIZON", 100)
    assert (m.maximum_batching_window_in_seconds, m.parallelization_factor, m.tumbling_window_in_seconds) == (
        0,
        1,
        0,
    )
    assert (m.enabled, m.filters, m.tags) == (True, [], {})
    assert trigger.stream.view_type == "NEW_AND_OLD_IMAGES"
    assert trigger.on_failure is None


def test_defaults_deep_merge_under_every_trigger() -> None:
    text = (
        "version: 1\ndefaults:\n  mapping:\n    maximum_retry_attempts: 5\n    tags: {team: data}\n"
        "  on_failure: {type: sqs, name: shared-dlq}\n"
        "triggers:\n  - name: a\n    table: orders\n    function: fn\n"
        "  - name: b\n    table: orders\n    function: fn\n    mapping: {maximum_retry_attempts: 1, tags: {app: b}}\n"
        "  - name: c\n    table: orders\n    function: fn\n    on_failure: {type: s3, name: bucket}\n"
    )
    a, b, c = load_spec(text, "spec.yaml").triggers
    assert (a.mapping.maximum_retry_attempts, a.mapping.tags) == (5, {"team": "data"})
    assert (b.mapping.maximum_retry_attempts, b.mapping.tags) == (1, {"team": "data", "app": "b"})
    assert a.on_failure == OnFailureSpec(type="sqs", name="shared-dlq")
    assert c.on_failure is not None and (c.on_failure.type, c.on_failure.name) == ("s3", "bucket")


def test_a_trigger_can_drop_the_default_destination_with_null() -> None:
    text = (
        "version: 1\ndefaults:\n  on_failure: {type: sqs, name: q}\n"
        "triggers:\n  - name: a\n    table: orders\n    function: fn\n    on_failure: null\n"
    )
    assert load_spec(text, "spec.yaml").triggers[0].on_failure is None


def test_table_name_from_name_or_arn() -> None:
    assert TriggerSpec(name="a", table="orders", function="f").table_name == "orders"
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/orders-v2"
    assert TriggerSpec(name="a", table=arn, function="f").table_name == "orders-v2"


def test_destination_helpers() -> None:
    managed = OnFailureSpec(type="sqs", name="q")
    assert managed.managed and managed.retention_seconds == 1_209_600
    existing = OnFailureSpec(
        type="sqs", arn="arn:aws:sqs:us-east-1:123456789012:q", message_retention_seconds=600
    )
    assert not existing.managed and existing.retention_seconds == 600


def test_models_are_strict_and_frozen() -> None:
    with pytest.raises(ValueError):
        MappingSpec(batch_size="10")  # type: ignore[arg-type]
    mapping = MappingSpec()
    with pytest.raises(ValueError):
        mapping.batch_size = 5  # type: ignore[misc]


def test_select_and_unknown_triggers() -> None:
    spec = read_spec(ROOT / "config.example.yaml", env="dev")
    assert isinstance(spec, Spec)
    assert [t.name for t in spec.select(None)] == ["orders-audit", "orders-archive"]
    assert [t.name for t in spec.select(["orders-archive"])] == ["orders-archive"]
    assert spec.unknown_triggers(["orders-archive", "nope"]) == ["nope"]
    assert [t.name for t in select_triggers(spec, ["orders-audit"])] == ["orders-audit"]
    with pytest.raises(UsageError, match="no trigger named nope"):
        select_triggers(spec, ["nope"])


def test_example_spec_loads_with_every_documented_key() -> None:
    spec = read_spec(ROOT / "config.example.yaml", env="dev")
    audit, archive = spec.triggers
    assert spec.region == "us-east-1"
    assert audit.mapping.filters == [{"eventName": ["INSERT", "MODIFY"]}]
    assert audit.on_failure is not None and audit.on_failure.kms_key == "alias/aws/sqs"
    assert archive.on_failure is not None and archive.on_failure.type == "s3"
    assert archive.lint_ignore == ["DDBT005"]
    assert audit.alarms.topics == ("arn:aws:sns:us-east-1:123456789012:oncall-dev",)
    assert set(audit.alarms.settings()) == {
        "iterator_age_seconds",
        "function_errors",
        "failures_waiting",
        "oldest_failure_age_seconds",
    }
    assert set(archive.alarms.settings()) == {"iterator_age_seconds", "function_errors"}

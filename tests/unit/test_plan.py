"""The pure planner against hand-built live state (no AWS, no mocks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

import pytest

from ddbtrigger.core.desired import ArnContext, create_params, desired_mapping
from ddbtrigger.core.live import LiveDestination, LiveMapping, LiveTable, LiveTrigger
from ddbtrigger.core.plan import (
    CreateMapping,
    DeleteMapping,
    DestinationStep,
    Plan,
    TagMapping,
    UntagMapping,
    UpdateMapping,
    UpdateStream,
    plan,
    plan_destroy,
)
from ddbtrigger.core.spec import TriggerSpec
from ddbtrigger.errors import Conflict, NotFound

ACCOUNT = "123456789012"
TABLE_ARN = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
STREAM = f"{TABLE_ARN}/stream/2026-01-02T00:00:00.000"
OLD_STREAM = f"{TABLE_ARN}/stream/2025-01-01T00:00:00.000"
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-fn"
QUEUE_ARN = f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-audit-dlq"
CTX = ArnContext("aws", "us-east-1", ACCOUNT)


def spec_trigger(**overrides: Any) -> TriggerSpec:
    body: dict[str, Any] = {
        "name": "orders-audit",
        "table": "orders",
        "function": "orders-fn",
        "on_failure": {"type": "sqs", "name": "orders-audit-dlq"},
    }
    body.update(overrides)
    return TriggerSpec.model_validate(body)


def table(**overrides: Any) -> LiveTable:
    base = LiveTable("orders", TABLE_ARN, "ACTIVE", True, "NEW_AND_OLD_IMAGES", STREAM)
    return replace(base, **overrides)


def mapping_for(trigger: TriggerSpec, **overrides: Any) -> LiveMapping:
    """The live mapping exactly as apply would have created it from ``trigger``."""
    want = desired_mapping(trigger, CTX)
    base = LiveMapping(
        uuid="u-1",
        arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:u-1",
        event_source_arn=STREAM,
        function_arn=FUNCTION_ARN,
        state="Enabled" if want["enabled"] else "Disabled",
        starting_position=want["starting_position"],
        batch_size=want["batch_size"],
        maximum_batching_window_in_seconds=want["maximum_batching_window_in_seconds"],
        parallelization_factor=want["parallelization_factor"],
        bisect_batch_on_function_error=want["bisect_batch_on_function_error"],
        maximum_retry_attempts=want["maximum_retry_attempts"],
        maximum_record_age_in_seconds=want["maximum_record_age_in_seconds"],
        report_batch_item_failures=want["report_batch_item_failures"],
        tumbling_window_in_seconds=want["tumbling_window_in_seconds"],
        filters=tuple(want["filters"]),
        destination_arn=want["destination"],
        tags=want["tags"] or {},
    )
    return replace(base, **overrides)


def queue(**overrides: Any) -> LiveDestination:
    base = LiveDestination(
        "sqs",
        QUEUE_ARN,
        "orders-audit-dlq",
        True,
        managed_tag="orders-audit",
        attributes={"MessageRetentionPeriod": "1209600", "SqsManagedSseEnabled": "true"},
        url="https://sqs.example/123/orders-audit-dlq",
    )
    return replace(base, **overrides)


def live_for(trigger: TriggerSpec, **overrides: Any) -> LiveTrigger:
    base = LiveTrigger(trigger.name, FUNCTION_ARN, table(), mapping_for(trigger), (), queue())
    return replace(base, **overrides)


def one(trigger: TriggerSpec, live: LiveTrigger) -> Plan:
    return plan([trigger], [live], region="us-east-1")


def by_resource(p: Plan, resource: str) -> list[Any]:
    return [c for c in p.changes if c.resource == resource]


def ops(change: Any) -> list[str]:
    return [s.op for s in change.steps]


S = TypeVar("S")


def step(change: Any, index: int, kind: type[S]) -> S:
    """The change's step at ``index``, which must be a ``kind`` (steps are typed values)."""
    found = change.steps[index]
    assert isinstance(found, kind)
    return found


def test_matching_live_state_is_no_op_everywhere() -> None:
    t = spec_trigger(mapping={"filters": [{"eventName": ["INSERT"]}], "tags": {"team": "payments"}})
    p = one(t, live_for(t))
    assert [c.action for c in p.changes] == ["no-op", "no-op", "no-op"]
    assert p.pending == ()
    assert p.summary() == {"create": 0, "update": 0, "replace": 0, "delete": 0, "no-op": 3}


def test_nothing_live_creates_destination_then_mapping_in_order() -> None:
    t = spec_trigger()
    live = LiveTrigger(
        t.name, FUNCTION_ARN, table(), None, (), queue(exists=False, managed_tag=None, attributes={})
    )
    p = one(t, live)
    assert [(c.resource, c.action) for c in p.changes] == [
        ("on_failure", "create"),
        ("stream", "no-op"),
        ("mapping", "create"),
    ]
    mapping = p.changes[2]
    assert ops(mapping) == ["create_mapping", "wait_mapping"]
    params = step(mapping, 0, CreateMapping).params
    assert params["DestinationConfig"] == {"OnFailure": {"Destination": QUEUE_ARN}}
    assert params["BisectBatchOnFunctionError"] is True
    assert params["MaximumRetryAttempts"] == 3
    assert params["MaximumRecordAgeInSeconds"] == 3600
    assert params["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert params["StartingPosition"] == "TRIM_HORIZON"
    assert "FilterCriteria" not in params
    dest = p.changes[0]
    assert step(dest, 0, DestinationStep).destination.attributes == {
        "MessageRetentionPeriod": "1209600",
        "SqsManagedSseEnabled": "true",
    }
    assert step(dest, 0, DestinationStep).destination.tags == {"ddbtrigger:trigger": "orders-audit"}


def test_stream_disabled_is_enabled_before_the_mapping() -> None:
    t = spec_trigger()
    live = live_for(
        t, table=table(stream_enabled=False, view_type=None, latest_stream_arn=None), mapping=None
    )
    p = one(t, live)
    stream = by_resource(p, "stream")[0]
    assert stream.action == "create"
    assert ops(stream) == ["wait_table", "update_stream", "wait_table"]
    assert stream.steps[1] == UpdateStream("orders", enabled=True, view_type="NEW_AND_OLD_IMAGES")
    assert [c.resource for c in p.changes].index("stream") < [c.resource for c in p.changes].index("mapping")


def test_view_type_change_disables_enables_then_replaces_the_mapping() -> None:
    t = spec_trigger(stream={"view_type": "KEYS_ONLY"})
    p = one(t, live_for(t))
    stream, mapping = by_resource(p, "stream")[0], by_resource(p, "mapping")[0]
    assert stream.action == "replace"
    assert stream.diff == {"view_type": ("NEW_AND_OLD_IMAGES", "KEYS_ONLY")}
    assert [s.enabled for s in stream.steps if isinstance(s, UpdateStream)] == [False, True]
    assert mapping.action == "replace"
    assert ops(mapping) == ["delete_mapping", "wait_mapping_gone", "create_mapping", "wait_mapping"]
    assert p.replaces == (stream, mapping)


@pytest.mark.parametrize(
    ("field", "live_value", "aws_param", "sent"),
    [
        ("batch_size", 500, "BatchSize", 100),
        ("maximum_retry_attempts", 7, "MaximumRetryAttempts", 3),
        ("maximum_record_age_in_seconds", -1, "MaximumRecordAgeInSeconds", 3600),
        ("bisect_batch_on_function_error", False, "BisectBatchOnFunctionError", True),
        ("parallelization_factor", 4, "ParallelizationFactor", 1),
        ("maximum_batching_window_in_seconds", 5, "MaximumBatchingWindowInSeconds", 0),
        ("tumbling_window_in_seconds", 60, "TumblingWindowInSeconds", 0),
        ("report_batch_item_failures", False, "FunctionResponseTypes", ["ReportBatchItemFailures"]),
    ],
)
def test_one_drifted_field_updates_only_that_field(
    field: str, live_value: Any, aws_param: str, sent: Any
) -> None:
    t = spec_trigger()
    live = live_for(t, mapping=mapping_for(t, **{field: live_value}))
    change = by_resource(one(t, live), "mapping")[0]
    assert change.action == "update"
    assert list(change.diff) == [field]
    assert ops(change) == ["update_mapping", "wait_mapping"]
    assert change.steps[0] == UpdateMapping("u-1", {aws_param: sent})


def test_disabled_mapping_is_re_enabled() -> None:
    t = spec_trigger()
    change = by_resource(one(t, live_for(t, mapping=mapping_for(t, state="Disabled"))), "mapping")[0]
    assert change.diff == {"enabled": (False, True)}
    assert step(change, 0, UpdateMapping).params == {"Enabled": True}


def test_filters_removed_from_spec_are_cleared_with_empty_filter_criteria() -> None:
    t = spec_trigger()
    live = live_for(t, mapping=mapping_for(t, filters=({"eventName": ["REMOVE"]},)))
    change = by_resource(one(t, live), "mapping")[0]
    assert change.diff == {"filters": ([{"eventName": ["REMOVE"]}], [])}
    assert step(change, 0, UpdateMapping).params == {"FilterCriteria": {}}


def test_changed_filters_are_sent_as_json_patterns() -> None:
    t = spec_trigger(mapping={"filters": [{"eventName": ["INSERT", "MODIFY"]}]})
    live = live_for(t, mapping=mapping_for(t, filters=()))
    change = by_resource(one(t, live), "mapping")[0]
    assert step(change, 0, UpdateMapping).params == {
        "FilterCriteria": {"Filters": [{"Pattern": '{"eventName":["INSERT","MODIFY"]}'}]}
    }


def test_destination_drift_points_the_mapping_back() -> None:
    t = spec_trigger()
    other = f"arn:aws:sqs:us-east-1:{ACCOUNT}:someone-else"
    change = by_resource(one(t, live_for(t, mapping=mapping_for(t, destination_arn=other))), "mapping")[0]
    assert change.diff == {"destination": (other, QUEUE_ARN)}
    assert step(change, 0, UpdateMapping).params == {
        "DestinationConfig": {"OnFailure": {"Destination": QUEUE_ARN}}
    }


def test_destination_removed_from_spec_clears_destination_config_without_empty_on_failure() -> None:
    t = spec_trigger(on_failure=None)
    live = live_for(t, mapping=mapping_for(spec_trigger()), destination=None)
    change = by_resource(one(t, live), "mapping")[0]
    assert step(change, 0, UpdateMapping).params == {"DestinationConfig": {}}


def test_read_back_sentinels_and_missing_fields_are_not_false_diffs() -> None:
    t = spec_trigger(
        mapping={
            "maximum_retry_attempts": -1,
            "maximum_record_age_in_seconds": -1,
            "bisect_batch_on_function_error": False,
            "report_batch_item_failures": False,
        },
        lint_ignore=["DDBT002"],
    )
    raw = mapping_for(
        t,
        maximum_retry_attempts=10000,
        maximum_record_age_in_seconds=604800,
        bisect_batch_on_function_error=None,
        maximum_batching_window_in_seconds=None,
        parallelization_factor=None,
        tumbling_window_in_seconds=None,
    )
    assert by_resource(one(t, live_for(t, mapping=raw)), "mapping")[0].action == "no-op"


def test_starting_position_change_is_a_delete_first_replace() -> None:
    t = spec_trigger(mapping={"starting_position": "LATEST"})
    live = live_for(t, mapping=mapping_for(spec_trigger()))
    change = by_resource(one(t, live), "mapping")[0]
    assert change.action == "replace"
    assert "starting_position" in change.reason
    assert change.diff["starting_position"] == ("TRIM_HORIZON", "LATEST")
    assert ops(change) == ["delete_mapping", "wait_mapping_gone", "create_mapping", "wait_mapping"]
    assert change.steps[0] == DeleteMapping("u-1")
    assert step(change, 2, CreateMapping).params["StartingPosition"] == "LATEST"


def test_mapping_on_a_stale_stream_arn_is_replaced_onto_the_latest() -> None:
    t = spec_trigger()
    stale = mapping_for(t, event_source_arn=OLD_STREAM)
    p = one(t, live_for(t, mapping=None, stale_mappings=(stale,)))
    change = by_resource(p, "mapping")[0]
    assert change.action == "replace"
    assert OLD_STREAM in change.reason
    assert change.diff["event_source_arn"][0] == OLD_STREAM
    assert ops(change)[:2] == ["delete_mapping", "wait_mapping_gone"]
    assert step(change, 2, CreateMapping).table == "orders"  # bound at run time to LatestStreamArn


def test_extra_mapping_on_an_old_stream_is_shown_and_removed() -> None:
    t = spec_trigger()
    stale = mapping_for(t, uuid="u-old", event_source_arn=OLD_STREAM)
    p = one(t, live_for(t, stale_mappings=(stale,)))
    mappings = by_resource(p, "mapping")
    assert [c.action for c in mappings] == ["no-op", "delete"]
    assert mappings[1].steps[0] == DeleteMapping("u-old")
    assert p.summary()["delete"] == 1


def test_tags_change_through_tag_and_untag_steps_not_update() -> None:
    t = spec_trigger(mapping={"tags": {"team": "payments", "env": "prod"}})
    live = live_for(t, mapping=mapping_for(t, tags={"team": "search", "stale": "x"}))
    change = by_resource(one(t, live), "mapping")[0]
    assert change.action == "update"
    assert list(change.diff) == ["tags"]
    assert ops(change) == ["untag_mapping", "tag_mapping"]
    assert step(change, 0, UntagMapping).keys == ("stale",)
    assert step(change, 1, TagMapping).tags == {"team": "payments", "env": "prod"}


def test_managed_destination_attribute_drift_is_updated_and_retagged() -> None:
    t = spec_trigger(
        on_failure={"type": "sqs", "name": "orders-audit-dlq", "message_retention_seconds": 86400}
    )
    live = live_for(t, destination=queue(managed_tag=None))
    change = by_resource(one(t, live), "on_failure")[0]
    assert change.action == "update"
    assert change.diff["MessageRetentionPeriod"] == ("1209600", "86400")
    assert ops(change) == ["update_destination", "tag_destination"]
    assert step(change, 0, DestinationStep).destination.attributes == {"MessageRetentionPeriod": "86400"}


def test_kms_encrypted_destinations_ask_for_their_key() -> None:
    t = spec_trigger(on_failure={"type": "sns", "name": "orders-topic"})
    live = live_for(t, destination=None, mapping=None)
    dest = by_resource(one(t, live), "on_failure")[0]
    assert step(dest, 0, DestinationStep).destination.attributes == {"KmsMasterKeyId": "alias/aws/sns"}
    t3 = spec_trigger(on_failure={"type": "s3", "name": "orders-failures", "kms_key": "alias/mine"})
    dest3 = by_resource(one(t3, live_for(t3, destination=None, mapping=None)), "on_failure")[0]
    assert step(dest3, 0, DestinationStep).destination.attributes == {
        "SSEAlgorithm": "aws:kms",
        "PublicAccessBlock": "true",
        "KMSMasterKeyID": "alias/mine",
    }


def test_arn_destination_is_never_changed() -> None:
    t = spec_trigger(on_failure={"type": "sqs", "arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:theirs"})
    live = live_for(t, destination=queue(managed_tag=None, attributes={}), mapping=mapping_for(t))
    change = by_resource(one(t, live), "on_failure")[0]
    assert change.action == "no-op"
    assert change.steps == ()


def test_missing_arn_destination_or_table_is_not_found() -> None:
    t = spec_trigger(on_failure={"type": "sqs", "arn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:gone"})
    with pytest.raises(NotFound, match="gone"):
        one(t, live_for(t, destination=queue(exists=False)))
    with pytest.raises(NotFound, match="table orders does not exist"):
        one(t, live_for(t, table=None))


def test_plan_json_has_the_product_shape() -> None:
    t = spec_trigger(mapping={"batch_size": 10})
    doc = one(t, live_for(t, mapping=mapping_for(spec_trigger()))).as_json()
    assert set(doc) == {"changes", "summary"}
    assert doc["summary"] == {"create": 0, "update": 1, "replace": 0, "delete": 0, "no-op": 2}
    update = next(c for c in doc["changes"] if c["action"] == "update")
    assert update == {
        "trigger": "orders-audit",
        "resource": "mapping",
        "action": "update",
        "diff": {"batch_size": [100, 10]},
        "reason": update["reason"],
    }


def test_destroy_deletes_mappings_and_only_empty_managed_destinations() -> None:
    t = spec_trigger()
    stale = mapping_for(t, uuid="u-old", event_source_arn=OLD_STREAM)
    live = [live_for(t, stale_mappings=(stale,))]
    kept = plan_destroy([t], live, depths={t.name: 3})
    assert [(c.resource, c.action) for c in kept.changes] == [
        ("mapping", "delete"),
        ("mapping", "delete"),
        ("on_failure", "no-op"),
        ("stream", "no-op"),
    ]
    assert "3 failure" in kept.changes[2].reason
    forced = plan_destroy([t], live, depths={t.name: 3}, force=True, disable_stream=True)
    assert [c.action for c in forced.changes] == ["delete", "delete", "delete", "delete"]
    assert [s.enabled for s in forced.changes[3].steps if isinstance(s, UpdateStream)] == [False]


def test_destroy_never_touches_arn_or_foreign_destinations() -> None:
    t = spec_trigger(on_failure={"type": "sqs", "arn": QUEUE_ARN})
    p = plan_destroy([t], [live_for(t)], depths={t.name: 0}, force=True)
    assert by_resource(p, "on_failure")[0].action == "no-op"
    t2 = spec_trigger()
    p2 = plan_destroy([t2], [live_for(t2, destination=queue(managed_tag="other"))], depths={t2.name: 0})
    assert by_resource(p2, "on_failure")[0].action == "no-op"


def test_create_params_leave_out_empty_filters_and_destination() -> None:
    t = spec_trigger(on_failure=None)
    params = create_params(desired_mapping(t, CTX))
    assert "FilterCriteria" not in params
    assert "DestinationConfig" not in params
    assert "Tags" not in params


def test_triggers_sharing_a_table_change_its_stream_once() -> None:
    a = spec_trigger(stream={"view_type": "KEYS_ONLY"})
    b = spec_trigger(name="orders-index", function="index-fn", stream={"view_type": "KEYS_ONLY"})
    live = [live_for(a), replace(live_for(b), trigger="orders-index")]
    p = plan([a, b], live, region="us-east-1")
    streams = by_resource(p, "stream")
    assert [c.action for c in streams] == ["replace", "no-op"]
    assert "orders-audit" in streams[1].reason
    assert [c.action for c in by_resource(p, "mapping")] == ["replace", "replace"]


def test_triggers_asking_different_view_types_of_one_table_are_refused() -> None:
    from ddbtrigger.errors import SpecError

    a = spec_trigger(stream={"view_type": "KEYS_ONLY"})
    b = spec_trigger(name="orders-index", function="index-fn", stream={"view_type": "NEW_IMAGE"})
    with pytest.raises(SpecError, match="different view types"):
        plan([a, b], [live_for(a), replace(live_for(b), trigger="orders-index")], region="us-east-1")


def test_tags_not_written_in_the_spec_are_left_alone() -> None:
    t = spec_trigger()
    live = live_for(t, mapping=mapping_for(t, tags={"added-by": "console"}))
    assert by_resource(one(t, live), "mapping")[0].action == "no-op"
    cleared = spec_trigger(mapping={"tags": {}})
    change = by_resource(one(cleared, live_for(cleared, mapping=mapping_for(t, tags={"x": "y"}))), "mapping")[
        0
    ]
    assert ops(change) == ["untag_mapping"]


def test_a_mapping_still_deleting_is_waited_for_then_created_without_a_replace() -> None:
    t = spec_trigger()
    change = by_resource(one(t, live_for(t, mapping=mapping_for(t, state="Deleting"))), "mapping")[0]
    assert change.action == "create"
    assert ops(change) == ["wait_mapping_gone", "create_mapping", "wait_mapping"]
    assert step(change, 1, CreateMapping).after_delete is True


def test_a_torn_read_during_another_apply_is_a_conflict_not_a_replace() -> None:
    """Table read before another apply enabled the stream, mappings read after it created one."""
    t = spec_trigger()
    torn = live_for(t, table=table(stream_enabled=False, view_type=None, latest_stream_arn=None))
    with pytest.raises(Conflict, match="changed underneath us"):
        one(t, torn)


# --- issue 13: the replay warning, one line per resource, the failures a forced destroy deletes ----


def test_replay_probes_only_mappings_created_at_trim_horizon_on_a_kept_stream() -> None:
    from ddbtrigger.core.plan import REPLAY_WARNING, replay_probes, with_replay_warnings

    new, latest = (
        spec_trigger(),
        spec_trigger(name="b", function="fb", mapping={"starting_position": "LATEST"}),
    )
    live = [live_for(new, mapping=None), live_for(latest, mapping=None)]
    p = plan([new, latest], live, region="us-east-1")
    assert replay_probes(p, [new, latest], live) == {"orders-audit": STREAM}
    disabled = [live_for(new, mapping=None, table=table(stream_enabled=False, latest_stream_arn=None))]
    assert replay_probes(plan([new], disabled, region="us-east-1"), [new], disabled) == {}
    kept = [live_for(new)]
    assert replay_probes(plan([new], kept, region="us-east-1"), [new], kept) == {}
    warned = with_replay_warnings(p, {"orders-audit": REPLAY_WARNING})
    (change,) = [c for c in warned.changes if c.warnings]
    assert (change.resource, change.action) == ("mapping", "create")
    assert warned.as_json()["warnings"] == [f"orders-audit: mapping: {REPLAY_WARNING}"]


def test_destroy_disables_a_shared_stream_once() -> None:
    a, b = spec_trigger(), spec_trigger(name="b", function="fb", on_failure=None)
    p = plan_destroy([a, b], [live_for(a), live_for(b)], depths={}, disable_stream=True)
    streams = [(c.trigger, c.action) for c in p.changes if c.resource == "stream"]
    assert streams == [("orders-audit", "delete"), ("b", "no-op")]


def test_failures_deleted_counts_per_destination() -> None:
    from ddbtrigger.core.plan import failures_deleted

    t = spec_trigger()
    assert failures_deleted(plan_destroy([t], [live_for(t)], depths={t.name: 44}, force=True)) == {
        "sqs orders-audit-dlq": 44
    }
    assert failures_deleted(plan_destroy([t], [live_for(t)], depths={t.name: 0}, force=True)) == {}

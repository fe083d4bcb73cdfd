"""Typed plan steps: checked when the plan is built, run by the executor through a typed gateway."""

from __future__ import annotations

from typing import Any
from unittest.mock import call, create_autospec

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.executor import Executor, StepGateway
from ddbtrigger.core.desired import UPDATABLE, ArnContext, aws_params, create_params, desired_mapping
from ddbtrigger.core.plan import (
    Change,
    CreateMapping,
    Destination,
    DestinationStep,
    Output,
    Plan,
    TagMapping,
    UntagMapping,
    UpdateStream,
    WaitMapping,
    WaitTable,
)
from ddbtrigger.core.spec import TriggerSpec

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
UUID = "11111111-1111-1111-1111-111111111111"


def test_a_step_reading_an_output_no_earlier_step_makes_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="reads output 'mapping'"):
        Change("t", "mapping", "create", "why", {}, (WaitMapping(Output("mapping")),))
    create = CreateMapping("orders", "fn", {})
    with pytest.raises(ValueError, match="no earlier step"):  # named, but only after it is read
        Change("t", "mapping", "create", "why", {}, (WaitMapping(Output(create.output)), create))


def test_a_stream_is_enabled_with_a_view_type_and_disabled_without_one() -> None:
    with pytest.raises(ValueError, match="view type"):
        UpdateStream("orders", enabled=True)
    with pytest.raises(ValueError, match="view type"):
        UpdateStream("orders", enabled=False, view_type="KEYS_ONLY")


def run(*steps: object) -> StepGateway:
    """Run one change of ``steps`` against a gateway built from the Protocol (``create_autospec``: a
    call with a wrong signature fails); returns it for its recorded calls."""
    gateway = create_autospec(StepGateway, instance=True)
    gateway.create_mapping.return_value = "uuid-made"
    gateway.mapping_arn.return_value = "arn:mapping:uuid-made"
    change = Change("t", "mapping", "create", "why", {}, steps)  # type: ignore[arg-type]
    Executor(ClientFactory(AwsTarget(region="us-east-1")), gateway=gateway).run(Plan((change,)))
    return gateway


def test_what_a_create_makes_is_read_by_later_steps_by_name() -> None:
    create = CreateMapping("orders", "fn", {"StartingPosition": "LATEST"}, output="made")
    gw = run(
        WaitTable("orders"),
        create,
        WaitMapping(Output("made")),
        TagMapping(Output("made"), None, {"team": "payments"}),
        UntagMapping("known-uuid", "arn:known", ("stale",)),
    )
    assert gw.wait_mapping.call_args.args == ("uuid-made",)  # type: ignore[attr-defined]
    assert gw.mapping_arn.call_args_list == [call("uuid-made")]  # type: ignore[attr-defined]
    assert gw.tag_mapping.call_args.args == ("arn:mapping:uuid-made", {"team": "payments"})  # type: ignore[attr-defined]
    assert gw.untag_mapping.call_args.args == ("arn:known", ("stale",))  # type: ignore[attr-defined]


def test_destination_steps_go_through_the_one_destination_seam() -> None:
    where = Destination("sqs", "dlq", "t", attributes={"MessageRetentionPeriod": "60"})
    steps = [DestinationStep(action, where) for action in ("create", "update", "tag", "delete")]
    gw = run(*steps)
    assert [c.args[0] for c in gw.destination.call_args_list] == steps  # type: ignore[attr-defined]
    assert [s.op for s in steps] == [
        "create_destination",
        "update_destination",
        "tag_destination",
        "delete_destination",
    ]


def model_errors(operation: str, params: dict[str, Any]) -> str:
    """What botocore's Lambda model says is wrong with ``params`` for ``operation`` ('' when valid)."""
    from botocore.session import get_session
    from botocore.validate import ParamValidator

    shape = get_session().get_service_model("lambda").operation_model(operation).input_shape
    return str(ParamValidator().validate(params, shape).generate_report())


def test_mapping_steps_carry_parameters_lambdas_model_accepts() -> None:
    """The create/update parameters the planner builds, every field set, are valid for AWS's model."""
    trigger = TriggerSpec.model_validate(
        {
            "name": "orders-audit",
            "table": "orders",
            "function": "orders-fn",
            "on_failure": {"type": "sqs", "name": "orders-audit-dlq"},
            "mapping": {"filters": [{"eventName": ["INSERT"]}], "tags": {"team": "payments"}},
        }
    )
    want = desired_mapping(trigger, ArnContext("aws", "us-east-1", "123456789012"))
    where = {"EventSourceArn": STREAM, "FunctionName": "orders-fn"}
    assert model_errors("CreateEventSourceMapping", {**where, **create_params(want)}) == ""
    update = aws_params({k: want[k] for k in UPDATABLE})
    assert model_errors("UpdateEventSourceMapping", {"UUID": UUID, **update}) == ""
    assert "BatchSizes" in model_errors("UpdateEventSourceMapping", {"UUID": UUID, "BatchSizes": 5})

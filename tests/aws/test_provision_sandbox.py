"""Stream re-creation against the sandbox (moto alone cannot re-enable a stream): stale ARNs, view types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.core.loader import load_spec
from ddbtrigger.errors import PlanRefused
from ddbtrigger.usecases.provision import PlanResult, execute, make_plan, refuse_replace
from tests.aws.conftest_provision import spec_text, trigger
from tests.aws.conftest_sandbox import make_table


def factory_for(sb: Any) -> ClientFactory:
    return ClientFactory(AwsTarget(region=sb.region, endpoint_url=sb.endpoint_url, max_attempts=3))


def planned(factory: ClientFactory, path: Path) -> PlanResult:
    spec = load_spec(path.read_text(), str(path))
    return make_plan(factory, spec, list(spec.triggers))


def mappings(sb: Any) -> list[dict[str, Any]]:
    return list(
        sb.client("lambda").list_event_source_mappings(FunctionName="orders-fn")["EventSourceMappings"]
    )


def latest_stream(sb: Any) -> str:
    return str(sb.client("dynamodb").describe_table(TableName="orders")["Table"]["LatestStreamArn"])


@pytest.fixture
def applied(sandbox: Any, tmp_path: Path) -> tuple[Any, ClientFactory, Path]:
    make_table(sandbox, "orders")
    sandbox.register_handler("orders-fn", lambda event, context: None)
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(trigger(), region=sandbox.region))
    factory = factory_for(sandbox)
    execute(factory, planned(factory, path).plan, sleep=lambda s: None)
    assert [m["EventSourceArn"] for m in mappings(sandbox)] == [latest_stream(sandbox)]
    return sandbox, factory, path


def test_mapping_left_on_an_old_stream_arn_is_replaced_onto_the_latest(
    applied: tuple[Any, ClientFactory, Path],
) -> None:
    sb, factory, path = applied
    old_arn = latest_stream(sb)
    ddb = sb.client("dynamodb")
    ddb.update_table(TableName="orders", StreamSpecification={"StreamEnabled": False})
    ddb.update_table(
        TableName="orders",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    new_arn = latest_stream(sb)
    assert new_arn != old_arn

    result = planned(factory, path)
    (change,) = [c for c in result.plan.pending]
    assert (change.resource, change.action) == ("mapping", "replace")
    assert old_arn in change.reason
    with pytest.raises(PlanRefused):
        refuse_replace(result, allow_replace=False)
    execute(factory, result.plan, sleep=lambda s: None)
    assert [m["EventSourceArn"] for m in mappings(sb)] == [new_arn]
    assert planned(factory, path).plan.pending == ()


def test_view_type_change_recreates_the_stream_and_moves_the_mapping(
    applied: tuple[Any, ClientFactory, Path],
) -> None:
    sb, factory, path = applied
    old_arn = latest_stream(sb)
    path.write_text(spec_text(trigger(stream={"view_type": "KEYS_ONLY"}), region=sb.region))
    result = planned(factory, path)
    assert [(c.resource, c.action) for c in result.plan.pending] == [
        ("stream", "replace"),
        ("mapping", "replace"),
    ]
    execute(factory, result.plan, sleep=lambda s: None)
    table = sb.client("dynamodb").describe_table(TableName="orders")["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"
    assert table["LatestStreamArn"] != old_arn
    assert [m["EventSourceArn"] for m in mappings(sb)] == [table["LatestStreamArn"]]
    assert planned(factory, path).plan.pending == ()

"""``apply`` and ``destroy`` wait through the mapping's transitional states, as they must on AWS.

The sandbox keeps each mapping in Creating/Updating/Deleting... for ``DWELL`` seconds of its clock, a
``FakeClock``; the executor's ``sleep`` advances that same clock, so the backoff is what moves time on
(no real waiting, and a wait that gave up early or treated Creating as done would fail here).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.plan import Change
from ddbtrigger.usecases.provision import execute, make_destroy_plan, make_plan, refuse_replace
from tests.aws.conftest_provision import spec_text, trigger
from tests.aws.conftest_sandbox import POLL, FakeClock, make_table

DWELL = 2.0


class Run:
    """One sandbox with a dwell, a spec file, and the executor's progress and Lambda errors recorded."""

    def __init__(self, sb: Any, clock: FakeClock, path: Path) -> None:
        self.sb, self.clock, self.path = sb, clock, path
        session = boto3.Session(
            aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=sb.region
        )
        session.events.register("after-call.lambda", self._after_call)
        self.factory = ClientFactory(
            AwsTarget(region=sb.region, endpoint_url=sb.endpoint_url, max_attempts=1), session=session
        )
        self.progress: list[str] = []
        self.errors: list[tuple[str, str]] = []  # (operation, error code) of every failed Lambda call

    def _after_call(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        code = (parsed.get("Error") or {}).get("Code")
        if code:
            self.errors.append((model.name, code))

    def write(self, **mapping: Any) -> None:
        body = trigger(mapping=mapping) if mapping else trigger()
        self.path.write_text(spec_text(body, region=self.sb.region))

    def triggers(self) -> list[Any]:
        return list(load_spec(self.path.read_text(), str(self.path)).triggers)

    def execute(self, plan: Any) -> list[Change]:
        return execute(
            self.factory,
            plan,
            sleep=self.clock.advance,
            clock=self.clock,
            progress=lambda change, message: self.progress.append(message),
        )

    def apply(self, *, allow_replace: bool = False) -> list[Change]:
        spec = load_spec(self.path.read_text(), str(self.path))
        result = make_plan(self.factory, spec, list(spec.triggers))
        refuse_replace(result, allow_replace=allow_replace)
        return self.execute(result.plan)

    def mappings(self) -> list[dict[str, Any]]:
        lam = self.sb.client("lambda")
        return list(lam.list_event_source_mappings(FunctionName="orders-fn")["EventSourceMappings"])

    def waited_on(self, state: str) -> bool:
        return any(f"({state})" in line for line in self.progress)


@pytest.fixture
def run(tmp_path: Path) -> Iterator[Run]:
    from ddbtrigger.sandbox import Sandbox

    clock = FakeClock()
    with Sandbox(poll_interval=POLL, clock=clock, state_seconds=DWELL) as sb:
        make_table(sb, "orders")
        sb.register_handler("orders-fn", lambda event, context: None)
        r = Run(sb, clock, tmp_path / "s.yaml")
        r.write()
        yield r


def test_apply_waits_through_creating(run: Run) -> None:
    run.apply()
    assert run.waited_on("Creating")
    assert run.clock.offset >= DWELL  # it slept (on the sandbox's clock) until the dwell was over
    assert [m["State"] for m in run.mappings()] == ["Enabled"]


def test_replace_waits_through_deleting_then_creates(run: Run) -> None:
    run.apply()
    (old,) = run.mappings()
    run.progress.clear()
    run.write(starting_position="LATEST")
    run.apply(allow_replace=True)
    assert any("to be deleted" in line for line in run.progress)
    assert run.waited_on("Creating")
    (new,) = run.mappings()
    assert new["UUID"] != old["UUID"]
    assert (new["StartingPosition"], new["State"]) == ("LATEST", "Enabled")
    assert ("CreateEventSourceMapping", "ResourceConflictException") not in run.errors  # waited first


def test_an_update_refused_mid_transition_is_retried_and_succeeds(run: Run) -> None:
    run.apply()
    (mapping,) = run.mappings()
    run.sb.client("lambda").update_event_source_mapping(UUID=mapping["UUID"], BatchSize=3)  # Updating now
    run.write(batch_size=50)
    run.apply()
    assert ("UpdateEventSourceMapping", "ResourceInUseException") in run.errors
    (after,) = run.mappings()
    assert (after["BatchSize"], after["State"]) == (50, "Enabled")


def test_destroy_waits_through_deleting(run: Run) -> None:
    run.apply()
    (mapping,) = run.mappings()
    plan, _ = make_destroy_plan(run.factory, run.triggers(), force=True, disable_stream=False)
    start = run.clock.offset
    run.execute(plan)
    assert run.clock.offset - start >= DWELL
    assert any("to be deleted" in line for line in run.progress)
    lam = run.sb.client("lambda")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID=mapping["UUID"])

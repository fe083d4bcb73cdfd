"""``status`` against the sandbox, where a mapping really runs: moto alone never reports a
LastProcessingResult, so a failing trigger's PROBLEM and its non-empty destination are seen here.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.usecases.spec_file import read_spec
from ddbtrigger.usecases.status import StatusReport, read_status
from tests.aws.conftest_sandbox import sandbox_factory

from .test_status import make_mapping, make_queue, make_table, trigger_doc, write_spec

pytestmark = pytest.mark.xdist_group("sandbox")


def poison(event: Any, context: Any) -> Any:
    raise RuntimeError("poison pill")


def wait_for(read: Any, done: Any, *, deadline: float = 30.0) -> StatusReport:
    """Poll ``read()`` until ``done(report)`` or the deadline (the emulator works in the background)."""
    end = time.monotonic() + deadline
    report = read()
    while not done(report) and time.monotonic() < end:
        time.sleep(0.2)
        report = read()
    return report


def test_failing_trigger_shows_problem_and_failures(tmp_path: Path) -> None:
    from ddbtrigger.sandbox.server import Sandbox

    with Sandbox(handlers={"pill-fn": poison}, poll_interval=0.05, state_seconds=0) as sandbox:
        factory = sandbox_factory(sandbox)
        path = write_spec(tmp_path, trigger_doc("pill", table="pill-table", function="pill-fn"))
        spec = read_spec(path).triggers[0]
        table = make_table(factory, "pill-table")
        make_queue(factory, spec)
        make_mapping(factory, spec, table)
        factory.client("dynamodb").put_item(TableName="pill-table", Item={"pk": {"S": "pill"}})

        def failed(report: StatusReport) -> bool:
            (t,) = report.triggers
            return bool(t.destination and t.destination.depth and t.destination.depth.total)

        report = wait_for(lambda: read_status(factory, [spec], shards=True, metrics=False), failed)
        (status,) = report.triggers
        assert status.destination is not None and status.destination.depth is not None
        assert status.destination.depth.total == 1
        assert status.mapping is not None
        assert (status.mapping.last_processing_result or "").startswith("PROBLEM")
        codes = [h.code for h in status.hints]
        assert "last-result-problem" in codes and "destination-not-empty" in codes
        assert status.drift is False
        assert status.shards

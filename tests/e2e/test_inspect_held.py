"""issue 13: ``inspect-dlq`` never calls a destination empty while another reader holds its failures.

Another reader (a running redrive, a killed run's hold) is played by a receive with a long visibility
timeout; the listing must show them as held, count them, and exit 3 (attention needed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.test_inspect_dlq import inspect_args, world  # noqa: F401  (the fixture)

pytestmark = pytest.mark.e2e


def hold_all(sqs: Any, url: str) -> int:
    """Play another reader: receive every message and keep it invisible for 10 minutes."""
    held = 0
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)
        held += len(got.get("Messages", []))
    return held


def inspect(run_cli: Any, world: dict[str, Any], *extra: str) -> Any:  # noqa: F811
    return run_cli(*inspect_args(world, "--trigger", "orders-audit", *extra))


def test_held_failures_are_counted_in_json_and_exit_3(world: dict[str, Any], run_cli: Any) -> None:  # noqa: F811
    assert hold_all(world["sqs"], world["queue"]) == 2
    result = inspect(run_cli, world, "-o", "json")
    assert result.returncode == 3, result.stderr
    doc = json.loads(result.stdout)
    assert doc["failures"] == [] and doc["malformed"] == []
    assert doc["held"] == {"count": 2, "reappear_by": None}
    assert doc["counts"] == {"failures": 0, "expired": 0, "malformed": 0, "held": 2}


def test_held_failures_lead_the_table_never_zero_failures(world: dict[str, Any], run_cli: Any) -> None:  # noqa: F811
    assert hold_all(world["sqs"], world["queue"]) == 2
    result = inspect(run_cli, world)
    assert result.returncode == 3, result.stderr
    first = result.stdout.strip().splitlines()[0]
    assert first.startswith("2 failure(s) held by another reader"), result.stdout
    assert "0 failure(s)" not in result.stdout
    assert "held: 2 · total: 2" in result.stdout


def test_nothing_held_exits_0_and_counts_add_up(world: dict[str, Any], run_cli: Any) -> None:  # noqa: F811
    result = inspect(run_cli, world, "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["held"] == {"count": 0, "reappear_by": None}
    assert doc["counts"] == {"failures": 1, "expired": 0, "malformed": 1, "held": 0}
    assert len(doc["failures"]) + len(doc["malformed"]) + doc["held"]["count"] == 2

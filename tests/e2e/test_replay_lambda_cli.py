"""``replay --engine lambda`` against the sandbox, run as the installed ``ddbtrigger`` (a subprocess).

The world of ``test_replay_cli``: 5 records before the window, 12 inside it (across a shard split), 5
after; the temporary mapping must deliver exactly the 12 and be gone afterwards, whatever happens.
"""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any

import pytest

from tests.conftest import ddbtrigger_executable
from tests.e2e.test_replay_cli import assert_delivered_in_stream_order, run, window_records, world
from tests.helpers import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("sandbox")]
__all__ = ["world"]


def mappings(w: dict[str, Any]) -> list[dict[str, Any]]:
    lam = w["sb"].client("lambda")
    return list(lam.list_event_source_mappings(EventSourceArn=w["stream"])["EventSourceMappings"])


def window_args(w: dict[str, Any]) -> list[str]:
    return ["replay", "--engine", "lambda", "--since", w["since"], "--until", w["until"], "--yes"]


def test_lambda_engine_delivers_the_window_and_removes_the_mapping(world: dict[str, Any]) -> None:
    result = run(world, *window_args(world), "-o", "json", "--timeout", "60")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["done"] and doc["removed"] and not doc["interrupted"]
    assert doc["shards_past_until"] == doc["shards"] == 2
    assert "ApproximateCreationDateTime" in doc["filters"][0]["Pattern"]
    expected = window_records(world)
    assert_delivered_in_stream_order(world, expected)
    assert all(len(b) <= 3 for b in world["logger"].batches)  # the trigger's batch size
    assert mappings(world) == []
    assert "created replay mapping" in result.stderr and "read past --until" in result.stderr


def test_lambda_engine_selects_by_key_with_its_type(world: dict[str, Any]) -> None:
    result = run(world, *window_args(world), "--key", "pk=late2", "--key", "pk=in0", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert sorted(k for k, _, _ in world["logger"].records) == ["in0", "late2"]
    assert '"S":["in0","late2"]' in json.loads(result.stdout)["filters"][0]["Pattern"]


def test_a_stream_with_two_readers_is_refused_and_nothing_created(world: dict[str, Any]) -> None:
    sb, lam = world["sb"], world["sb"].client("lambda")
    for name in ("reader-a", "reader-b"):
        sb.ensure_function(name)
        lam.create_event_source_mapping(
            EventSourceArn=world["stream"], FunctionName=name, StartingPosition="LATEST"
        )
    before = {m["UUID"] for m in mappings(world)}
    result = run(world, *window_args(world))
    assert result.returncode == 2
    assert "DDBT007" in result.stderr and "two per shard" in result.stderr
    assert {m["UUID"] for m in mappings(world)} == before
    assert world["logger"].records == []


def test_a_function_already_mapped_to_the_stream_is_refused(world: dict[str, Any]) -> None:
    lam = world["sb"].client("lambda")
    lam.create_event_source_mapping(
        EventSourceArn=world["stream"], FunctionName="orders-fn", StartingPosition="LATEST"
    )
    result = run(world, *window_args(world))
    assert result.returncode == 2 and "one mapping per stream and function" in result.stderr
    assert len(mappings(world)) == 1


def test_dry_run_creates_nothing(world: dict[str, Any]) -> None:
    args = [a for a in window_args(world) if a != "--yes"]
    result = run(world, *args, "--dry-run", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["dry_run"] and doc["mapping_uuid"] is None and mappings(world) == []


def test_ctrl_c_removes_the_mapping(world: dict[str, Any]) -> None:
    world["logger"].delay = 0.5  # slow enough to interrupt mid-window
    proc = subprocess.Popen(
        [*ddbtrigger_executable(), *window_args(world), "-o", "json"],
        cwd=world["cwd"],
        env=world["env"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: bool(world["logger"].batches), "the first replayed batch")
        assert len(mappings(world)) == 1
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] and doc["removed"] and not doc["done"]
    assert mappings(world) == []

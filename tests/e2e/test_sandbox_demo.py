"""`ddbtrigger demo` runs the whole lifecycle offline and exits 0."""

from __future__ import annotations

import time
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_the_demo_runs_the_whole_lifecycle(run_cli: Any, tmp_path: Any) -> None:
    started = time.monotonic()
    result = run_cli("demo", cwd=tmp_path, timeout=180)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for command in (
        "$ ddbtrigger plan",
        "$ ddbtrigger apply --yes",
        "$ ddbtrigger status",
        "$ ddbtrigger inspect-dlq",
        "$ ddbtrigger redrive --yes",
        "aws dynamodb batch-write-item",
    ):
        assert command in out
    assert "redriven 2 (2 records)" in out + result.stderr
    # the iterator-age alarm fires while the pill holds the shard, pages the topic, and clears after the fix
    alarm = "alarm ddbtrigger-orders-audit-iterator-age"
    fired, cleared = out.index(f"{alarm}: ALARM"), out.index(f"{alarm}: OK")
    assert fired < out.index("$ ddbtrigger redrive --yes") < cleared
    assert "orders-oncall was notified" in out[fired : out.index("\n", fired)]
    assert "orders-audit  alarm iterator-age  ALARM" in out  # status shows it (and exits 3)
    assert "Done in" in out
    assert elapsed < 120  # "under a minute" on a quiet machine; CI shares its cores
    assert not list(tmp_path.iterdir())  # the demo works in its own temporary directory

"""``status`` of many triggers: the healthy ones are one line, the others keep their rows (issue 19)."""

from __future__ import annotations

from dataclasses import replace

from ddbtrigger.cli.status import FOLD_QUIET_ABOVE, status_view
from ddbtrigger.usecases.status import StatusReport
from tests.unit.test_status_render import render_at, report


def many(healthy: int) -> StatusReport:
    base = report()
    quiet = base.triggers[0]
    assert quiet.quiet and not any(t.quiet for t in base.triggers[1:])
    copies = tuple(replace(quiet, name=f"ok-{i:03}", shards=None) for i in range(healthy))
    return StatusReport(copies + base.triggers[1:], base.read_at, shards=True)


def test_fifty_healthy_triggers_are_one_line_and_the_others_keep_their_rows() -> None:
    text = render_at(status_view(many(50), width=80), 80)
    assert "✓ 50 healthy: ok-000, ok-001" in text and "more" in text
    assert "ok-049" not in text  # cut to one line, not listed one by one
    assert "payments-sync" in text and "users-index" in text and "PROBLEM" in text
    assert text.count("trigger / table:") == 2  # a block for each trigger needing a look, none for the rest
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_few_triggers_are_all_drawn() -> None:
    text = render_at(status_view(many(FOLD_QUIET_ABOVE - 2), width=120), 120)
    assert "healthy:" not in text
    assert all(f"ok-{i:03}" in text for i in range(FOLD_QUIET_ABOVE - 2))

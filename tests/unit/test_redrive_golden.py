"""Golden renderings of the redrive summary at 80 and 120 columns: no word broken, no column dropped.

At 120 columns it is a table; below 100 a stacked block per failure (six columns cannot share 80
without breaking words). Regenerate with ``DDBT_UPDATE_GOLDEN=1`` after an intended change.
"""

from __future__ import annotations

import re

import pytest

from ddbtrigger.cli.redrive import ID_WIDTH, _short, draw_report
from ddbtrigger.core.redrive import EXPIRED_DROPPED, KEPT_LOCAL, FailureResult, RedriveReport, Status
from tests.helpers import check_golden, drawn_text

SHARD = "shardId-00000001573689847184-864758bb"
REPORT = RedriveReport(
    (
        FailureResult(
            "0f6c3b1e-1111-2222-3333-444455556666", "orders-audit", Status.REDRIVEN, 3, None, SHARD, True
        ),
        FailureResult(
            "aws/lambda/5d1a2b3c/shardId-0001/2026/12/02/10/f.json",
            "orders-audit",
            Status.FAILED,
            1,
            "function error (Unhandled): ValueError: poison pill 800000000003126276362",
            SHARD,
        ),
        FailureResult(
            "9a8b7c6d-aaaa-bbbb-cccc-ddddeeeeffff",
            "orders-audit",
            Status.NOT_ATTEMPTED,
            0,
            "not attempted: earlier failure 0f6c3b1e of this shard is still failing (order is kept; fix "
            "it first, or pass --keep-going)",
            SHARD,
        ),
        FailureResult(
            "1b2c3d4e-0000-0000-0000-000000000001",
            "orders-archive",
            Status.DELIVERED_KEPT,
            2,
            KEPT_LOCAL,
            SHARD,
        ),
        FailureResult(
            "1b2c3d4e-0000-0000-0000-000000000002",
            "orders-archive",
            Status.EXPIRED,
            0,
            EXPIRED_DROPPED,
            SHARD,
            True,
        ),
        FailureResult(
            "1b2c3d4e-0000-0000-0000-000000000003", "orders-archive", Status.MALFORMED, 0, "not JSON"
        ),
    ),
    held=2,
)
COLUMNS = ("failure", "trigger", "shard", "status", "records", "detail")


def render(width: int) -> str:
    return drawn_text(lambda console: draw_report(console, REPORT, dry_run=False), width)


def tokens(text: str) -> set[str]:
    return set(re.split(r"[\s│]+", text))


@pytest.mark.parametrize("width", [80, 120])
def test_redrive_summary_matches_golden_without_broken_words(width: int) -> None:
    text = render(width)
    check_golden(f"redrive_summary_{width}.txt", text)
    assert max(len(line) for line in text.splitlines()) <= width
    words = tokens(text)
    for r in REPORT.results:
        for word in (r.error or "").split():
            assert word in words, f"{word!r} broken at {width} columns"
        assert r.status.value in words and r.trigger in words
        assert (r.id if width == 80 else _short(r.id, ID_WIDTH)) in words  # stacked: the whole id, copyable
    assert "held elsewhere 2" in text and "delivered, kept 1" in text and "not attempted 1" in text


def test_no_column_dropped_at_120_and_every_field_shown_at_80() -> None:
    header = render(120).splitlines()[2].split()
    assert tuple(header) == COLUMNS
    stacked = render(80)
    assert stacked.count(f"shard {SHARD}") == 5 and stacked.count(" records") >= len(REPORT.results)

"""Poison-pill impact: the formula of PRODUCT.md, over its edge cases."""

from __future__ import annotations

import pytest

from ddbtrigger.core.impact import (
    Impact,
    RetrySettings,
    bisection_depth,
    duration_text,
    impact_line,
    poison_pill_impact,
)


def settings(**overrides: object) -> RetrySettings:
    values: dict[str, object] = {
        "batch_size": 100,
        "bisect_batch_on_function_error": True,
        "maximum_retry_attempts": 3,
        "maximum_record_age_in_seconds": 3600,
        "has_destination": True,
        "report_batch_item_failures": False,
    }
    values.update(overrides)
    return RetrySettings(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "overrides", "timeout", "expected"),
    [
        # AWS's defaults: retry forever, no age limit -> the stream's 24 h, no bound on invokes.
        (
            "unbounded",
            {"maximum_retry_attempts": -1, "maximum_record_age_in_seconds": -1},
            3,
            Impact(86400, None, "destination"),
        ),
        # Max age only: retries unbounded but the record ages out after 5 minutes.
        (
            "max age only",
            {"maximum_retry_attempts": -1, "maximum_record_age_in_seconds": 300},
            3,
            Impact(300, None, "destination"),
        ),
        # Max age 7 days is still cut at the stream's 24 h retention.
        (
            "age past retention",
            {"maximum_retry_attempts": -1, "maximum_record_age_in_seconds": 604800},
            3,
            Impact(86400, None, "destination"),
        ),
        # Bisect at batch 1: nothing to split, 4 invokes of 10 s.
        ("bisect batch 1", {"batch_size": 1}, 10, Impact(40, 4, "destination")),
        # Bisect at 10,000: ceil(log2(10000)) + 1 = 15 batch sizes, 4 tries each = 60 invokes.
        ("bisect batch 10000", {"batch_size": 10000}, 10, Impact(600, 60, "destination")),
        # Batch 64 with bisect: 7 sizes x 4 = 28 invokes; the age limit (5 min) cuts the block.
        (
            "age cuts bounded",
            {"batch_size": 64, "maximum_record_age_in_seconds": 300},
            60,
            Impact(300, 28, "destination"),
        ),
        # Bisect off at batch 100: the whole batch fails together, 4 invokes.
        ("bisect off", {"bisect_batch_on_function_error": False}, 10, Impact(40, 4, "destination")),
        # Partial batch reports at batch 1: the record is delivered retries + 2 times (recorded: 5 for 3).
        (
            "partial reports",
            {"batch_size": 1, "report_batch_item_failures": True},
            10,
            Impact(50, 5, "destination"),
        ),
        # Partial reports with bisect at 100: raising is still the worse path (32 > 5).
        ("partial with bisect", {"report_batch_item_failures": True}, 10, Impact(320, 32, "destination")),
        # No retries at all: one invoke, and without a destination the record is dropped.
        (
            "no retries, no destination",
            {"maximum_retry_attempts": 0, "batch_size": 1, "has_destination": False},
            10,
            Impact(10, 1, "dropped"),
        ),
        # Unknown function timeout: Lambda's 900 s ceiling bounds it.
        (
            "unknown timeout",
            {"batch_size": 1, "maximum_record_age_in_seconds": -1},
            None,
            Impact(3600, 4, "destination"),
        ),
    ],
)
def test_impact(case: str, overrides: dict[str, object], timeout: int | None, expected: Impact) -> None:
    assert poison_pill_impact(settings(**overrides), function_timeout_seconds=timeout) == expected, case


@pytest.mark.parametrize(
    ("size", "bisect", "depth"),
    [(1, True, 1), (2, True, 2), (3, True, 3), (100, True, 8), (10000, True, 15), (100, False, 1)],
)
def test_bisection_depth(size: int, bisect: bool, depth: int) -> None:
    assert bisection_depth(size, bisect=bisect) == depth


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45, "45 s"),
        (300, "5 min"),
        (301, "6 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (86400, "24 h"),
        (604800, "7 d"),
    ],
)
def test_duration_text(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_line_and_json() -> None:
    impact = Impact(300, 28, "destination")
    assert impact_line(impact) == "a poison pill blocks shard ≤ 5 min, ≤ 28 invokes, then the destination"
    assert impact.as_json() == {"max_block_seconds": 300, "max_invocations": 28, "reaches": "destination"}
    dropped = impact_line(Impact(86400, None, "dropped"))
    assert dropped == "a poison pill blocks shard ≤ 24 h, unbounded invokes, then dropped"

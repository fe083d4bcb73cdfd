"""Batches as the mapping makes them: BatchSize, then the 6 MB payload limit, in order."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbtrigger.core.batching import MAX_PAYLOAD_BYTES, batches, payload_bytes


def rec(seq: int, filler: int = 0) -> dict[str, Any]:
    return {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": str(seq), "NewImage": {"blob": {"S": "x" * filler}}},
    }


def seqs(groups: list[list[dict[str, Any]]]) -> list[list[int]]:
    return [[int(r["dynamodb"]["SequenceNumber"]) for r in g] for g in groups]


def test_batch_size_cuts_in_order() -> None:
    assert seqs(list(batches([rec(i) for i in range(7)], batch_size=3))) == [[0, 1, 2], [3, 4, 5], [6]]
    assert seqs(list(batches([rec(i) for i in range(3)], batch_size=100))) == [[0, 1, 2]]
    assert list(batches([], batch_size=10)) == []


def test_a_batch_over_six_megabytes_is_split() -> None:
    big = [rec(i, filler=400_000) for i in range(40)]  # ~16 MB together, each ~0.4 MB
    groups = list(batches(big, batch_size=100))
    assert len(groups) == 3
    assert [r for g in groups for r in g] == big
    for group in groups:
        assert len(json.dumps({"Records": group}).encode()) <= MAX_PAYLOAD_BYTES
    # each cut happens only because the next record would not fit
    for group, following in itertools.pairwise(groups):
        assert len(json.dumps({"Records": [*group, following[0]]}).encode()) > MAX_PAYLOAD_BYTES


def test_limit_is_exact_to_the_byte() -> None:
    records = [rec(1, 50), rec(2, 50)]
    exact = len(json.dumps({"Records": records}).encode())
    assert len(list(batches(records, batch_size=10, max_bytes=exact))) == 1
    assert len(list(batches(records, batch_size=10, max_bytes=exact - 1))) == 2


def test_a_record_larger_than_the_limit_travels_alone() -> None:
    groups = list(batches([rec(1), rec(2, 1000), rec(3)], batch_size=10, max_bytes=500))
    assert seqs(groups) == [[1], [2], [3]]


@pytest.mark.parametrize("size", [0, -1, 10_001])
def test_batch_size_outside_lambdas_range_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match=r"batch size must be 1\.\.10000"):
        list(batches([rec(1)], batch_size=size))


@given(
    st.lists(st.integers(0, 300), max_size=30),
    st.integers(1, 8),
    st.integers(100, 2000),
)
def test_batches_partition_in_order_within_both_limits(fillers: list[int], size: int, limit: int) -> None:
    records = [rec(i, f) for i, f in enumerate(fillers)]
    groups = list(batches(records, batch_size=size, max_bytes=limit))
    assert [r for g in groups for r in g] == records
    for group in groups:
        assert 1 <= len(group) <= size
        assert payload_bytes(group) == len(json.dumps({"Records": group}).encode())
        assert len(group) == 1 or payload_bytes(group) <= limit
    for group, following in itertools.pairwise(groups):  # greedy: no cut without a reason
        assert len(group) == size or payload_bytes([*group, following[0]]) > limit

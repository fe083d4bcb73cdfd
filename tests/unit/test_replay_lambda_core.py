"""``core.replay_filters`` (the temporary mapping's filters) and ``core.replay_watch`` (when it is done)."""

from __future__ import annotations

import json

import pytest

from ddbtrigger.core.events import lambda_record
from ddbtrigger.core.filters import passes_filters
from ddbtrigger.core.replay_filters import (
    MAX_PATTERN_CHARS,
    FilterBuildError,
    filter_criteria,
    filter_patterns,
    key_types_of,
)
from ddbtrigger.core.replay_watch import Observation, ShardPosition, Watch
from ddbtrigger.core.selection import parse_selection
from ddbtrigger.core.windows import TimeWindow

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
TYPES = {"pk": "S", "id": "N"}


def record(created: float, *, pk: str = "a", id_: str = "1", event: str = "INSERT") -> dict:
    raw = {
        "eventID": "1",
        "eventName": event,
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"pk": {"S": pk}, "id": {"N": id_}},
            "SequenceNumber": "100",
            "SizeBytes": 10,
            "StreamViewType": "KEYS_ONLY",
        },
    }
    return lambda_record(raw, stream_arn=ARN, region="us-east-1")


def selection(**kw):
    return parse_selection(window=TimeWindow(100.0, 200.0), **kw)


def test_window_pattern_matches_exactly_the_half_open_window() -> None:
    patterns = filter_patterns(selection(), TYPES)
    assert [passes_filters(record(t), patterns) for t in (99.5, 100, 150, 199.9, 200)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_keys_use_their_type_letter_and_canonical_numbers() -> None:
    patterns = filter_patterns(selection(keys=["pk=a", "pk=b", "id=1.0"], events=["MODIFY"]), TYPES)
    assert patterns[0]["dynamodb"]["Keys"] == {"pk": {"S": ["a", "b"]}, "id": {"N": ["1"]}}
    assert passes_filters(record(150, pk="b", event="MODIFY"), patterns)
    assert not passes_filters(record(150, pk="c", event="MODIFY"), patterns)
    assert not passes_filters(record(150, pk="a", event="INSERT"), patterns)


def test_each_filter_is_an_alternative_with_the_window() -> None:
    sel = selection(filters=['{"eventName": ["REMOVE"]}', '{"dynamodb": {"Keys": {"pk": {"S": ["z"]}}}}'])
    patterns = filter_patterns(sel, TYPES)
    assert len(patterns) == 2
    assert passes_filters(record(150, event="REMOVE"), patterns)
    assert passes_filters(record(150, pk="z"), patterns)
    assert not passes_filters(record(250, pk="z"), patterns)  # outside the window
    criteria = filter_criteria(patterns)
    assert [json.loads(f["Pattern"]) for f in criteria["Filters"]] == patterns


def test_refusals_name_the_option() -> None:
    with pytest.raises(FilterBuildError, match="not a key"):
        filter_patterns(selection(keys=["sk=1"]), TYPES)
    with pytest.raises(FilterBuildError, match="already constrain"):
        filter_patterns(selection(events=["INSERT"], filters=['{"eventName": ["REMOVE"]}']), TYPES)
    with pytest.raises(FilterBuildError, match="at most 5"):
        filter_patterns(selection(filters=[f'{{"eventID": ["{i}"]}}' for i in range(6)]), TYPES)
    many = [f"pk={'x' * 50}{i}" for i in range(100)]
    with pytest.raises(FilterBuildError, match=str(MAX_PATTERN_CHARS)):
        filter_patterns(selection(keys=many), TYPES)
    with pytest.raises(FilterBuildError, match="not a number"):
        filter_patterns(selection(keys=["id=abc"]), TYPES)
    with pytest.raises(FilterBuildError, match="empty"):
        filter_patterns(parse_selection(window=TimeWindow(5.0, 5.0)), TYPES)


def test_key_types_from_describe_table() -> None:
    defs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}]
    schema = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}]
    assert key_types_of(defs, schema) == {"pk": "S", "n": "N"}


def test_positions_done_only_when_every_shard_is_past_until() -> None:
    watch = Watch(until=200.0, started=0.0, slack=5.0)
    behind = {"s1": ShardPosition(210.0, False), "s2": ShardPosition(150.0, False)}
    assert not watch.judge(Observation(300.0, "Enabled", shards=behind)).done
    parent_done = {"s1": ShardPosition(210.0, False), "s2": ShardPosition(150.0, True, finished=True)}
    verdict = watch.judge(Observation(300.0, "Enabled", shards=parent_done))
    assert verdict.done and (verdict.shards_past, verdict.shards) == (2, 2)
    at_end = {"s1": ShardPosition(150.0, True)}  # at the end of an open shard: only once now > until
    assert not watch.judge(Observation(202.0, "Enabled", shards=at_end)).done
    assert watch.judge(Observation(206.0, "Enabled", shards=at_end)).done
    assert not watch.judge(Observation(300.0, "Enabled", shards={})).done
    assert not watch.judge(Observation(300.0, "Creating", shards=parent_done)).done


def test_metrics_rule_waits_for_quiet_after_until_and_not_on_a_problem() -> None:
    watch = Watch(until=200.0, started=100.0, slack=5.0, quiet=60.0)
    assert not watch.judge(Observation(190.0, "Enabled")).done  # --until not yet past
    assert not watch.judge(Observation(230.0, "Enabled", last_delivered=199.0, last_delivery_at=220.0)).done
    assert watch.judge(Observation(281.0, "Enabled", last_delivered=199.0, last_delivery_at=220.0)).done
    problem = Observation(400.0, "Enabled", last_result="PROBLEM: Function call failed")
    assert not watch.judge(problem).done
    assert watch.judge(Observation(400.0, "Enabled")).done  # nothing delivered at all, long quiet

"""EventBridge pattern matching of a mapping's filters against rebuilt DynamoDB records."""

from __future__ import annotations

from typing import Any

import pytest

from ddbtrigger.core.filters import PatternError, check_patterns, matches, parse_patterns, passes_filters


def record(event_name: str = "INSERT", **new_image: Any) -> dict[str, Any]:
    return {
        "eventID": "e1",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "Keys": {"pk": {"S": "order#1"}},
            "NewImage": new_image,
            "SequenceNumber": "100",
            "SizeBytes": 20,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": 1700000000,
        },
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000",
    }


REC = record(
    "MODIFY",
    status={"S": "paid"},
    amount={"N": "42.5"},
    flag={"BOOL": True},
    tags={"SS": ["a", "b"]},
    note={"NULL": True},
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT", "REMOVE"]}, False),
        ({"eventName": ["INSERT", "MODIFY"]}, True),
        ({"dynamodb": {"Keys": {"pk": {"S": ["order#1"]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": ["unpaid"]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "pa"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "un"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"suffix": "aid"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"equals-ignore-case": "PAID"}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": "paid"}]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["new", "void"]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": {"prefix": "p"}}]}}}}, False),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 40]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 0, "<=", 42.5]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": ["<", 10]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": ["=", 42.5]}]}}}}, True),
        ({"dynamodb": {"NewImage": {"amount": {"N": ["42.5"]}}}}, True),
        ({"dynamodb": {"NewImage": {"flag": {"BOOL": [True]}}}}, True),
        ({"dynamodb": {"NewImage": {"flag": {"BOOL": [False]}}}}, False),
        ({"dynamodb": {"NewImage": {"note": {"NULL": [True]}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["c"]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": [{"exists": True}]}}}, True),
        ({"dynamodb": {"NewImage": {"missing": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"missing": [{"exists": False}]}}}, True),
        ({"dynamodb": {"NewImage": {"status": [{"exists": False}]}}}, False),
        ({"dynamodb": {"OldImage": {"x": {"S": [{"exists": False}]}}}}, True),
        ({"dynamodb": {"OldImage": {"x": {"S": ["y"]}}}}, False),
        ({"dynamodb": {"NewImage": {"missing": {"S": [{"anything-but": "x"}]}}}}, False),
        ({"eventName": ["MODIFY"], "dynamodb": {"NewImage": {"status": {"S": ["void"]}}}}, False),
        ({"eventName": "MODIFY"}, True),
    ],
)
def test_pattern_semantics(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, REC) is expected


def test_numbers_are_compared_numerically_but_strings_exactly() -> None:
    assert matches({"dynamodb": {"SizeBytes": [20.0]}}, REC)
    assert not matches({"dynamodb": {"SizeBytes": ["20"]}}, REC)
    assert not matches({"eventVersion": [1.1]}, REC)


def test_any_filter_passes_and_no_filter_passes_everything() -> None:
    inserts = {"eventName": ["INSERT"]}
    modifies = {"eventName": ["MODIFY"]}
    assert passes_filters(REC, [])
    assert not passes_filters(REC, [inserts])
    assert passes_filters(REC, [inserts, modifies])


def test_patterns_from_json_strings_as_in_filter_criteria() -> None:
    patterns = parse_patterns(['{"eventName": ["MODIFY"]}', {"eventName": ["INSERT"]}])
    assert patterns == [{"eventName": ["MODIFY"]}, {"eventName": ["INSERT"]}]
    with pytest.raises(PatternError):
        parse_patterns(["[1, 2]"])


@pytest.mark.parametrize(
    "bad",
    [
        {"eventName": [{"numeric": [">"]}]},
        {"eventName": [{"numeric": ["~", 1]}]},
        {"eventName": [{"wild": "x"}]},
        {"eventName": [{"prefix": 3}]},
        {"eventName": [{"prefix": "a", "suffix": "b"}]},
    ],
)
def test_unreadable_patterns_raise_a_pattern_error(bad: dict[str, Any]) -> None:
    with pytest.raises(PatternError):
        matches(bad, REC)


@pytest.mark.parametrize(
    "bad",
    [
        {"dynamodb": {"NewImage": {"x": {"S": [{"numeric": [">"]}]}}}},
        {"eventName": [{"wildcard": "x*"}]},
    ],
)
def test_check_patterns_finds_bad_operators_deep_down(bad: dict[str, Any]) -> None:
    with pytest.raises(PatternError):
        check_patterns([bad])
    check_patterns([{"eventName": ["INSERT", {"prefix": "MOD"}], "dynamodb": {"Keys": [{"exists": True}]}}])

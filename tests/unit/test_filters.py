"""EventBridge pattern matching of a mapping's filters against rebuilt DynamoDB records."""

from __future__ import annotations

from typing import Any

import pytest

from ddbtrigger.core.filters import (
    PatternError,
    check_patterns,
    format_path,
    matches,
    never_matching,
    parse_patterns,
    passes_filters,
)


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
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 40]}]}}}}, False),  # N is a string
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": [">", 0, "<=", 42.5]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": ["<", 10]}]}}}}, False),
        ({"dynamodb": {"NewImage": {"amount": {"N": [{"numeric": ["=", 42.5]}]}}}}, False),
        ({"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}, True),
        ({"dynamodb": {"SizeBytes": [{"numeric": [">=", 20, "<", 21]}]}}, True),
        ({"dynamodb": {"NewImage": {"amount": {"N": ["42.5"]}}}}, True),
        ({"dynamodb": {"NewImage": {"flag": {"BOOL": [True]}}}}, True),
        ({"dynamodb": {"NewImage": {"flag": {"BOOL": [False]}}}}, False),
        ({"dynamodb": {"NewImage": {"note": {"NULL": [True]}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["b"]}}}}, True),
        ({"dynamodb": {"NewImage": {"tags": {"SS": ["c"]}}}}, False),
        ({"dynamodb": {"NewImage": {"status": [{"exists": True}]}}}, False),  # an object, not a leaf
        ({"dynamodb": {"NewImage": {"status": {"S": [{"exists": True}]}}}}, True),
        ({"dynamodb": {"NewImage": {"missing": [{"exists": True}]}}}, False),
        ({"dynamodb": {"NewImage": {"missing": [{"exists": False}]}}}, True),
        ({"dynamodb": {"NewImage": {"status": [{"exists": False}]}}}, True),  # recorded on AWS
        ({"dynamodb": {"NewImage": {"status": {"S": [{"exists": False}]}}}}, False),
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


BAD_PATTERNS = [
    {"eventName": [{"numeric": [">"]}]},
    {"eventName": [{"numeric": ["~", 1]}]},
    {"eventName": [{"numeric": ["<", 5, ">", 1]}]},
    {"eventName": [{"numeric": [">", 5, "<", 1]}]},
    {"eventName": [{"numeric": [">", "5"]}]},
    {"eventName": [{"wild": "x"}]},
    {"eventName": [{"wildcard": "x*"}]},
    {"eventName": [{"prefix": 3}]},
    {"eventName": [{"prefix": "a", "suffix": "b"}]},
    {"eventName": [{"exists": "yes"}]},
    {"eventName": [{"anything-but": [None]}]},
    {"eventName": [{"anything-but": ["a", 1]}]},
    {"eventName": [{"anything-but": {"wildcard": "a*"}}]},
    {"eventName": [["nested"]]},
    {"eventName": []},
    {"eventName": "MODIFY"},
    {"$or": [{"eventName": ["INSERT"]}]},
    {"dynamodb": {}},
    {},
]


@pytest.mark.parametrize("bad", BAD_PATTERNS)
def test_patterns_lambda_refuses_are_refused_and_matching_them_never_raises(bad: dict[str, Any]) -> None:
    with pytest.raises(PatternError):
        check_patterns([bad])
    assert matches(bad, REC) in (True, False)


def test_a_refusal_says_where() -> None:
    with pytest.raises(PatternError, match=r"dynamodb\.NewImage\.x\.S\[1\]: unknown operator 'wildcard'"):
        check_patterns([{"dynamodb": {"NewImage": {"x": {"S": ["a", {"wildcard": "x*"}]}}}}])
    with pytest.raises(PatternError, match="must be JSON"):
        parse_patterns(["single-string"])
    with pytest.raises(PatternError, match="must be JSON"):
        parse_patterns(['[{"eventName": ["INSERT"=123}]'])


@pytest.mark.parametrize(
    "good",
    [
        {"eventName": ["INSERT", {"prefix": "MOD"}], "dynamodb": {"Keys": {"pk": {"S": [{"exists": True}]}}}},
        {"eventName": [{"prefix": {"equals-ignore-case": "mod"}}, {"suffix": {"equals-ignore-case": "FY"}}]},
        {"eventName": [{"anything-but": {"equals-ignore-case": ["insert", "remove"]}}]},
        {"eventName": [{"anything-but": {"suffix": "RT"}}, {"anything-but": [1, 2.5]}]},
        {"$or": [{"eventName": ["INSERT"]}, {"dynamodb": {"SizeBytes": [{"numeric": ["<=", 10]}]}}]},
        {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}},
        {"eventName": [None, "", True, 1.5]},
    ],
)
def test_documented_forms_are_accepted(good: dict[str, Any]) -> None:
    check_patterns([good])


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": [{"prefix": {"equals-ignore-case": "mod"}}]}, True),
        ({"eventName": [{"suffix": {"equals-ignore-case": "IFY"}}]}, True),
        ({"eventName": [{"anything-but": {"equals-ignore-case": "modify"}}]}, False),
        ({"eventName": [{"anything-but": {"equals-ignore-case": ["insert", "remove"]}}]}, True),
        ({"eventName": [{"anything-but": {"suffix": "IFY"}}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "INS"}}]}, True),
        ({"eventName": [{"anything-but": ["INSERT", "REMOVE"]}]}, True),
        ({"$or": [{"eventName": ["INSERT"]}, {"eventSource": ["aws:dynamodb"]}]}, True),
        ({"$or": [{"eventName": ["INSERT"]}, {"eventSource": ["aws:sqs"]}]}, False),
        ({"dynamodb": {"$or": [{"SizeBytes": [20]}, {"StreamViewType": ["KEYS_ONLY"]}]}}, True),
        ({"dynamodb": {"NewImage": {"note": {"NULL": [None]}}}}, False),
        ({"dynamodb": {"NewImage": {"tags": {"SS": [{"anything-but": "a"}]}}}}, True),  # any element
        ({"dynamodb": {"NewImage": {"status": {"S": [""]}}}}, False),
    ],
)
def test_documented_operators(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, REC) is expected


def test_recorded_numeric_on_n_matches_42_not_101() -> None:
    """AWS recorded: "N": [{"numeric": [">", 100]}, {"anything-but": "101"}] passes "42", drops "101":
    numeric never sees a number in an N (a string), so only anything-but decides."""
    pattern = {"dynamodb": {"NewImage": {"v": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}}}
    assert matches(pattern, record(v={"N": "42"}))
    assert not matches(pattern, record(v={"N": "101"}))


def test_recorded_exists_false_applies_to_leaves() -> None:
    """AWS recorded: {"NewImage": {"presentKey": [{"exists": false}]}} delivers an item whose presentKey is
    {"S": "presentValue"} (an object, not a leaf) as well as one without it."""
    pattern = {"dynamodb": {"NewImage": {"presentKey": [{"exists": False}]}}}
    assert matches(pattern, record(id={"S": "1"}))
    assert matches(pattern, record(id={"S": "2"}, presentKey={"S": "presentValue"}))


@pytest.mark.parametrize(
    ("pattern", "where", "reason"),
    [
        (
            {"dynamodb": {"NewImage": {"a": {"N": [{"numeric": [">", 1]}]}}}},
            "dynamodb.NewImage.a.N[0]",
            "N is a string",
        ),
        ({"dynamodb": {"Keys": {"a": {"N": [5]}}}}, "dynamodb.Keys.a.N[0]", "number never matches"),
        ({"dynamodb": {"NewImage": {"a": [{"exists": True}]}}}, "dynamodb.NewImage.a[0]", "not a leaf"),
        ({"dynamodb": {"NewImage": {"a": ["x"]}}}, "dynamodb.NewImage.a[0]", "not a leaf"),
        ({"data": {"x": ["y"]}}, "data", "no top-level 'data'"),
        ({"dynamodb": {"Newimage": {"a": {"S": ["x"]}}}}, "dynamodb.Newimage", "no 'Newimage'"),
        (
            {"dynamodb": {"NewImage": {"a": {"STR": ["x"]}}}},
            "dynamodb.NewImage.a.STR",
            "not a DynamoDB attribute type",
        ),
        ({"dynamodb": {"SizeBytes": [{"prefix": "1"}]}}, "dynamodb.SizeBytes[0]", "string never matches"),
        ({"eventName": {"x": ["y"]}}, "eventName", "not an object"),
        ({"$or": [{"eventName": ["INSERT"]}, {"body": ["x"]}]}, "$or[1].body", "no top-level"),
    ],
)
def test_never_matching_parts_are_found(pattern: dict[str, Any], where: str, reason: str) -> None:
    found = never_matching(pattern)
    assert [format_path(p) for p, _ in found] == [where]
    assert reason in found[0][1]


@pytest.mark.parametrize(
    "pattern",
    [
        {
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"a": {"N": ["42"]}, "b": {"M": {"c": {"S": ["x"]}}}}},
        },
        {
            "dynamodb": {
                "ApproximateCreationDateTime": [{"numeric": [">", 0]}],
                "OldImage": {"a": [{"exists": False}]},
            }
        },
        {"dynamodb": {"NewImage": {"l": {"L": {"S": ["x"]}}}}, "userIdentity": {"type": ["Service"]}},
        {"ttl": [{"exists": False}]},
    ],
)
def test_patterns_that_can_match_raise_no_warning(pattern: dict[str, Any]) -> None:
    assert never_matching(pattern) == []

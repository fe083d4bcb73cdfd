"""--event, --key, --filter and the window as one Selection; the filter is the mapping's own matcher."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbtrigger.core.filters import passes_filters
from ddbtrigger.core.selection import Selection, SelectionError, parse_selection
from ddbtrigger.core.windows import TimeWindow


def record(name: str = "INSERT", *, t: float = 1000.0, **keys: Any) -> dict[str, Any]:
    return {
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": t,
            "Keys": keys or {"pk": {"S": "order-1"}},
            "NewImage": {"status": {"S": "paid"}, "total": {"N": "42"}},
            "SequenceNumber": "100",
        },
    }


@pytest.mark.parametrize(
    ("options", "rec", "expected"),
    [
        ({}, record(), True),
        ({"events": ["INSERT"]}, record("INSERT"), True),
        ({"events": ["insert", "REMOVE"]}, record("MODIFY"), False),
        ({"events": ["MODIFY", "REMOVE"]}, record("REMOVE"), True),
        ({"keys": ["pk=order-1"]}, record(), True),
        ({"keys": ["pk=order-2"]}, record(), False),
        ({"keys": ["pk=order-2", "pk=order-1"]}, record(), True),  # same name: alternatives
        ({"keys": ["pk=a", "sk=1"]}, record(pk={"S": "a"}, sk={"N": "1"}), True),
        ({"keys": ["pk=a", "sk=2"]}, record(pk={"S": "a"}, sk={"N": "1"}), False),  # names: all
        ({"keys": ["sk=1.0"]}, record(sk={"N": "1"}), True),  # N compares as a number
        ({"keys": ["sk=x"]}, record(sk={"N": "1"}), False),
        ({"keys": ["id=Zm9v"]}, record(id={"B": "Zm9v"}), True),  # B as base64 text (wire)
        ({"keys": ["id=Zm9v"]}, record(id={"B": b"foo"}), True),  # ... or boto3's bytes
        ({"keys": ["pk=a=b"]}, record(pk={"S": "a=b"}), True),  # the first = splits
        ({"keys": ["pk="]}, record(pk={"S": ""}), True),
        ({"keys": ["missing=x"]}, record(), False),
        ({"filters": ['{"dynamodb": {"NewImage": {"status": {"S": ["paid"]}}}}']}, record(), True),
        ({"filters": ['{"dynamodb": {"NewImage": {"status": {"S": ["open"]}}}}']}, record(), False),
        ({"filters": ['{"eventName": ["REMOVE"]}', '{"eventName": ["INSERT"]}']}, record(), True),
        # N is a string in the record: numeric never matches it (recorded AWS behaviour)
        (
            {"filters": ['{"dynamodb": {"NewImage": {"total": {"N": [{"numeric": [">", 1]}]}}}}']},
            record(),
            False,
        ),
        ({"window": TimeWindow(500, 1500)}, record(t=1000), True),
        ({"window": TimeWindow(500, 1000)}, record(t=1000), False),
        ({"events": ["INSERT"], "keys": ["pk=order-1"], "window": TimeWindow(2000)}, record(), False),
    ],
)
def test_selection(options: dict[str, Any], rec: dict[str, Any], expected: bool) -> None:
    assert parse_selection(**options).matches(rec) is expected


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"events": ["UPDATE"]}, "--event 'UPDATE' is not an event name: use INSERT, MODIFY, REMOVE"),
        ({"keys": ["pk"]}, "--key 'pk' must be name=value"),
        ({"keys": ["=x"]}, "must be name=value"),
        ({"filters": ["{not json"]}, "--filter: a filter pattern must be JSON"),
        ({"filters": ["[1]"]}, "--filter: a filter pattern must be a JSON object"),
        ({"filters": ['{"eventName": "INSERT"}']}, "--filter: eventName: must be a list"),
    ],
)
def test_bad_values_are_clear_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(SelectionError) as caught:
        parse_selection(**options)
    assert message in str(caught.value)


def test_select_keeps_order_and_criteria_are_canonical() -> None:
    records = [record(pk={"S": k}) for k in "abcab"]
    chosen = parse_selection(keys=["pk=b", "pk=a"]).select(records)
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in chosen] == ["a", "b", "a", "b"]
    one = parse_selection(events=["remove", "INSERT"], keys=["sk=1", "pk=b", "pk=a"])
    two = parse_selection(events=["INSERT", "REMOVE"], keys=["pk=a", "pk=b", "sk=1"])
    assert one.criteria_json() == two.criteria_json()
    assert one.criteria_json()["keys"] == {"pk": ["a", "b"], "sk": ["1"]}


PATTERNS = st.sampled_from(
    [
        {"eventName": ["INSERT"]},
        {"dynamodb": {"Keys": {"pk": {"S": [{"prefix": "a"}]}}}},
        {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 1500]}]}},
        {"dynamodb": {"NewImage": {"status": {"S": [{"anything-but": "paid"}]}}}},
    ]
)


@given(
    PATTERNS,
    st.sampled_from(["INSERT", "MODIFY", "REMOVE"]),
    st.text("ab", min_size=1, max_size=3),
    st.floats(0, 3000),
)
def test_the_filter_is_the_mappings_filter(pattern: dict[str, Any], name: str, key: str, t: float) -> None:
    """``--filter P`` selects exactly what a mapping with filter ``P`` delivers (same code)."""
    rec = record(name, t=t, pk={"S": key})
    selection = Selection(patterns=(pattern,))
    assert selection.matches(rec) == passes_filters(rec, [pattern])

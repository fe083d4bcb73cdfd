"""core.attributes: Lambda's wire form of every attribute type, and DynamoDB's item size.

The wire form is checked against botocore's own JSON serializer (what the SDK sends DynamoDB, the same
JSON Lambda's event carries), and SizeBytes against every figure recorded on real AWS in LocalStack's
AWS-validated snapshot (test_lambda_integration_dynamodbstreams.snapshot.json).
"""

from __future__ import annotations

import base64
import functools
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddbtrigger.core.attributes import (
    AttributeEncodingError,
    image_from_wire,
    image_to_wire,
    item_size,
    number_size,
    plain_image,
    record_size,
    to_wire,
    value_size,
)
from ddbtrigger.core.events import epoch_seconds, lambda_record

# -- strategies: items as boto3 hands them back (bytes for binaries) --------------------------------
names = st.text(min_size=1, max_size=12)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9).map(
        lambda d: str(d.normalize()) if d != 0 else "0"
    ),
)
binaries = st.binary(max_size=24)
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=16)),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"B": b}, binaries),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": sorted(v)}, st.sets(st.text(max_size=8), min_size=1, max_size=4)),
    st.builds(lambda v: {"NS": sorted(v)}, st.sets(st.integers(-999, 999).map(str), min_size=1, max_size=4)),
    st.builds(lambda v: {"BS": sorted(v)}, st.sets(binaries, min_size=1, max_size=4)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=4)),
        st.builds(lambda v: {"M": v}, st.dictionaries(names, inner, max_size=4)),
    ),
    max_leaves=12,
)
items = st.dictionaries(names, values, min_size=1, max_size=6)


@functools.cache
def put_item_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("dynamodb").operation_model("PutItem")


def botocore_wire(item: dict[str, Any]) -> dict[str, Any]:
    """The item as botocore's JSON serializer writes it for DynamoDB: the protocol's own wire form."""
    from botocore.serialize import create_serializer

    request = create_serializer("json").serialize_to_request(
        {"TableName": "t", "Item": item}, put_item_model()
    )
    return json.loads(request["body"])["Item"]  # type: ignore[no-any-return]


def from_wire(value: dict[str, Any]) -> dict[str, Any]:
    """The test's own decoder: wire JSON back to boto3's shape."""
    ((kind, inner),) = value.items()
    decode = {
        "B": base64.b64decode,
        "BS": lambda v: [base64.b64decode(x) for x in v],
        "L": lambda v: [from_wire(x) for x in v],
        "M": lambda v: {k: from_wire(x) for k, x in v.items()},
    }.get(kind, lambda v: v)
    return {kind: decode(inner)}


@settings(max_examples=150, deadline=None)
@given(items)
def test_wire_form_is_botocores_json_and_decodes_back(item: dict[str, Any]) -> None:
    wire = image_to_wire(item)
    assert json.loads(json.dumps(wire)) == wire  # plain JSON, nothing left over
    assert wire == botocore_wire(item)
    assert {k: from_wire(v) for k, v in wire.items()} == item  # B decodes back to the bytes written
    assert image_to_wire(wire) == wire  # wire JSON (an S3 failure's payload) passes through unchanged
    assert image_from_wire(wire) == image_from_wire(item) == item  # and back to boto3's shape


@settings(max_examples=100, deadline=None)
@given(items)
def test_size_is_the_same_from_bytes_and_from_wire(item: dict[str, Any]) -> None:
    assert item_size(item) == item_size(image_to_wire(item)) >= sum(len(k.encode()) for k in item)


def test_every_binary_shape_becomes_base64_text() -> None:
    class Binary:  # boto3.dynamodb.types.Binary's shape
        def __init__(self, value: bytes) -> None:
            self.value = value

    item = {
        "b": {"B": b"\x00\xff"},
        "ba": {"B": bytearray(b"\x01")},
        "mv": {"B": memoryview(b"\x02")},
        "boto": {"B": Binary(b"\x03")},
        "text": {"B": "AP8="},
        "bs": {"BS": [b"\x04", Binary(b"\x05")]},
        "deep": {"M": {"l": {"L": [{"B": b"\x06"}, {"M": {"bs": {"BS": [b"\x07"]}}}]}}},
    }
    assert image_to_wire(item) == {
        "b": {"B": "AP8="},
        "ba": {"B": "AQ=="},
        "mv": {"B": "Ag=="},
        "boto": {"B": "Aw=="},
        "text": {"B": "AP8="},
        "bs": {"BS": ["BA==", "BQ=="]},
        "deep": {"M": {"l": {"L": [{"B": "Bg=="}, {"M": {"bs": {"BS": ["Bw=="]}}}]}}},
    }


def test_other_types_are_sent_as_they_are() -> None:
    item = {
        "s": {"S": "é"},
        "n": {"N": "1.50"},
        "ns": {"NS": ["1", "2"]},
        "ss": {"SS": ["a"]},
        "t": {"BOOL": True},
        "z": {"NULL": True},
        "l": {"L": []},
        "m": {"M": {}},
    }
    assert image_to_wire(item) == item


@pytest.mark.parametrize(
    "bad",
    [
        {"X": "1"},
        {"S": 1},
        {"S": "a", "N": "1"},
        {"B": "not base64!"},
        {"B": 12},
        {"N": object()},
        {"BOOL": "yes"},
        {"SS": "abc"},
        {"M": [1]},
        "plain",
    ],
)
def test_what_is_not_an_attribute_value_is_refused(bad: Any) -> None:
    with pytest.raises(AttributeEncodingError):
        to_wire(bad)


def test_plain_values_show_binaries_as_base64_never_bytes_repr() -> None:
    item = {"n": {"N": "1.5"}, "i": {"N": "10"}, "b": {"B": b"\x01"}, "m": {"M": {"bs": {"BS": [b"\x02"]}}}}
    plain = plain_image(item)
    assert plain == {"n": 1.5, "i": 10, "b": "AQ==", "m": {"bs": ["Ag=="]}}
    assert "b'" not in json.dumps(plain)
    assert plain_image(image_to_wire(item)) == plain


# -- SizeBytes, calibrated on AWS's recorded figures --------------------------------------------------
MPK = {"my_partition_key": {"S": "hello world"}}
ID = {"id": {"S": "id_value"}}
ID1 = {"id": {"S": "id_value_1"}}

RECORDED = [
    # (scenario in the snapshot, the record's images, SizeBytes recorded on AWS)
    (
        "test_dynamodb_event_source_mapping (and every batch-item scenario)",
        {"Keys": MPK, "NewImage": {"binary_key": {"B": "Zm9vYmFy"}, **MPK}},
        70,
    ),
    ("test_dynamodb_event_source_mapping_with_s3_on_failure_destination", {"Keys": MPK, "NewImage": MPK}, 54),
    (
        "event_filter[insert_same_entry_twice]",
        {"Keys": ID, "NewImage": {"id2": {"S": "id2_value"}, **ID}},
        32,
    ),
    ("event_filter[content_or_filter] INSERT", {"Keys": ID, "NewImage": ID}, 20),
    (
        "event_filter[content_or_filter] MODIFY",
        {"Keys": ID, "NewImage": {"id2": {"S": "id2_new_value"}, **ID}, "OldImage": ID},
        46,
    ),
    ("event_filter[content_multiple_filters]", {"Keys": ID, "NewImage": ID}, 20),
    (
        "event_filter[content_filter_type] / [exists_filter_type]",
        {"Keys": ID1, "NewImage": {**ID1, "presentKey": {"S": "presentValue"}}},
        46,
    ),
    ("event_filter[exists_false_filter] / [date_time_conversion]", {"Keys": ID1, "NewImage": ID1}, 24),
    ("event_filter[numeric_filter]", {"Keys": ID1, "NewImage": {"numericFilter": {"N": "42"}, **ID1}}, 39),
    (
        "event_filter[prefix_filter]",
        {"Keys": ID1, "NewImage": {"prefix": {"S": "us-1-other-suffix"}, **ID1}},
        47,
    ),
    (
        "test_dynamodb_report_batch_item_failures (should_fail false)",
        {
            "Keys": {"my_partition_key": {"S": "testId0"}},
            "NewImage": {"my_partition_key": {"S": "testId0"}, "should_fail": {"BOOL": False}},
        },
        58,
    ),
    (
        "test_dynamodb_report_batch_item_failures (should_fail true)",
        {
            "Keys": {"my_partition_key": {"S": "testId5"}},
            "NewImage": {"my_partition_key": {"S": "testId5"}, "should_fail": {"BOOL": True}},
        },
        58,
    ),
]


@pytest.mark.parametrize(("scenario", "dynamodb", "size"), RECORDED, ids=[r[0] for r in RECORDED])
def test_size_bytes_reproduces_the_recorded_figures(
    scenario: str, dynamodb: dict[str, Any], size: int
) -> None:
    assert record_size(dynamodb) == size
    raw = {part: {k: from_wire(v) for k, v in image.items()} for part, image in dynamodb.items()}
    assert record_size(raw) == size  # the same from boto3's shape (bytes)


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),
        ({"B": b"\x00" * 5}, 5),
        ({"BOOL": False}, 1),
        ({"NULL": True}, 1),
        ({"SS": ["ab", "c"]}, 3),
        ({"BS": [b"ab", b"c"]}, 3),
        ({"NS": ["42", "7"]}, 4),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (1 + 2) + (1 + 2)),
        ({"M": {"k": {"S": "ab"}}}, 3 + 1 + 1 + 2),
        ({"M": {}}, 3),
    ],
)
def test_value_sizes_follow_dynamodbs_rules(value: dict[str, Any], size: int) -> None:
    assert value_size(value) == size


@pytest.mark.parametrize(
    ("number", "size"),
    [("42", 2), ("7", 2), ("0", 2), ("123", 3), ("1000000", 2), ("0.001", 2), ("-42", 3), ("12345678", 5)],
)
def test_number_size_is_about_one_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size


# -- the event record -----------------------------------------------------------------------------
def test_approximate_creation_date_time_is_always_a_float() -> None:
    from datetime import UTC, datetime

    assert epoch_seconds(1700000000) == 1700000000.0 and isinstance(epoch_seconds(1700000000), float)
    assert epoch_seconds(Decimal("1700000000")) == 1700000000.0
    assert epoch_seconds(datetime.fromtimestamp(1700000000, UTC)) == 1700000000.0


def test_lambda_record_encodes_every_image_and_survives_json() -> None:
    from datetime import UTC, datetime

    record = {
        "eventID": "e",
        "eventName": "MODIFY",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime.fromtimestamp(1700000000, UTC),
            "Keys": {"pk": {"B": b"\x01"}},
            "NewImage": {"pk": {"B": b"\x01"}, "bs": {"BS": [b"\x02"]}},
            "OldImage": {"pk": {"B": b"\x01"}, "m": {"M": {"b": {"B": b"\x03"}}}},
            "SequenceNumber": "1",
            "SizeBytes": 9,
        },
    }
    out = lambda_record(record, stream_arn="arn:aws:dynamodb:us-east-1:1:table/t/stream/s")
    text = json.dumps(out)
    assert '"ApproximateCreationDateTime": 1700000000.0' in text
    assert out["dynamodb"]["Keys"] == {"pk": {"B": "AQ=="}}
    assert out["dynamodb"]["NewImage"]["bs"] == {"BS": ["Ag=="]}
    assert out["dynamodb"]["OldImage"]["m"] == {"M": {"b": {"B": "Aw=="}}}
    assert record["dynamodb"]["Keys"] == {"pk": {"B": b"\x01"}}  # the input is left alone


def test_lambda_record_refuses_what_it_cannot_encode() -> None:
    record = {"dynamodb": {"Keys": {"pk": {"X": 1}}, "SequenceNumber": "1"}}
    with pytest.raises(ValueError, match="unknown attribute type"):
        lambda_record(record, stream_arn="arn")

"""Recorded AWS facts about event filtering on DynamoDB stream mappings, proven against the sandbox.

Source: LocalStack's AWS-validated ``test_dynamodb_event_filter`` and ``test_dynamodb_invalid_event_filter``
(tests/aws/services/lambda_/event_source_mapping/test_lambda_integration_dynamodbstreams.py and its
.snapshot.json, recorded 2025-11-25). Each test ends with an item that passes the filter, so "the second
item was dropped" is judged after a later record has been delivered, not after a guessed wait.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest_sandbox import make_table, wait_for

FUNCTION = "filtered"


class Capture:
    """The records each invoke delivered, as the function saw them."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        with self.lock:
            self.records.extend(event["Records"])

    def ids(self) -> list[str]:
        with self.lock:
            return [r["dynamodb"]["Keys"]["pk"]["S"] for r in self.records]


def deliver(sandbox: Any, pattern: dict[str, Any], items: list[dict[str, Any]], expect: int) -> Capture:
    """Map a function with ``pattern`` on a fresh table, put ``items`` and wait for ``expect`` records."""
    capture = Capture()
    stream = make_table(sandbox)
    assert stream
    sandbox.register_handler(FUNCTION, capture)
    sandbox.client("lambda").create_event_source_mapping(
        EventSourceArn=stream,
        FunctionName=FUNCTION,
        StartingPosition="TRIM_HORIZON",
        BatchSize=1,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
    )
    for item in items:
        sandbox.client("dynamodb").put_item(TableName="orders", Item=item)
    wait_for(lambda: len(capture.ids()) >= expect, what=f"{expect} delivered record(s)")
    return capture


def test_numeric_never_matches_a_dynamodb_number(sandbox: Any) -> None:
    """Recorded: "N": [{"numeric": [">", 100]}, {"anything-but": "101"}] delivers the item with N "42" and
    not the one with N "101": an N is a string in the record, so numeric never matches it."""
    pattern = {"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 100]}, {"anything-but": "101"}]}}}}
    items = [{"pk": {"S": "42"}, "n": {"N": "42"}}, {"pk": {"S": "101"}, "n": {"N": "101"}}]
    items.append({"pk": {"S": "last"}, "n": {"N": "7"}})
    capture = deliver(sandbox, pattern, items, expect=2)
    assert capture.ids() == ["42", "last"]


def test_numeric_matches_approximate_creation_date_time(sandbox: Any) -> None:
    """Recorded: {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}} delivers both
    inserts: that field is a JSON number in the record."""
    pattern = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}
    items = [{"pk": {"S": "id_value_1"}}, {"pk": {"S": "id_value_2"}}]
    capture = deliver(sandbox, pattern, items, expect=2)
    assert capture.ids() == ["id_value_1", "id_value_2"]
    times = [r["dynamodb"]["ApproximateCreationDateTime"] for r in capture.records]
    assert all(isinstance(t, int | float) and not isinstance(t, bool) for t in times)  # float: fid-wire


def test_exists_false_applies_to_leaves_only(sandbox: Any) -> None:
    """Recorded: {"dynamodb": {"NewImage": {"presentKey": [{"exists": false}]}}} delivers an item without
    presentKey and one whose presentKey is {"S": "presentValue"}: an object, not a leaf."""
    pattern = {"dynamodb": {"NewImage": {"presentKey": [{"exists": False}]}}}
    items = [{"pk": {"S": "id_value_1"}}, {"pk": {"S": "id_value_2"}, "presentKey": {"S": "presentValue"}}]
    capture = deliver(sandbox, pattern, items, expect=2)
    assert capture.ids() == ["id_value_1", "id_value_2"]


def test_exists_true_under_the_type_key(sandbox: Any) -> None:
    """Recorded: {"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": true}]}}}} delivers only the
    item that has presentKey."""
    pattern = {"dynamodb": {"NewImage": {"presentKey": {"S": [{"exists": True}]}}}}
    items = [
        {"pk": {"S": "id_value_1"}, "presentKey": {"S": "presentValue"}},
        {"pk": {"S": "id_value_2"}},
        {"pk": {"S": "last"}, "presentKey": {"S": "x"}},
    ]
    capture = deliver(sandbox, pattern, items, expect=2)
    assert capture.ids() == ["id_value_1", "last"]


def test_content_filter_needs_the_type_key(sandbox: Any) -> None:
    """Recorded: {"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}} delivers only the item
    holding that value."""
    pattern = {"dynamodb": {"NewImage": {"presentKey": {"S": ["presentValue"]}}}}
    items = [
        {"pk": {"S": "id_value_1"}, "presentKey": {"S": "presentValue"}},
        {"pk": {"S": "id_value_2"}},
        {"pk": {"S": "last"}, "presentKey": {"S": "presentValue"}},
    ]
    capture = deliver(sandbox, pattern, items, expect=2)
    assert capture.ids() == ["id_value_1", "last"]


def test_prefix_filter(sandbox: Any) -> None:
    """Recorded: {"dynamodb": {"NewImage": {"prefix": {"S": [{"prefix": "us-1"}]}}}} delivers
    "us-1-other-suffix" and not "other-suffix"."""
    pattern = {"dynamodb": {"NewImage": {"prefix": {"S": [{"prefix": "us-1"}]}}}}
    items = [
        {"pk": {"S": "a"}, "prefix": {"S": "us-1-other-suffix"}},
        {"pk": {"S": "b"}, "prefix": {"S": "other-suffix"}},
        {"pk": {"S": "last"}, "prefix": {"S": "us-1"}},
    ]
    capture = deliver(sandbox, pattern, items, expect=2)
    assert capture.ids() == ["a", "last"]


def test_event_name_or_filter(sandbox: Any) -> None:
    """Recorded: {"eventName": ["INSERT", "MODIFY"]} delivers the INSERT and the MODIFY of one item;
    {"eventName": ["INSERT"]} alone delivers only the INSERT."""
    items = [{"pk": {"S": "id_value"}}, {"pk": {"S": "id_value"}, "id2": {"S": "id2_new_value"}}]
    capture = deliver(sandbox, {"eventName": ["INSERT", "MODIFY"]}, items, expect=2)
    assert [r["eventName"] for r in capture.records] == ["INSERT", "MODIFY"]


@pytest.mark.parametrize("pattern", ["single-string", '[{"eventName": ["INSERT"=123}]'])
def test_an_invalid_pattern_is_refused_at_create(sandbox: Any, pattern: str) -> None:
    """Recorded: create-event-source-mapping with Pattern "single-string" or '[{"eventName":
    ["INSERT"=123}]' answers HTTP 400 InvalidParameterValueException "Invalid filter pattern definition."."""
    stream = make_table(sandbox)
    sandbox.register_handler(FUNCTION, Capture())
    with pytest.raises(ClientError) as refused:
        sandbox.client("lambda").create_event_source_mapping(
            EventSourceArn=stream,
            FunctionName=FUNCTION,
            StartingPosition="TRIM_HORIZON",
            FilterCriteria={"Filters": [{"Pattern": pattern}]},
        )
    response = refused.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert response["Error"]["Code"] == "InvalidParameterValueException"
    assert response["Error"]["Message"] == "Invalid filter pattern definition."
    assert sandbox.client("lambda").list_event_source_mappings()["EventSourceMappings"] == []


def test_an_invalid_pattern_is_refused_at_update(sandbox: Any) -> None:
    """Recorded (create): an invalid pattern answers 400 InvalidParameterValueException "Invalid filter
    pattern definition."; UpdateEventSourceMapping validates FilterCriteria the same way."""
    stream = make_table(sandbox)
    sandbox.register_handler(FUNCTION, Capture())
    lam = sandbox.client("lambda")
    uuid = lam.create_event_source_mapping(
        EventSourceArn=stream, FunctionName=FUNCTION, StartingPosition="TRIM_HORIZON"
    )["UUID"]
    bad = {"Filters": [{"Pattern": json.dumps({"eventName": [{"numeric": ["<", 5, ">", 1]}]})}]}
    with pytest.raises(ClientError) as refused:
        lam.update_event_source_mapping(UUID=uuid, FilterCriteria=bad)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert refused.value.response["Error"]["Message"] == "Invalid filter pattern definition."

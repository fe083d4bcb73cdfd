"""Every attribute type travels from ``put_item`` to the function, and through ``redrive``, as Lambda's JSON.

The oracle is botocore's JSON serializer (the DynamoDB protocol's own wire form, which Lambda's event
carries), not our encoder: a binary is base64 text at any depth, and decodes back to the bytes written.
"""

from __future__ import annotations

import base64
import copy
import itertools
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ddbtrigger.core.attributes import record_size
from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.redrive import Status
from ddbtrigger.usecases.redrive import RedriveOptions, open_redrive
from tests.aws.conftest_sandbox import (
    create_mapping,
    make_queue,
    sandbox_factory,
    wait_for,
)
from tests.helpers import queue_counts
from tests.unit.test_attributes import botocore_wire, from_wire, items

pytestmark = pytest.mark.xdist_group("sandbox")


class Collector:
    """The function: keeps every record it is given, by its key's bytes; fails on ``poison`` while
    ``failing``. Every event is checked to be plain JSON (the sandbox hands it over parsed)."""

    def __init__(self) -> None:
        self.records: dict[bytes, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.failing = True
        self.lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        with self.lock:
            self.events.append(copy.deepcopy(event))
            for record in event["Records"]:
                self.records[base64.b64decode(record["dynamodb"]["Keys"]["pk"]["B"])] = record
        if self.failing and any("poison" in r["dynamodb"].get("NewImage", {}) for r in event["Records"]):
            raise ValueError("poison pill")
        return None


def binary_key_table(sb: Any, name: str) -> str:
    ddb = sb.client("dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "B"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"])


def sets_sorted(value: Any) -> Any:
    """DynamoDB keeps no order in a set: compare sets sorted."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else sets_sorted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sets_sorted(v) for v in value]
    return value


def test_any_item_reaches_the_function_in_lambdas_json(sandbox: Any) -> None:
    collector = Collector()
    collector.failing = False
    stream = binary_key_table(sandbox, "wire")
    sandbox.register_handler("wire-fn", collector)
    create_mapping(sandbox, stream, "wire-fn", BatchSize=10)
    ddb = sandbox.client("dynamodb")
    keys = (f"k{i}".encode() for i in itertools.count())

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(items.map(lambda item: {k: v for k, v in item.items() if k != "pk"}))
    def round_trip(attributes: dict[str, Any]) -> None:
        key = next(keys)
        item = {"pk": {"B": key}, **attributes}
        ddb.put_item(TableName="wire", Item=item)
        record = wait_for(lambda: collector.records.get(key), what="the record at the function")
        expected = botocore_wire(item)
        assert sets_sorted(record["dynamodb"]["NewImage"]) == sets_sorted(expected)
        assert record["dynamodb"]["Keys"] == {"pk": {"B": base64.b64encode(key).decode()}}
        assert sets_sorted(
            {k: from_wire(v) for k, v in record["dynamodb"]["NewImage"].items()}
        ) == sets_sorted(item)
        assert record["dynamodb"]["SizeBytes"] == record_size(record["dynamodb"])
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)

    round_trip()


SPEC = """
version: 1
triggers:
  - name: blobs
    table: blobs
    function: blobs-fn
    on_failure: {type: sqs, name: dlq}
"""
BLOB = {
    "b": {"B": b"\x00\xffhash"},
    "bs": {"BS": [b"\x01", b"\x02\x03"]},
    "doc": {"M": {"zip": {"B": b"\x1f\x8b"}, "parts": {"L": [{"B": b"\xfe"}, {"BS": [b"\x04"]}]}}},
}


class BlobWorld:
    """A table with binaries everywhere (key, B, BS, nested), one poison pill isolated into the DLQ."""

    def __init__(self, sb: Any) -> None:
        self.sb, self.fn = sb, Collector()
        stream = binary_key_table(sb, "blobs")
        sb.register_handler("blobs-fn", self.fn)
        self.url, dlq = make_queue(sb, "dlq")
        ddb = sb.client("dynamodb")
        for i in range(6):
            poison = {"poison": {"BOOL": True}} if i == 2 else {}
            ddb.put_item(TableName="blobs", Item={"pk": {"B": bytes([i, 0xFF])}, **BLOB, **poison})
        create_mapping(
            sb,
            stream,
            "blobs-fn",
            BatchSize=10,
            BisectBatchOnFunctionError=True,
            MaximumRetryAttempts=0,
            DestinationConfig={"OnFailure": {"Destination": dlq}},
        )
        wait_for(
            lambda: self.queued() == 1 and len(self.fn.records) == 6, timeout=20, what="the pill in the DLQ"
        )
        self.factory = sandbox_factory(sb)
        self.triggers = load_spec(SPEC, "ddbtrigger.yaml").triggers

    def queued(self) -> int:
        return sum(queue_counts(self.sb.client("sqs"), self.url))


def test_redrive_delivers_binary_records_as_base64(sandbox: Any) -> None:
    world = BlobWorld(sandbox)
    original = world.fn.records[bytes([2, 0xFF])]
    world.fn.failing, world.fn.events = False, []
    with open_redrive(world.factory, world.triggers, RedriveOptions()) as run:
        report = run.run()

    assert [r.status for r in report.results] == [Status.REDRIVEN]
    (redriven,) = [r for e in world.fn.events for r in e["Records"]]
    assert redriven == original  # exactly what the mapping sent the first time
    image = redriven["dynamodb"]["NewImage"]
    assert image["b"] == {"B": base64.b64encode(b"\x00\xffhash").decode()}
    assert image["bs"] == {"BS": ["AQ==", "AgM="]}
    assert image["doc"] == {"M": {"zip": {"B": "H4s="}, "parts": {"L": [{"B": "/g=="}, {"BS": ["BA=="]}]}}}
    assert world.queued() == 0


def test_hydrate_shows_binaries_as_base64(sandbox: Any) -> None:
    import json
    from datetime import UTC, datetime

    from ddbtrigger.usecases.inspect import inspect

    world = BlobWorld(sandbox)
    report = inspect(world.factory, world.triggers, now=datetime.now(UTC), hydrate=True, show_images=True)
    (entry,) = report.failures
    assert entry.hydration is not None
    (record,) = entry.hydration.records
    assert record["keys"] == {"pk": "Av8="}
    assert record["new_image"]["b"] == base64.b64encode(b"\x00\xffhash").decode()
    assert record["new_image"]["bs"] == ["AQ==", "AgM="]
    assert record["new_image"]["doc"] == {"zip": "H4s=", "parts": ["/g==", ["BA=="]]}
    assert "b'" not in json.dumps(report.as_json())

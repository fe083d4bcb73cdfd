"""Reads sized to the work, and the calls a scan makes (issue 19): counted with a botocore hook.

No timing is asserted: the goals that are call counts are checked as call counts (one GetQueueUrl and
one GetQueueAttributes per queue, no long poll to confirm an empty queue, receives until the counted
messages were seen), and the thread/connection sizing as configuration.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from typing import Any

import pytest

from ddbtrigger.aws.clients import MAX_IN_FLIGHT, workers_for
from ddbtrigger.aws.destinations import locate, open_scan
from ddbtrigger.aws.redrive_gateway import in_flight_elsewhere
from ddbtrigger.core.spec import OnFailureSpec
from tests.aws.test_dlq import make_queue


class Calls:
    """Every API call made on the factory's SQS client, and each ReceiveMessage's WaitTimeSeconds."""

    def __init__(self, factory: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.waits: list[int] = []
        events = factory.client("sqs").meta.events
        events.register("before-call.sqs.*", self._count)
        events.register("before-parameter-build.sqs.ReceiveMessage", self._wait)

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def _wait(self, params: dict[str, Any], **_: Any) -> None:
        self.waits.append(int(params["WaitTimeSeconds"]))


def test_workers_and_connections_are_sized_to_the_work(moto_aws: Any) -> None:
    assert workers_for(0) == 1
    assert workers_for(3) == 3
    assert workers_for(10_000) == MAX_IN_FLIGHT
    assert moto_aws.client("dynamodb").meta.config.max_pool_connections == MAX_IN_FLIGHT


def test_each_client_is_built_once_for_every_thread(moto_aws: Any) -> None:
    seen: list[Any] = []
    start = threading.Barrier(16)

    def grab() -> None:
        start.wait()
        seen.append(moto_aws.client("lambda"))

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 16 and len({id(c) for c in seen}) == 1


@pytest.mark.parametrize("messages", [0, 7, 25])
def test_inspect_scan_confirms_the_end_without_a_long_poll(moto_aws: Any, messages: int) -> None:
    make_queue(moto_aws, good=messages, bad=0)
    calls = Calls(moto_aws)
    ref = locate(moto_aws, OnFailureSpec(type="sqs", name="dlq"), trigger="t")
    with open_scan(moto_aws, ref, wait_seconds=1) as scan:
        assert len(list(scan)) == messages
    assert calls.waits and all(wait == 0 for wait in calls.waits)  # never the one-second long poll
    assert calls.counts["GetQueueUrl"] == 1
    assert calls.counts["GetQueueAttributes"] == 1  # the ARN and the counts, one call
    assert calls.counts["ReceiveMessage"] == math.ceil(messages / 10) + 1  # then one empty short poll


def test_redrive_scan_fixed_costs_are_one_url_and_one_attribute_read(moto_aws: Any) -> None:
    make_queue(moto_aws, good=25, bad=0)
    calls = Calls(moto_aws)
    ref = locate(moto_aws, OnFailureSpec(type="sqs", name="dlq"), trigger="t")
    with open_scan(moto_aws, ref, wait_seconds=1, redrive=True) as scan:
        assert len(list(scan)) == 25
        assert in_flight_elsewhere(scan) == 0
    fixed = calls.counts["GetQueueUrl"] + calls.counts["GetQueueAttributes"]
    assert fixed == 2
    assert calls.counts["ReceiveMessage"] == 4 and all(w == 0 for w in calls.waits)


def test_a_scan_short_of_the_count_still_confirms_with_a_long_poll(moto_aws: Any) -> None:
    """The count is a hint: when fewer messages come back, the old confirmation stands."""
    make_queue(moto_aws, good=3, bad=0)
    calls = Calls(moto_aws)
    ref = locate(moto_aws, OnFailureSpec(type="sqs", name="dlq"), trigger="t")
    from dataclasses import replace

    from ddbtrigger.aws.destinations import Depth

    ref = replace(ref, counted=Depth(visible=5, in_flight=0))  # the count says two more than there are
    with open_scan(moto_aws, ref, wait_seconds=1) as scan:
        assert len(list(scan)) == 3
    assert calls.waits[-1] == 1, calls.waits


def test_prebuild_builds_on_another_thread_the_clients_later_handed_out(moto_aws: Any) -> None:
    built: list[str] = []
    original = moto_aws._build

    def spy(service: str) -> Any:
        built.append(threading.current_thread().name)
        return original(service)

    moto_aws._build = spy
    moto_aws.prebuild("dynamodbstreams", "lambda").join(timeout=30)
    assert built == ["ddbtrigger-clients", "ddbtrigger-clients"]
    streams = moto_aws.client("dynamodbstreams")
    assert moto_aws.client("dynamodbstreams") is streams and len(built) == 2  # not built again

"""``apply`` from nothing (tables with the stream off, functions, nothing else) against moto in-process:
the calls it makes per trigger, counted with botocore's ``before-call`` event (``CallCounter``).

Per trigger: the plan's reads (DescribeTable, ListEventSourceMappings, GetFunction, GetQueueAttributes
finding no queue), then DescribeTable (the wait before the stream change, whose answer that change
checks), UpdateTable (its answer: ACTIVE with the stream, so nothing left to wait for), CreateQueue (its
ARN from its URL), CreateEventSourceMapping on the stream ARN UpdateTable answered, and
GetEventSourceMapping until Enabled; plus one DescribeAlarms for the run.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import boto3

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.core.loader import load_spec
from ddbtrigger.usecases.provision import execute, make_plan
from tests.aws.conftest_provision import CallCounter, make_function, make_table, spec_text, trigger

REGION = "us-east-1"
N = 4
PER_TRIGGER = {
    "DescribeTable": 2,
    "UpdateTable": 1,
    "ListEventSourceMappings": 1,
    "GetFunction": 1,
    "GetQueueAttributes": 1,
    "CreateQueue": 1,
    "CreateEventSourceMapping": 1,
    "GetEventSourceMapping": 1,
}


def test_apply_from_nothing_makes_nine_calls_per_trigger(moto_aws: Any, tmp_path: Path) -> None:
    names = [f"t{i}" for i in range(N)]
    for name in names:
        make_table(moto_aws, f"{name}-table", view_type=None)
        make_function(moto_aws, f"{name}-fn")
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(*(trigger(n, table=f"{n}-table", function=f"{n}-fn") for n in names)))
    spec = load_spec(path.read_text(), str(path))
    session = boto3.Session(region_name=REGION)
    counter = CallCounter(session)
    factory = ClientFactory(AwsTarget(region=REGION, max_attempts=2), session=session)

    result = make_plan(factory, spec, list(spec.triggers))
    done = execute(factory, result.plan, sleep=lambda s: None)

    assert len(done) == 3 * N  # queue, stream, mapping of each
    calls = Counter(counter.calls)
    assert calls == Counter({**{op: n * N for op, n in PER_TRIGGER.items()}, "DescribeAlarms": 1})
    assert sum(PER_TRIGGER.values()) == 9
    for name in names:
        table = moto_aws.client("dynamodb").describe_table(TableName=f"{name}-table")["Table"]
        (mapping,) = moto_aws.client("lambda").list_event_source_mappings(FunctionName=f"{name}-fn")[
            "EventSourceMappings"
        ]
        assert (mapping["EventSourceArn"], mapping["State"]) == (table["LatestStreamArn"], "Enabled")
        queue = moto_aws.client("sqs").get_queue_url(QueueName=f"{name}-dlq")["QueueUrl"]
        arn = moto_aws.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
        assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == arn["Attributes"]["QueueArn"]
    assert make_plan(factory, spec, list(spec.triggers)).plan.pending == ()

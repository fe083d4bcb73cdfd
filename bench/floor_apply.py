"""The floor for ``apply`` from nothing: each trigger's writes and waits, one after another.

Per trigger (table and function exist, stream off, no queue, no mapping): DescribeTable (is the stream
on?) and ListEventSourceMappings (is there a mapping already?), the reads a plan needs; UpdateTable to
enable the stream, then DescribeTable until the table is ACTIVE with a stream; CreateQueue and
GetQueueAttributes (its ARN) for the SQS destination; CreateEventSourceMapping, then
GetEventSourceMapping until the mapping is Enabled. Waits poll as ddbtrigger's do (0.5 s, doubling).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from floorlib import clients, parse, triggers

MAPPING = {
    "batch_size": "BatchSize",
    "maximum_retry_attempts": "MaximumRetryAttempts",
    "maximum_record_age_in_seconds": "MaximumRecordAgeInSeconds",
    "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
}


def until(check: Callable[[], bool], timeout: float = 600.0) -> None:
    delay, deadline = 0.5, time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def apply_one(trig: dict[str, Any], ddb: Any, lam: Any, sqs: Any) -> None:
    table = ddb.describe_table(TableName=trig["table"])["Table"]
    stream = table.get("StreamSpecification") or {}
    view = (trig.get("stream") or {}).get("view_type", "NEW_AND_OLD_IMAGES")
    if not stream.get("StreamEnabled"):
        ddb.update_table(
            TableName=trig["table"], StreamSpecification={"StreamEnabled": True, "StreamViewType": view}
        )

        def active() -> bool:
            table.update(ddb.describe_table(TableName=trig["table"])["Table"])
            return table.get("TableStatus") == "ACTIVE" and bool(table.get("LatestStreamArn"))

        until(active)
    arn = table["LatestStreamArn"]
    if lam.list_event_source_mappings(EventSourceArn=arn, FunctionName=trig["function"])[
        "EventSourceMappings"
    ]:
        return
    url = sqs.create_queue(QueueName=trig["on_failure"]["name"])["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    wanted = trig.get("mapping") or {}
    params = {aws: wanted[k] for k, aws in MAPPING.items() if k in wanted}
    uuid = lam.create_event_source_mapping(
        EventSourceArn=arn,
        FunctionName=trig["function"],
        Enabled=bool(wanted.get("enabled", True)),
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": queue}},
        **params,
    )["UUID"]
    until(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] in ("Enabled", "Disabled"))
    print(f"{trig['name']}: created mapping {uuid}")


def main() -> None:
    args = parse(__doc__ or "")
    spec, trigs = triggers(args)
    ddb, lam, sqs = clients(args, spec, "dynamodb", "lambda", "sqs")
    for trig in trigs:
        apply_one(trig, ddb, lam, sqs)


if __name__ == "__main__":
    main()

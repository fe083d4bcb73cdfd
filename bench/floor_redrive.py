"""The floor for ``redrive``: a correct, minimal, sequential loop.

Per trigger, until its queue is empty: receive 10 (held invisible), and for each failure: a shard
iterator AT_SEQUENCE_NUMBER its start, GetRecords until past its end (sequence numbers compared as
integers), rebuild Lambda's event, Invoke synchronously, and delete the message only when the invoke
succeeded (no FunctionError, no batchItemFailures). Prints the counts.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from floorlib import clients, parse, triggers


def fetch(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    end = int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    for _ in range(100):  # a page budget: an open shard's iterator never ends
        page = streams.get_records(ShardIterator=iterator, Limit=max(int(info["batchSize"]), 1))
        records += [r for r in page["Records"] if int(r["dynamodb"]["SequenceNumber"]) <= end]
        last = page["Records"][-1]["dynamodb"]["SequenceNumber"] if page["Records"] else None
        if (last is not None and int(last) >= end) or not page.get("NextShardIterator"):
            break
        iterator = page["NextShardIterator"]
    return records


def event(records: list[dict[str, Any]], stream_arn: str) -> bytes:
    out = []
    for r in records:
        rec = {
            k: r[k] for k in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion") if k in r
        }
        dyn = dict(r["dynamodb"])
        when = dyn.get("ApproximateCreationDateTime")
        if isinstance(when, datetime):
            dyn["ApproximateCreationDateTime"] = int(when.timestamp())
        out.append({**rec, "dynamodb": dyn, "eventSourceARN": stream_arn})
    return json.dumps({"Records": out}).encode()


def delivered(response: dict[str, Any]) -> bool:
    if response.get("FunctionError"):
        return False
    payload = json.loads(response["Payload"].read() or b"null")
    return not (isinstance(payload, dict) and payload.get("batchItemFailures"))


def main() -> None:
    args = parse(__doc__ or "")
    spec, trigs = triggers(args)
    sqs, streams, lam = clients(args, spec, "sqs", "dynamodbstreams", "lambda")
    done = failed = records = 0
    for trig in trigs:
        url = sqs.get_queue_url(QueueName=trig["on_failure"]["name"])["QueueUrl"]
        while True:
            got = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=0
            ).get("Messages", [])
            if not got:
                break
            for message in got:
                info = json.loads(message["Body"])["DDBStreamBatchInfo"]
                batch = fetch(streams, info)
                response = lam.invoke(
                    FunctionName=trig["function"],
                    InvocationType="RequestResponse",
                    Payload=event(batch, info["streamArn"]),
                )
                if delivered(response):
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    done, records = done + 1, records + len(batch)
                else:
                    failed += 1
    print(f"redriven {done} failure(s), {records} record(s); {failed} failed")


if __name__ == "__main__":
    main()

"""The floor for ``replay``: a correct, minimal, sequential loop.

For the spec's one trigger: DescribeTable for its stream, DescribeStream for the shards (parents
before children), and per shard from TRIM_HORIZON: GetRecords (1000 a page) until the shard ends (a
closed shard: no next iterator; the open one: an empty page), keep the records created at or after
``--since`` (epoch seconds), rebuild Lambda's event and Invoke synchronously, one batch of the
mapping's size after the other, stopping the shard at the first batch not delivered. Prints the counts.
"""

from __future__ import annotations

import json
from typing import Any

from floor_redrive import delivered, event
from floorlib import clients, parse, triggers


def shard_order(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Parents before children (a parent that is gone counts as read)."""
    ids = {s["ShardId"] for s in shards}
    done: set[str] = set()
    out: list[dict[str, Any]] = []
    while len(out) < len(shards):
        for s in shards:
            parent = s.get("ParentShardId")
            if s["ShardId"] not in done and (not parent or parent in done or parent not in ids):
                out.append(s)
                done.add(s["ShardId"])
    return out


def read(streams: Any, arn: str, shard: dict[str, Any]) -> list[dict[str, Any]]:
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records += page["Records"]
        iterator = page.get("NextShardIterator")
        if not page["Records"] and "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {}):
            break  # the open shard: nothing more for now
    return records


def main() -> None:
    args = parse(__doc__ or "", lambda p: p.add_argument("--since", type=float, required=True))
    spec, trigs = triggers(args)
    ddb, streams, lam = clients(args, spec, "dynamodb", "dynamodbstreams", "lambda")
    trig = trigs[0]
    size = int((trig.get("mapping") or {}).get("batch_size", 100))
    arn = ddb.describe_table(TableName=trig["table"])["Table"]["LatestStreamArn"]
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    sent = failed = invokes = 0
    for shard in shard_order(shards):
        records = [
            r
            for r in read(streams, arn, shard)
            if r["dynamodb"]["ApproximateCreationDateTime"].timestamp() >= args.since
        ]
        for start in range(0, len(records), size):
            batch = records[start : start + size]
            response = lam.invoke(
                FunctionName=trig["function"], InvocationType="RequestResponse", Payload=event(batch, arn)
            )
            invokes += 1
            if not delivered(response):
                failed += len(records) - start
                break
            sent += len(batch)
    print(json.dumps({"replayed": sent, "failed": failed, "invokes": invokes, "shards": len(shards)}))


if __name__ == "__main__":
    main()

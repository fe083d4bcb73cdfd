"""The floor for ``status``: the reads it needs, one trigger after another, one call after another.

Per trigger: DescribeTable, ListEventSourceMappings, GetQueueUrl and GetQueueAttributes (depth), and
with ``--shards`` DescribeStream (as ``ddbtrigger status --shards``). Prints one line per trigger.
"""

from __future__ import annotations

from floorlib import clients, parse, triggers


def main() -> None:
    args = parse(__doc__ or "", lambda p: p.add_argument("--shards", action="store_true"))
    spec, trigs = triggers(args)
    ddb, streams, lam, sqs = clients(args, spec, "dynamodb", "dynamodbstreams", "lambda", "sqs")
    for trig in trigs:
        table = ddb.describe_table(TableName=trig["table"])["Table"]
        stream = table.get("LatestStreamArn")
        shards = []
        if args.shards and stream:
            shards = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"]
        found = lam.list_event_source_mappings(EventSourceArn=stream, FunctionName=trig["function"])
        state = found["EventSourceMappings"][0]["State"] if found["EventSourceMappings"] else "missing"
        url = sqs.get_queue_url(QueueName=trig["on_failure"]["name"])["QueueUrl"]
        attrs = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depth = int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )
        print(
            f"{trig['name']}: {table['TableStatus']} {len(shards)} shard(s), mapping {state}, depth {depth}"
        )


if __name__ == "__main__":
    main()

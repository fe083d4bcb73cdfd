"""The floor for a no-op ``plan``: only the necessary reads, one after another.

Per trigger: DescribeTable (the stream's ARN and view type), ListEventSourceMappings for (stream,
function), GetQueueUrl and GetQueueAttributes of the destination. Compares a few fields with the spec
and prints one line per trigger.
"""

from __future__ import annotations

from floorlib import clients, parse, triggers

FIELDS = {
    "batch_size": "BatchSize",
    "maximum_retry_attempts": "MaximumRetryAttempts",
    "maximum_record_age_in_seconds": "MaximumRecordAgeInSeconds",
    "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
}


def main() -> None:
    args = parse(__doc__ or "")
    spec, trigs = triggers(args)
    ddb, lam, sqs = clients(args, spec, "dynamodb", "lambda", "sqs")
    for trig in trigs:
        table = ddb.describe_table(TableName=trig["table"])["Table"]
        stream = table.get("LatestStreamArn")
        found = lam.list_event_source_mappings(EventSourceArn=stream, FunctionName=trig["function"])
        mappings = found["EventSourceMappings"]
        url = sqs.get_queue_url(QueueName=trig["on_failure"]["name"])["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        wanted = trig.get("mapping") or {}
        diff = [
            k for k, aws in FIELDS.items() if mappings and k in wanted and mappings[0].get(aws) != wanted[k]
        ]
        action = "create" if not mappings else ("update " + ",".join(diff) if diff else "no-op")
        print(f"{trig['name']}: {action} (queue {attrs.get('QueueArn', '?').rsplit(':', 1)[-1]})")


if __name__ == "__main__":
    main()

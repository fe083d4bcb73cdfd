"""The floor for ``audit``: the reads it needs, one mapping after another, one call after another.

Per region: ListEventSourceMappings (every page). Per DynamoDB-stream mapping: DescribeTable,
GetFunction (exists? timeout), GetQueueUrl + GetQueueAttributes (depth of its SQS destination) and
GetMetricData (its IteratorAge). Prints one line per mapping.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta


def main() -> None:
    import boto3
    from botocore.config import Config

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--region", action="append", required=True)
    args = parser.parse_args()
    config = Config(
        retries={"mode": "standard", "max_attempts": 8},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        account_id_endpoint_mode="disabled",
    )
    session = boto3.Session()
    for region in args.region:
        lam, ddb, sqs, cw = (
            session.client(s, region_name=region, endpoint_url=args.endpoint_url, config=config)
            for s in ("lambda", "dynamodb", "sqs", "cloudwatch")
        )
        for page in lam.get_paginator("list_event_source_mappings").paginate():
            for m in page["EventSourceMappings"]:
                if ":dynamodb:" in m["EventSourceArn"]:
                    audit_one(m, region, lam, ddb, sqs, cw)


def audit_one(m: dict, region: str, lam: object, ddb: object, sqs: object, cw: object) -> None:  # type: ignore[type-arg]
    table = m["EventSourceArn"].split(":table/")[1].split("/stream/")[0]
    latest = ddb.describe_table(TableName=table)["Table"].get("LatestStreamArn")  # type: ignore[attr-defined]
    timeout = lam.get_function(FunctionName=m["FunctionArn"])["Configuration"]["Timeout"]  # type: ignore[attr-defined]
    dest = (m.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    depth = None
    if dest:
        url = sqs.get_queue_url(QueueName=dest.rsplit(":", 1)[1])["QueueUrl"]  # type: ignore[attr-defined]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])  # type: ignore[attr-defined]
        depth = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    end = datetime.now(UTC)
    cw.get_metric_data(  # type: ignore[attr-defined]
        MetricDataQueries=[
            {
                "Id": "age",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": "IteratorAge",
                        "Dimensions": [{"Name": "EventSourceMappingUUID", "Value": m["UUID"]}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
        ],
        StartTime=end - timedelta(minutes=15),
        EndTime=end,
    )
    stale = latest != m["EventSourceArn"]
    print(f"{region} {m['UUID']}: {m['State']} timeout {timeout}s depth {depth} stale {stale}")


if __name__ == "__main__":
    main()

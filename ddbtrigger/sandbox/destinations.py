"""The on-failure destination: Lambda's invocation record, sent to SQS, SNS or S3.

SQS and SNS receive only the pointer (shard, sequence range, arrival times); S3 also receives the whole
invocation (the ``payload``, the event as JSON text) under ``aws/lambda/<uuid>/<shard>/YYYY/MM/DD/...``.
The sandbox sends through its own endpoint with boto3, as Lambda would through the public APIs.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ddbtrigger.core.timetext import iso

log = logging.getLogger("ddbtrigger.sandbox")


@dataclass(frozen=True)
class FailedBatch:
    """What Lambda knows when it gives up on a batch."""

    mapping_uuid: str
    function_arn: str
    stream_arn: str
    shard_id: str
    records: Sequence[dict[str, Any]]
    condition: str
    invoke_count: int
    request_id: str
    function_error: str | None
    status_code: int = 200


def _iso(value: Any, *, millis: bool = False) -> str:
    """Lambda's record times: a datetime or epoch seconds, to the second (or millisecond)."""
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), UTC)
    return iso(moment, timespec="milliseconds" if millis else "seconds")


def invocation_record(batch: FailedBatch, *, now: float) -> dict[str, Any]:
    """Lambda's invocation record for a DynamoDB stream batch (AWS-NOTES "What the failure destination
    receives").

    ``responseContext.functionError`` is always there, as AWS writes it: ``"Unhandled"`` when the function
    raised, ``null`` when it returned normally (a partial batch response that kept failing).
    """
    first, last = batch.records[0]["dynamodb"], batch.records[-1]["dynamodb"]
    response: dict[str, Any] = {
        "statusCode": batch.status_code,
        "executedVersion": "$LATEST",
        "functionError": batch.function_error or None,
    }
    return {
        "requestContext": {
            "requestId": batch.request_id or str(uuid.uuid4()),
            "functionArn": batch.function_arn,
            "condition": batch.condition,
            "approximateInvokeCount": batch.invoke_count,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(now, millis=True),
        "DDBStreamBatchInfo": {
            "shardId": batch.shard_id,
            "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(first["ApproximateCreationDateTime"]),
            "approximateArrivalOfLastRecord": _iso(last["ApproximateCreationDateTime"]),
            "batchSize": len(batch.records),
            "streamArn": batch.stream_arn,
        },
    }


def s3_key(prefix: str, batch: FailedBatch, *, now: float) -> str:
    moment = datetime.fromtimestamp(now, UTC)
    stamp = moment.strftime("%Y-%m-%dT%H.%M.%S")
    return (
        f"{prefix}aws/lambda/{batch.mapping_uuid}/{batch.shard_id}/{moment:%Y/%m/%d}/{stamp}-{uuid.uuid4()}"
    )


class Destinations:
    """Sends invocation records; ``client(service, region)`` gives a boto3 client at the sandbox."""

    def __init__(self, client: Callable[[str, str], Any]) -> None:
        self._client = client

    def send(self, destination_arn: str, batch: FailedBatch, *, event: dict[str, Any], now: float) -> None:
        """Deliver one record; a destination that is gone is logged (Lambda drops it too)."""
        record = invocation_record(batch, now=now)
        parts = destination_arn.split(":")
        service, region = parts[2], parts[3]
        try:
            if service == "sqs":
                sqs = self._client("sqs", region)
                url = sqs.get_queue_url(QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
            elif service == "sns":
                self._client("sns", region).publish(TopicArn=destination_arn, Message=json.dumps(record))
            elif service == "s3":
                bucket, _, prefix = destination_arn.split(":::", 1)[1].partition("/")
                if prefix and not prefix.endswith("/"):
                    prefix += "/"
                body = json.dumps({**record, "payload": json.dumps(event)})
                self._client("s3", region or "us-east-1").put_object(
                    Bucket=bucket, Key=s3_key(prefix, batch, now=now), Body=body.encode()
                )
            else:
                log.warning("unsupported on-failure destination %s", destination_arn)
        except Exception as e:  # the sandbox keeps running, as Lambda does
            log.warning("could not send the invocation record to %s: %s", destination_arn, e)

"""A stream handler written the way AWS Lambda Powertools documents it, used unchanged by the sandbox
(``--handler``) and by ``redrive --handler``.

It parses each record with Powertools' ``DynamoDBStreamRecordModel`` (through its ``BatchProcessor``),
fails an item whose new image has ``poison: true`` unless ``ACCEPT_POISON`` is set in the environment
(the "fixed" deployment), and answers with a partial batch response. Every sequence number it processed
is appended to ``PROCESSED``, every event it was given to ``EVENTS``.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, DynamoDBStreamRecordModel

processor = BatchProcessor(event_type=EventType.DynamoDBStreams, model=DynamoDBStreamRecordModel)
PROCESSED: list[str] = []
EVENTS: list[DynamoDBStreamModel] = []


def record_handler(record: DynamoDBStreamRecordModel) -> None:
    image = record.dynamodb.NewImage or {}
    if isinstance(image, dict) and image.get("poison") and not os.environ.get("ACCEPT_POISON"):
        raise ValueError(f"poison pill {record.dynamodb.SequenceNumber}")
    PROCESSED.append(record.dynamodb.SequenceNumber)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(DynamoDBStreamModel.model_validate(event))
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )

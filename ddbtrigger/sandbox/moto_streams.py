"""Wire the sandbox's stream model into moto's DynamoDB and DynamoDB Streams backends."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ddbtrigger.sandbox.patching import Patcher
from ddbtrigger.sandbox.streams import StreamsError, StreamsModel

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"


def _wants_stream(spec: dict[str, Any] | None) -> bool:
    if not spec:
        return False
    return bool(spec.get("StreamEnabled", bool(spec.get("StreamViewType"))))


def install_streams(patcher: Patcher, model: StreamsModel) -> None:
    """Replace moto's one-shard stream with the sandbox's model, for the sandbox's lifetime."""
    from moto.dynamodb.exceptions import MockValidationException
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    from ddbtrigger.sandbox.wire_json import get_records_body

    def set_stream_specification(table: Any, streams: dict[str, Any] | None) -> None:
        if _wants_stream(streams):
            model.enable(table, (streams or {}).get("StreamViewType") or "NEW_AND_OLD_IMAGES")
        else:
            model.disable(table)

    def update_table_streams(backend: Any, table: Any, spec: dict[str, Any]) -> None:
        enabled = bool((table.stream_specification or {}).get("StreamEnabled"))
        if _wants_stream(spec) and enabled:
            raise MockValidationException("Table already has an enabled stream")
        if not _wants_stream(spec) and not enabled:
            raise MockValidationException("Table already has no enabled stream")
        table.set_stream_specification(spec)

    def describe_stream(backend: Any, arn: str) -> dict[str, Any]:
        return model.find(backend.dynamodb, arn).describe()

    def list_streams(backend: Any, table_name: str | None = None) -> list[dict[str, Any]]:
        return [
            {"StreamArn": s.arn, "TableName": s.table_name, "StreamLabel": s.label}
            for s in model.all_streams(backend.dynamodb)
            if table_name is None or s.table_name == table_name
        ]

    def get_shard_iterator(
        backend: Any, arn: str, shard_id: str, shard_iterator_type: str, sequence_number: Any = None
    ) -> Any:
        shard = model.find(backend.dynamodb, arn).shard(shard_id)
        number = int(sequence_number) if sequence_number is not None else None
        position = model.start_position(shard, shard_iterator_type, number)
        return SimpleNamespace(arn=model.encode_iterator(arn, shard_id, position))

    def get_records(backend: Any, iterator_arn: str, limit: Any) -> dict[str, Any]:
        arn, shard_id, position = model.decode_iterator(iterator_arn)
        count = int(limit or 1000)
        if not 1 <= count <= 1000:
            raise StreamsError("ValidationException", "Limit must be between 1 and 1000")
        shard = model.find(backend.dynamodb, arn).shard(shard_id)
        records, next_position = model.read(shard, position, count)
        result: dict[str, Any] = {"Records": records}
        if shard.is_open or next_position < len(shard.items):
            result["NextShardIterator"] = model.encode_iterator(arn, shard_id, next_position)
        return result

    def get_records_response(handler: Any) -> tuple[int, dict[str, str], str]:
        """GetRecords through ``wire_json`` rather than moto's serializer (10x faster per page)."""
        limit = handler._get_param("Limit")
        result = handler.backend.get_records(handler._get_param("ShardIterator"), limit)
        return 200, {"Content-Type": JSON_CONTENT_TYPE}, get_records_body(result)

    patcher.set(DynamoDBStreamsHandler, "get_records", get_records_response)
    patcher.set(Table, "set_stream_specification", set_stream_specification)
    patcher.set(DynamoDBBackend, "update_table_streams", update_table_streams)
    patcher.set(DynamoDBStreamsBackend, "describe_stream", describe_stream)
    patcher.set(DynamoDBStreamsBackend, "list_streams", list_streams)
    patcher.set(DynamoDBStreamsBackend, "get_shard_iterator", get_shard_iterator)
    patcher.set(DynamoDBStreamsBackend, "get_records", get_records)

"""Batches as the mapping makes them: at most ``BatchSize`` records, and a payload Lambda accepts.

A replay must hand the function the batches the mapping would have, or a function tuned to its batch
size (or to its timeout) meets something new. Lambda's synchronous invoke payload is at most 6 MB
(6,291,456 bytes); a batch whose ``{"Records": [...]}`` JSON would be larger is cut before the record
that would overflow it, as Lambda's poller does. A single record larger than the limit (impossible
from DynamoDB: an item is at most 400 KB) travels alone, and the invoke says what it says.

Records are in Lambda's event shape (``core.events.lambda_record``); sizes are measured on exactly the
bytes an invoke sends (``json.dumps`` with its default separators, as every invoke path writes it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

MAX_PAYLOAD_BYTES = 6_291_456
MAX_BATCH_SIZE = 10_000  # DynamoDB streams' BatchSize range is 1..10000
_ENVELOPE = len(json.dumps({"Records": []}).encode())
_SEPARATOR = len(b", ")

R = TypeVar("R", bound=Mapping[str, Any])


def record_bytes(record: Mapping[str, Any]) -> int:
    """The bytes one record adds to an invoke's payload (without the separator)."""
    return len(json.dumps(record).encode())


def payload_bytes(records: Sequence[Mapping[str, Any]]) -> int:
    """The size of ``json.dumps({"Records": records})``, from the records' own sizes."""
    return _ENVELOPE + sum(record_bytes(r) for r in records) + _SEPARATOR * max(len(records) - 1, 0)


def batches(
    records: Sequence[R], *, batch_size: int, max_bytes: int = MAX_PAYLOAD_BYTES
) -> Iterator[list[R]]:
    """The records (one shard's, in order) cut into consecutive batches; none empty, none reordered."""
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"batch size must be 1..{MAX_BATCH_SIZE}, got {batch_size}")
    batch: list[R] = []
    size = _ENVELOPE
    for record in records:
        extra = record_bytes(record) + (_SEPARATOR if batch else 0)
        if batch and (len(batch) >= batch_size or size + extra > max_bytes):
            yield batch
            batch, size = [], _ENVELOPE
            extra = record_bytes(record)
        batch.append(record)
        size += extra
    if batch:
        yield batch

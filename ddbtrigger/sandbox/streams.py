"""DynamoDB Streams as AWS has them, on top of moto's tables.

moto keeps one shard per table with a fixed id, breaks writes after a stream is disabled, refuses to
re-enable it, never splits and never trims. Here every enable makes a new stream (new label, new ARN, a
fresh shard with its own id), a disable closes the shard and leaves the old stream readable, a split (on
demand: ``Sandbox.split_shard``) closes an open shard and opens one child or several siblings with its
``ParentShardId``, and records older than the retention are trimmed: reading them raises
``TrimmedDataAccessException`` as AWS does.

Shards form a tree, as a table's partitions do on AWS: each shard owns a range of partition-key hashes
and its children divide it, so a write walks from the stream's first shard down to the open shard whose
range holds its key's hash (stable: MD5 of the key), and one key's records stay in one shard, in order.

Iterators are stateless tokens (stream ARN, shard, position, issue time), so the server keeps no
per-iterator state, and an iterator older than 15 minutes is refused as ``ExpiredIteratorException``.
Each record's ``SizeBytes`` follows DynamoDB's item-size rules (``core.attributes.record_size``), as
AWS reports it, instead of moto's length of the record's JSON.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models.table import StreamRecord, StreamShard

from ddbtrigger.core.attributes import AttributeEncodingError, image_from_wire, record_size

log = logging.getLogger("ddbtrigger.sandbox")
ITERATOR_LIFETIME_SECONDS = 15 * 60
FIRST_SEQUENCE_NUMBER = 100_000_000_000_000_000_000
SEQUENCE_STEP = 100
HASH_SPACE = 1 << 128  # partition-key hashes are MD5 digests


class StreamsError(JsonRESTError):
    """An error in DynamoDB Streams' JSON shape (``__type`` + ``message``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"com.amazonaws.dynamodb.v20120810#{code}", message)
        self.code = 400


class SandboxShard(StreamShard):
    """One shard: records with increasing (non-contiguous) sequence numbers and arrival times."""

    def __init__(
        self,
        model: StreamsModel,
        table: Any,
        stream: SandboxStream,
        parent_shard_id: str | None = None,
        hash_range: tuple[int, int] = (0, HASH_SPACE),
    ) -> None:
        self.account_id = table.account_id
        self.parent_shard_id = parent_shard_id
        self.hash_range = hash_range  # the partition-key hashes [low, high) whose writes land here
        self.children: list[SandboxShard] = []  # what a split opened: later writes go there
        self.table = table
        self.stream = stream
        self.model = model
        self.id = f"shardId-{int(model.clock() * 1000):020d}-{uuid.uuid4().hex[:8]}"
        self.starting_sequence_number = model.next_sequence()
        self.ending_sequence_number: int | None = None
        self.items: list[StreamRecord] = []
        self.sequence_numbers: list[int] = []
        self.arrivals: list[float] = []
        self.trim_index = 0
        self.created_on = datetime.fromtimestamp(model.clock(), UTC)
        self.lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self.ending_sequence_number is None

    def to_json(self) -> dict[str, Any]:
        seq_range = {"StartingSequenceNumber": str(self.starting_sequence_number)}
        if self.ending_sequence_number is not None:
            seq_range["EndingSequenceNumber"] = str(self.ending_sequence_number)
        shard: dict[str, Any] = {"ShardId": self.id, "SequenceNumberRange": seq_range}
        if self.parent_shard_id is not None:
            shard["ParentShardId"] = self.parent_shard_id
        return shard

    def add(self, old: Any, new: Any) -> None:
        """Record one change (called by moto's put/update/delete on the stream's first shard); never
        invokes anything.

        Open is checked under the lock: a closed shard (split, or a write that raced the split) hands
        the write to the child whose hash range holds the key's hash (a closed shard without children,
        a disabled stream, drops it).
        """
        shard: SandboxShard | None = self
        digest: int | None = None
        while shard is not None:
            with shard.lock:
                if shard.is_open:
                    shard._append(old, new)
                    return
                children = list(shard.children)
            if len(children) > 1 and digest is None:
                digest = key_hash(new if new is not None else old)
            shard = next((c for c in children if digest is None or c.holds(digest)), None)

    def holds(self, digest: int) -> bool:
        low, high = self.hash_range
        return low <= digest < high

    def _append(self, old: Any, new: Any) -> None:
        event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        seq = self.model.next_sequence()
        record = StreamRecord(self.table, self.stream.view_type, event_name, old, new, seq)
        now = self.model.clock()
        dynamodb = record.record["dynamodb"]
        dynamodb["ApproximateCreationDateTime"] = datetime.fromtimestamp(int(now), UTC)
        _binaries_as_bytes(dynamodb)
        dynamodb["SizeBytes"] = _size_bytes(dynamodb)
        record.record["awsRegion"] = self.table.region_name
        record.record["eventVersion"] = "1.1"
        self.items.append(record)
        self.sequence_numbers.append(seq)
        self.arrivals.append(now)

    def close(self) -> None:
        with self.lock:
            last = self.sequence_numbers[-1] if self.sequence_numbers else self.starting_sequence_number
            self.ending_sequence_number = last

    def trim(self, retention_seconds: float, now: float) -> None:
        """Forget (logically) the records older than the retention."""
        cutoff = now - retention_seconds
        with self.lock:
            index = self.trim_index
            while index < len(self.arrivals) and self.arrivals[index] < cutoff:
                index += 1
            self.trim_index = index

    def index_of(self, sequence_number: int, *, after: bool) -> int:
        """The position of a sequence number (or of the next one after it)."""
        finder = bisect.bisect_right if after else bisect.bisect_left
        return finder(self.sequence_numbers, sequence_number)

    def records(self, start: int, limit: int) -> list[dict[str, Any]]:
        return [item.to_json() for item in self.items[start : start + limit]]


def key_hash(item: Any) -> int:
    """A stable hash of an item's partition key (MD5, the same in every process and run)."""
    wire = json.dumps(item.hash_key.to_json(), sort_keys=True, default=str)
    return int.from_bytes(hashlib.md5(wire.encode(), usedforsecurity=False).digest(), "big")


def _binaries_as_bytes(dynamodb: dict[str, Any]) -> None:
    """Every binary as bytes, as moto keeps item values: moto gives a binary key as base64 text, which
    its GetRecords response would encode a second time."""
    for part in ("Keys", "NewImage", "OldImage"):
        if part in dynamodb:
            try:
                dynamodb[part] = image_from_wire(dynamodb[part])
            except AttributeEncodingError:
                log.warning(
                    "stream record %s holds a value that is not DynamoDB's", dynamodb.get("SequenceNumber")
                )


def _size_bytes(dynamodb: dict[str, Any]) -> int:
    """AWS's SizeBytes; a record we cannot size keeps moto's figure (the write itself must not fail)."""
    try:
        return record_size(dynamodb)
    except AttributeEncodingError:
        log.warning("cannot size stream record %s; SizeBytes left as moto's", dynamodb.get("SequenceNumber"))
        return int(dynamodb.get("SizeBytes") or 0)


@dataclass
class SandboxStream:
    """One stream of a table: a label, a view type, a status and its shards."""

    table_name: str
    table_arn: str
    label: str
    view_type: str
    key_schema: list[dict[str, Any]]
    created: datetime
    enabled: bool = True
    shards: list[SandboxShard] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return f"{self.table_arn}/stream/{self.label}"

    def open_shards(self) -> list[SandboxShard]:
        return [shard for shard in self.shards if shard.is_open]

    def shard(self, shard_id: str) -> SandboxShard:
        for shard in self.shards:
            if shard.id == shard_id:
                return shard
        raise StreamsError("ResourceNotFoundException", f"Shard {shard_id} not found in {self.arn}")

    def describe(self) -> dict[str, Any]:
        return {
            "StreamArn": self.arn,
            "StreamLabel": self.label,
            "StreamStatus": "ENABLED" if self.enabled else "DISABLED",
            "StreamViewType": self.view_type,
            "CreationRequestDateTime": self.created,
            "TableName": self.table_name,
            "KeySchema": self.key_schema,
            "Shards": [shard.to_json() for shard in self.shards],
        }


class StreamsModel:
    """All streams the sandbox knows, kept on moto's Table objects (so moto's reset clears them)."""

    def __init__(self, *, retention_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.retention_seconds = retention_seconds
        self.clock = clock
        self._sequence = itertools.count(FIRST_SEQUENCE_NUMBER, SEQUENCE_STEP)
        self._sequence_lock = threading.Lock()

    def next_sequence(self) -> int:
        with self._sequence_lock:
            return next(self._sequence)

    # -- table side ---------------------------------------------------------------------------
    @staticmethod
    def streams_of(table: Any) -> list[SandboxStream]:
        streams: list[SandboxStream] | None = getattr(table, "_sandbox_streams", None)
        if streams is None:
            streams = []
            table._sandbox_streams = streams
        return streams

    def enable(self, table: Any, view_type: str) -> SandboxStream:
        """A new stream with a fresh shard; its label (and so its ARN) differs from every earlier one."""
        streams = self.streams_of(table)
        created = datetime.fromtimestamp(self.clock(), UTC)
        label = created.replace(tzinfo=None).isoformat(timespec="milliseconds")
        while any(s.label == label for s in streams):
            created = created.replace(microsecond=(created.microsecond + 1000) % 1_000_000)
            label = created.replace(tzinfo=None).isoformat(timespec="milliseconds")
        stream = SandboxStream(table.name, table.table_arn, label, view_type, table.schema, created)
        stream.shards.append(SandboxShard(self, table, stream))
        streams.append(stream)
        table.stream_specification = {"StreamEnabled": True, "StreamViewType": view_type}
        table.latest_stream_label = label
        table.stream_shard = stream.shards[0]
        return stream

    def split(
        self, table: Any, *, into: int = 1, shard_id: str | None = None
    ) -> tuple[SandboxShard, list[SandboxShard]]:
        """Close an open shard and open ``into`` children of it, as AWS does (one child every few
        hours; several siblings when a partition splits).

        The children divide the parent's partition-key hash range and take its new writes (a write
        racing the split lands in the parent before it closes, or is handed to a child); the parent
        keeps its records, ends at its last sequence number, and DescribeStream lists them all, each
        child with ``ParentShardId``. ``shard_id`` names the shard to split; without it the stream must
        have exactly one open shard.
        """
        root = getattr(table, "stream_shard", None)
        stream = root.stream if isinstance(root, SandboxShard) else None
        if stream is None or not stream.enabled:
            raise ValueError(f"table {table.name} has no enabled stream to split")
        if into < 1:
            raise ValueError(f"a shard splits into 1 or more children, not {into}")
        parent = self._shard_to_split(stream, shard_id)
        with parent.lock:  # no write lands in the parent meanwhile, so it ends below the children's start
            if not parent.is_open:
                raise ValueError(f"shard {parent.id} is closed already")
            low, high = parent.hash_range
            bounds = [low + (high - low) * i // into for i in range(into + 1)]
            children = [
                SandboxShard(self, table, stream, parent.id, (bounds[i], bounds[i + 1])) for i in range(into)
            ]
            stream.shards.extend(children)
            last = parent.sequence_numbers[-1] if parent.sequence_numbers else parent.starting_sequence_number
            parent.ending_sequence_number = last
            parent.children = children
        return parent, children

    @staticmethod
    def _shard_to_split(stream: SandboxStream, shard_id: str | None) -> SandboxShard:
        if shard_id is not None:
            try:
                return stream.shard(shard_id)
            except StreamsError:
                raise ValueError(f"no shard {shard_id} in {stream.arn}") from None
        candidates = stream.open_shards()
        if len(candidates) != 1:
            ids = ", ".join(s.id for s in candidates)
            raise ValueError(f"the stream has {len(candidates)} open shards ({ids}); name one to split")
        return candidates[0]

    def disable(self, table: Any) -> None:
        """Close the current stream's shards; the stream stays readable, writes stop being recorded."""
        for stream in self.streams_of(table):
            if stream.enabled:
                stream.enabled = False
                for shard in stream.shards:
                    shard.close()
        table.stream_specification = {"StreamEnabled": False}
        table.stream_shard = None

    # -- streams API side -----------------------------------------------------------------------
    def all_streams(self, dynamodb_backend: Any) -> Iterator[SandboxStream]:
        for table in list(dynamodb_backend.tables.values()):
            yield from self.streams_of(table)

    def find(self, dynamodb_backend: Any, arn: str) -> SandboxStream:
        for stream in self.all_streams(dynamodb_backend):
            if stream.arn == arn:
                return stream
        raise StreamsError(
            "ResourceNotFoundException", f"Requested resource not found: Stream: {arn} not found"
        )

    def start_position(self, shard: SandboxShard, kind: str, sequence_number: int | None) -> int:
        """Where an iterator of this kind starts (an index into the shard's records)."""
        shard.trim(self.retention_seconds, self.clock())
        if kind == "TRIM_HORIZON":
            return shard.trim_index
        if kind == "LATEST":
            return len(shard.items)
        if kind not in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") or sequence_number is None:
            raise StreamsError("ValidationException", f"Invalid ShardIteratorType or SequenceNumber: {kind}")
        if sequence_number < shard.starting_sequence_number or (
            shard.ending_sequence_number is not None and sequence_number > shard.ending_sequence_number
        ):
            raise StreamsError(
                "ValidationException",
                f"Invalid SequenceNumber {sequence_number} for shard {shard.id}",
            )
        index = shard.index_of(sequence_number, after=kind == "AFTER_SEQUENCE_NUMBER")
        if index < shard.trim_index or (
            index == shard.trim_index and self._before_trim(shard, sequence_number)
        ):
            raise StreamsError(
                "TrimmedDataAccessException",
                f"The operation attempted to read past the oldest stream record in shard {shard.id}",
            )
        return index

    @staticmethod
    def _before_trim(shard: SandboxShard, sequence_number: int) -> bool:
        return shard.trim_index > 0 and sequence_number <= shard.sequence_numbers[shard.trim_index - 1]

    def read(self, shard: SandboxShard, position: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """Records from ``position``; raises TrimmedDataAccessException when they are gone."""
        shard.trim(self.retention_seconds, self.clock())
        if position < shard.trim_index:
            raise StreamsError(
                "TrimmedDataAccessException",
                f"The operation attempted to read past the oldest stream record in shard {shard.id}",
            )
        records = shard.records(position, limit)
        return records, position + len(records)

    # -- iterators ----------------------------------------------------------------------------
    def encode_iterator(self, stream_arn: str, shard_id: str, position: int) -> str:
        raw = f"{stream_arn}|{shard_id}|{position}|{self.clock():.3f}|{uuid.uuid4().hex}"
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def decode_iterator(self, token: str) -> tuple[str, str, int]:
        try:
            arn, shard_id, position, issued, _ = base64.urlsafe_b64decode(token.encode()).decode().split("|")
            position_number, issued_at = int(position), float(issued)
        except (ValueError, UnicodeDecodeError) as e:
            raise StreamsError("ValidationException", "Invalid ShardIterator") from e
        if self.clock() - issued_at > ITERATOR_LIFETIME_SECONDS:
            raise StreamsError("ExpiredIteratorException", "Iterator expired: older than 15 minutes")
        return arn, shard_id, position_number

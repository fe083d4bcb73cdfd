"""``tail``: what a trigger's stream holds, decoded, every shard, oldest first; ``--follow`` keeps going.

Shards are read in lineage order: a child only once its parent has been read to its end (a key's
records stay in order), and, while following, shards that appear later (a split) are picked up when
DescribeStream is read again (each time a shard ends, and every ``DESCRIBE_EVERY`` seconds). Records are
turned into Lambda's event shape once, right after reading (``core.events.lambda_record``): the
selection, the filter patterns and the JSON lines all see what the function would see.

Without ``--follow`` every shard is read to its end (an open shard: up to its first empty page) and the
records are merged oldest first. With it, each round reads one page of every readable shard, paced by
the shard readers (one GetRecords per second per shard), and hands records over as they come.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ddbtrigger.core.events import lambda_record, region_of
from ddbtrigger.core.selection import Selection
from ddbtrigger.core.shards import Shard

DESCRIBE_EVERY = 10.0
"""Seconds between DescribeStream calls while following (a shard that ends triggers one at once)."""
IDLE_PAUSE = 1.0
"""While following with nothing readable (a stream with no shard yet), wait this long between looks."""
PAST_WINDOW_SLACK = 5.0
"""Creation times only approximately increase within a shard: stop reading this long past ``until``."""

Record = dict[str, Any]


class StreamSource(Protocol):
    """The AWS side: the stream's shards in lineage order, and a shard's next page."""

    def shards(self, stream_arn: str) -> list[Shard]: ...

    def page(self, stream_arn: str, shard_id: str) -> tuple[list[dict[str, Any]], bool]: ...

    def start_at_latest(self, stream_arn: str, shard_id: str) -> None: ...


@dataclass
class _Progress:
    """Which shards are finished (read to their end, or past the window) and when lineage was read."""

    done: set[str] = field(default_factory=set)
    shards: list[Shard] = field(default_factory=list)
    described_at: float | None = None

    def readable(self) -> list[Shard]:
        """Shards not done whose parent (if still in the stream) is done: parents before children."""
        known = {s.shard_id for s in self.shards}
        return [
            s
            for s in self.shards
            if s.shard_id not in self.done
            and (
                s.parent_shard_id is None or s.parent_shard_id not in known or s.parent_shard_id in self.done
            )
        ]


def _converted(raw: list[dict[str, Any]], stream_arn: str) -> list[Record]:
    region = region_of(stream_arn) or None
    return [lambda_record(r, stream_arn=stream_arn, region=region) for r in raw]


def created(record: Mapping[str, Any]) -> float:
    value = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return float(value) if value is not None else 0.0


def read_shard(
    source: StreamSource, stream_arn: str, shard: Shard, *, until: float | None = None
) -> Iterator[list[Record]]:
    """One shard's pages (Lambda's shape) from its start to its end (an open shard: its first empty
    page), or until a record lies ``PAST_WINDOW_SLACK`` seconds past ``until``."""
    while True:
        raw, ended = source.page(stream_arn, shard.shard_id)
        records = _converted(raw, stream_arn)
        if records:
            yield records
        past = until is not None and any(created(r) >= until + PAST_WINDOW_SLACK for r in records)
        if ended or past or not records:
            return


def history(source: StreamSource, stream_arn: str, selection: Selection) -> list[Record]:
    """Every selected record of the stream, oldest first (each shard's own order kept)."""
    until = selection.window.until
    per_shard = [
        [
            r
            for page in read_shard(source, stream_arn, shard, until=until)
            for r in page
            if selection.matches(r)
        ]
        for shard in source.shards(stream_arn)
    ]
    return list(heapq.merge(*per_shard, key=created))


def follow(
    source: StreamSource,
    stream_arn: str,
    selection: Selection,
    emit: Callable[[Record], None],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    rounds: int | None = None,
    from_now: bool = False,
) -> None:
    """Read every shard forward forever (or ``rounds`` rounds, for tests), handing each selected
    record to ``emit`` as it comes; Ctrl-C (``KeyboardInterrupt``) is the way out.

    ``from_now`` (no ``--since``): the shards open at the start begin at LATEST and the closed ones are
    skipped; shards that appear later are read from their start (everything in them is new)."""
    progress = _Progress()
    done_rounds = 0
    while rounds is None or done_rounds < rounds:
        now = clock()
        if progress.described_at is None or now - progress.described_at >= DESCRIBE_EVERY:
            first = progress.described_at is None and done_rounds == 0
            progress.shards, progress.described_at = source.shards(stream_arn), now
            if first and from_now:
                _start_at_latest(source, stream_arn, progress)
        readable = progress.readable()
        if not readable:
            sleep(IDLE_PAUSE)
        for shard in readable:
            raw, ended = source.page(stream_arn, shard.shard_id)
            for record in _converted(raw, stream_arn):
                if selection.matches(record):
                    emit(record)
            if ended:
                progress.done.add(shard.shard_id)
                progress.described_at = None  # its children are in the next DescribeStream
        done_rounds += 1


def _start_at_latest(source: StreamSource, stream_arn: str, progress: _Progress) -> None:
    for shard in progress.shards:
        if shard.open:
            source.start_at_latest(stream_arn, shard.shard_id)
        else:
            progress.done.add(shard.shard_id)

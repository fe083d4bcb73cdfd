"""Read a failed batch's records back from its DynamoDB stream, by sequence number.

Shared by ``redrive`` (which delivers them again) and ``inspect-dlq --hydrate`` (which shows them).
The stream allows about two readers per shard before AWS throttles, and the mapping is already one, so
a ``ShardReader`` is the one extra reader of its shard: it reads forward once, serving the failures of
the shard in start-sequence order from the same GetRecords pages (a page holds up to 1,000 records), at
a limited rate.

Retries are botocore's: the client factory's config (standard mode, ``AwsTarget.max_attempts``)
retries throttles and transient errors with backoff, so a throttle that outlasts them is final here
(``Throttled``). The reader adds only what botocore cannot do: a fresh iterator when one expires, a
page budget, and pacing.

Reading rules (AWS-NOTES.md): start AT_SEQUENCE_NUMBER, page until a sequence number passes the end
(compared as integers), tolerate empty pages within a budget, take a fresh iterator when one expires
(after 15 minutes), and report records the stream has trimmed as ``expired`` rather than failing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.core.events import sequence_key

GONE_CODES = {"TrimmedDataAccessException"}
MISSING_CODES = {"ResourceNotFoundException"}
EXPIRED_ITERATOR = "ExpiredIteratorException"


@dataclass(frozen=True)
class RangeResult:
    """The records of one sequence range, as GetRecords returns them (boto3's shape).

    ``expired``: the stream no longer holds (all of) them. ``extra_records``: records in the range
    beyond the batch size (ParallelizationFactor > 1 interleaving, filtered records): redelivering the
    range delivers those too. ``complete`` is False when the page budget ran out before the end.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    expired: bool = False
    extra_records: int = 0
    complete: bool = True
    reason: str | None = None


class _Gone(Exception):
    """Internal: the stream trimmed the range (or the stream is gone)."""


def describe_shards(streams_client: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every shard of the stream (DescribeStream pages by ExclusiveStartShardId; no paginator exists)."""
    shards: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"StreamArn": stream_arn}
    with translate_errors(f"describe the stream {stream_arn}"):
        while True:
            description = streams_client.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if not last:
                return shards
            kwargs["ExclusiveStartShardId"] = last


class ShardReader:
    """The one reader of one shard: serves ``records_for`` calls from shared, rate-limited reads.

    Call ``records_for`` with ranges in ascending start order to read each page once; an earlier
    start still works (it seeks again). Not thread-safe: one worker per shard, as redrive runs.
    """

    def __init__(
        self,
        streams_client: Any,
        stream_arn: str,
        shard_id: str,
        *,
        max_calls_per_second: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        page_budget: int = 200,
        empty_page_budget: int = 20,
        page_limit: int | None = None,
    ) -> None:
        self.client = streams_client
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.min_interval = 1.0 / max_calls_per_second if max_calls_per_second > 0 else 0.0
        self.sleep, self.clock = sleep, clock
        self.page_budget, self.empty_page_budget = page_budget, empty_page_budget
        self.page_limit = page_limit
        self.calls = 0
        """GetRecords calls made (tests and benchmarks read it)."""
        self._iterator: str | None = None
        self._buffer: list[dict[str, Any]] = []
        self._covered_from: int | None = None
        self._read_to: int | None = None
        self._shard_end = False
        self._last_call: float | None = None
        self._trim_known = False
        self._trim_point: int | None = None

    def records_for(self, start_seq: str, end_seq: str, *, batch_size: int | None = None) -> RangeResult:
        """The records with ``start_seq <= SequenceNumber <= end_seq``, read once and shared."""
        start, end = sequence_key(start_seq), sequence_key(end_seq)
        try:
            complete = self._cover(start, end)
        except _Gone as e:
            self._reset()
            return RangeResult(expired=True, reason=str(e))
        records = [r for r in self._buffer if start <= _seq(r) <= end]
        self._buffer = [r for r in self._buffer if _seq(r) >= start]
        self._covered_from = max(self._covered_from or start, start)
        return self._judge(records, start, batch_size, complete)

    def open(self, position: str = "TRIM_HORIZON") -> None:
        """Read the shard forward from ``position`` (``TRIM_HORIZON`` or ``LATEST``) with ``read_page``
        (``tail`` and ``replay``: the whole shard, not a failure's range)."""
        self._reset()
        try:
            self._iterator = self._shard_iterator(position)
        except _Gone:
            self._shard_end = True
        if self._iterator is None:
            self._shard_end = True

    def read_page(self) -> tuple[list[dict[str, Any]], bool]:
        """The next GetRecords page read forward (paced, boto3's shape), and whether the shard has
        ended (closed and read to its end, or gone). Opens at ``TRIM_HORIZON`` on first use."""
        if self._iterator is None and not self._shard_end:
            self.open()
        if self._shard_end:
            return [], True
        try:
            self._next_page()
        except _Gone:  # trimmed under us: what is left starts at the trim horizon; a gone shard ends
            self.open()
            return [], self._shard_end
        records, self._buffer = self._buffer, []
        return records, self._shard_end

    def _judge(
        self, records: list[dict[str, Any]], start: int, batch_size: int | None, complete: bool
    ) -> RangeResult:
        extra = max(0, len(records) - batch_size) if batch_size else 0
        if batch_size and len(records) < batch_size and complete:
            starts_late = not records or _seq(records[0]) > start
            if starts_late and self._behind_trim_point(start):
                return RangeResult(
                    records=records,
                    expired=True,
                    reason=f"the stream has trimmed part of the range ({len(records)} of "
                    f"{batch_size} records left)",
                )
        reason = None if complete else f"page budget ({self.page_budget} pages) ran out before the end"
        return RangeResult(
            records=records, expired=False, extra_records=extra, complete=complete, reason=reason
        )

    def _cover(self, start: int, end: int) -> bool:
        """Make the buffer hold every record up to ``end``; False when the page budget ran out."""
        if (self._iterator is None and not self._shard_end) or self._needs_seek(start):
            self._seek(start)
        if self._read_to is not None and self._read_to >= end:
            return True
        pages = empty = 0
        while not self._shard_end and pages < self.page_budget and empty < self.empty_page_budget:
            got = self._next_page()
            pages += 1
            empty = 0 if got else empty + 1
            if self._read_to is not None and self._read_to >= end:
                return True
        return self._shard_end

    def _needs_seek(self, start: int) -> bool:
        if self._covered_from is None or start < self._covered_from:
            return True
        return self._read_to is not None and start > self._read_to and not self._buffer_reaches(start)

    def _buffer_reaches(self, start: int) -> bool:
        return bool(self._buffer) and _seq(self._buffer[-1]) >= start

    def _seek(self, start: int) -> None:
        self._reset()
        self._iterator = self._shard_iterator("AT_SEQUENCE_NUMBER", str(start))
        self._covered_from = start

    def _reset(self) -> None:
        self._iterator, self._buffer, self._covered_from, self._read_to = None, [], None, None
        self._shard_end = False

    def _next_page(self) -> int:
        """One GetRecords call; appends to the buffer; returns how many records came back."""
        response = self._get_records()
        records = response.get("Records", [])
        self._buffer.extend(records)
        if records:
            self._read_to = _seq(records[-1])
        self._iterator = response.get("NextShardIterator")
        if self._iterator is None:
            self._shard_end = True
        return len(records)

    def _get_records(self) -> dict[str, Any]:
        """One GetRecords page (botocore retries throttles); an expired iterator is renewed once."""
        for renewed in (False, True):
            self._pace()
            kwargs: dict[str, Any] = {"ShardIterator": self._iterator}
            if self.page_limit:
                kwargs["Limit"] = self.page_limit
            self.calls += 1
            try:
                return dict(self.client.get_records(**kwargs))
            except Exception as e:
                if error_code(e) != EXPIRED_ITERATOR or renewed:
                    _raise_read_error(e, f"read records from {self.shard_id}")
                self._iterator = self._fresh_iterator()
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _fresh_iterator(self) -> str | None:
        """After 15 minutes an iterator expires: continue right after the last record read."""
        if self._read_to is not None:
            return self._shard_iterator("AFTER_SEQUENCE_NUMBER", str(self._read_to))
        if self._covered_from is None:  # reading forward from the start (``open``): nothing read yet
            return self._shard_iterator("TRIM_HORIZON")
        return self._shard_iterator("AT_SEQUENCE_NUMBER", str(self._covered_from))

    def _shard_iterator(self, kind: str, sequence: str | None = None) -> str | None:
        kwargs: dict[str, Any] = {
            "StreamArn": self.stream_arn,
            "ShardId": self.shard_id,
            "ShardIteratorType": kind,
        }
        if sequence is not None:
            kwargs["SequenceNumber"] = sequence
        try:
            return self.client.get_shard_iterator(**kwargs).get("ShardIterator")  # type: ignore[no-any-return]
        except Exception as e:
            _raise_read_error(e, f"get a shard iterator for {self.shard_id}")

    def _pace(self) -> None:
        """At most ``max_calls_per_second`` GetRecords calls on this shard."""
        now = self.clock()
        if self._last_call is not None and self.min_interval:
            wait = self._last_call + self.min_interval - now
            if wait > 0:
                self.sleep(wait)
                now = self.clock()
        self._last_call = now

    def _behind_trim_point(self, start: int) -> bool:
        """Whether ``start`` lies before the oldest record the shard still holds (so it was trimmed)."""
        if not self._trim_known:
            try:
                self._trim_point = self._oldest_sequence()
            except _Gone:
                self._trim_point = None
            self._trim_known = True
        return self._trim_point is None or start < self._trim_point

    def _oldest_sequence(self) -> int | None:
        iterator = self._shard_iterator("TRIM_HORIZON")
        for _ in range(self.empty_page_budget):
            if iterator is None:
                return None
            saved, self._iterator = self._iterator, iterator
            try:
                response = self._get_records()
            finally:
                self._iterator = saved
            if response.get("Records"):
                return _seq(response["Records"][0])
            iterator = response.get("NextShardIterator")
        return None


class ShardReaders:
    """One ``ShardReader`` per (stream, shard), created on first use (thread-safe): every failure of a
    shard is read through the same reader, whoever asks. ``client_for(stream_arn)`` gives the Streams
    client for a stream (a pointer may name another region)."""

    def __init__(
        self,
        client_for: Callable[[str], Any],
        *,
        max_calls_per_second: float = 4.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client_for, self.max_calls_per_second, self.sleep = client_for, max_calls_per_second, sleep
        self._readers: dict[tuple[str, str], ShardReader] = {}
        self._lock = threading.Lock()

    def get(self, stream_arn: str, shard_id: str) -> ShardReader:
        with self._lock:
            key = (stream_arn, shard_id)
            if key not in self._readers:
                self._readers[key] = ShardReader(
                    self.client_for(stream_arn),
                    stream_arn,
                    shard_id,
                    max_calls_per_second=self.max_calls_per_second,
                    sleep=self.sleep,
                )
            return self._readers[key]

    @property
    def calls(self) -> int:
        """GetRecords calls made by every reader."""
        with self._lock:
            return sum(r.calls for r in self._readers.values())


def _raise_read_error(exc: Exception, action: str) -> NoReturn:
    """Trimmed records or a vanished stream end the range (``_Gone``); anything else is our error."""
    code = error_code(exc)
    if code in GONE_CODES:
        raise _Gone("the stream has trimmed these records (TrimmedDataAccessException)") from exc
    if code in MISSING_CODES:
        raise _Gone("the stream or shard no longer exists") from exc
    with translate_errors(action):
        raise exc


def _seq(record: dict[str, Any]) -> int:
    return sequence_key(record["dynamodb"]["SequenceNumber"])

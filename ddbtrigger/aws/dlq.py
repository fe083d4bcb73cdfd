"""Read (and, for redrive, remove) what a failure destination holds, without consuming it by accident.

SQS has no peek. A scan receives messages in batches of ten (a long poll first, then short polls) and
keeps each received message invisible until the whole scan is done, so nothing is read twice; on the
way out (normally, on an error, on Ctrl-C) every message still held is made visible again in one
ChangeMessageVisibilityBatch per ten. Only ``delete`` removes a message, and redrive calls it only after
a delivery succeeded. SNS is read through its inspect queue the same way; S3 objects are listed under
the prefix, newest first, and fetched one by one.

Scans are iterators of ``Failure | Malformed``: bodies are parsed and dropped as they arrive, so memory
holds only one receipt handle per message in flight (needed to release it).

Note: every receive increments a message's ApproximateReceiveCount. A queue with its own RedrivePolicy
(maxReceiveCount) would move a message on after that many scans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.destinations.base import DEFAULT_HOLD_SECONDS
from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.core.destinations import MAX_S3_OBJECT_BYTES
from ddbtrigger.core.failures import Failure, Malformed, Source, parse_failure
from ddbtrigger.errors import NotFound, UsageError

if TYPE_CHECKING:
    from ddbtrigger.aws.s3_leases import S3Leases  # imported when an S3 scan runs: SQS scans never need it

SQS_IN_FLIGHT_CAP = 120_000
"""SQS refuses to hold more than this many messages of a standard queue in flight."""
SQS_BATCH = 10
MAX_REPEAT_RECEIVES = 20
"""Receives in a row that return only messages already seen, before a scan gives up looking for more."""
OVER_LIMIT = {"OverLimit", "AWS.SimpleQueueService.OverLimit"}

Result = Failure | Malformed


def check_limit(limit: int | None) -> None:
    """``--limit`` above SQS's in-flight cap cannot be honoured without reading messages twice."""
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be at least 1 (got {limit})")
    if limit is not None and limit > SQS_IN_FLIGHT_CAP:
        raise UsageError(
            f"--limit {limit} is above SQS's in-flight cap of {SQS_IN_FLIGHT_CAP:,} messages: a "
            f"scan holds every message it reads invisible until it ends; use a smaller --limit"
        )


class SqsScan:
    """A scan of one queue: iterate for parsed messages; leaving the ``with`` block releases them all.

    Thread-safe for ``delete``/``extend``/``release`` while another thread iterates or works.
    """

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        *,
        source: Source = "sqs",
        limit: int | None = None,
        hold_seconds: int = DEFAULT_HOLD_SECONDS,
        wait_seconds: int = 2,
        empty_receives_to_stop: int = 2,
        expected: int | None = None,
    ) -> None:
        check_limit(limit)
        self.sqs, self.queue_url, self.source = sqs, queue_url, source
        self.limit = limit
        self.hold_seconds, self.wait_seconds = hold_seconds, wait_seconds
        self.empty_receives_to_stop = empty_receives_to_stop
        self.expected = expected
        """The queue's visible count (ApproximateNumberOfMessages) read just before the scan, if known."""
        self.received = 0
        self.truncated = False
        """True when SQS refused to put more messages in flight (OverLimit): the scan saw only part."""
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> SqsScan:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._held)

    def __iter__(self) -> Iterator[Result]:
        """Short polls while messages flow; an empty short poll is confirmed by a long poll (which asks
        every SQS server, where a short poll samples some) before the scan ends. Messages seen before
        (back after ``hold_seconds`` in a very long scan) are not yielded again.

        With ``expected`` (the visible count read before the scan), the scan starts with a short poll
        and, once that many messages were seen, ends on the first empty short poll: everything the
        queue held was read, and waiting a second longer only proves it again. Short of the count, an
        empty short poll is still confirmed by a long poll."""
        wait, empty, repeats = (self.wait_seconds if self.expected is None else 0), 0, 0
        while self.limit is None or self.received < self.limit:
            messages = self._receive(wait=wait)
            if messages is None:
                return
            fresh = [m for m in messages if self._hold(m)]
            if fresh:
                wait, empty, repeats = 0, 0, 0
            elif messages and repeats < MAX_REPEAT_RECEIVES:
                repeats += 1
            else:
                empty += 1
                if wait > 0 or empty >= self.empty_receives_to_stop or self._all_seen():
                    return
                wait = self.wait_seconds
            for message in fresh:
                self.received += 1
                yield self._parse(message)

    def _all_seen(self) -> bool:
        return self.expected is not None and self.received >= self.expected

    def _receive(self, *, wait: int) -> list[dict[str, Any]] | None:
        want = SQS_BATCH if self.limit is None else min(SQS_BATCH, self.limit - self.received)
        try:
            with translate_errors(f"receive messages from {self.queue_url}"):
                response = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=want,
                    WaitTimeSeconds=wait,
                    VisibilityTimeout=self.hold_seconds,
                    MessageSystemAttributeNames=["SentTimestamp"],
                )
        except Exception as e:
            if error_code(e.__cause__ or e) in OVER_LIMIT:
                self.truncated = True
                return None
            raise
        return list(response.get("Messages", []))

    def _hold(self, message: dict[str, Any]) -> bool:
        """Remember the newest receipt handle; False when the message was already seen in this scan."""
        with self._lock:
            seen = message["MessageId"] in self._held
            self._held[message["MessageId"]] = message["ReceiptHandle"]
        return not seen

    def _parse(self, message: dict[str, Any]) -> Result:
        sent = message.get("Attributes", {}).get("SentTimestamp")
        received_at = datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None
        return parse_failure(
            message.get("Body", ""),
            id=message["MessageId"],
            source=self.source,
            receipt_handle=message["ReceiptHandle"],
            received_at=received_at,
        )

    def _handle(self, item: Result | str) -> tuple[str, str | None]:
        message_id = item if isinstance(item, str) else item.id
        with self._lock:
            return message_id, self._held.get(message_id)

    def delete(self, item: Result | str) -> None:
        """Remove one message for good (redrive, after its records were delivered)."""
        message_id, handle = self._handle(item)
        if handle is None and not isinstance(item, str):
            handle = item.receipt_handle
        if handle is None:
            raise ValueError(f"message {message_id} is not held by this scan")
        with translate_errors(f"delete message {message_id}"):
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=handle)
        with self._lock:
            self._held.pop(message_id, None)

    def extend(self, item: Result | str, seconds: int) -> None:
        """Keep one message invisible ``seconds`` longer from now (while redrive works on it)."""
        message_id, handle = self._handle(item)
        if handle is None:
            return
        with translate_errors(f"extend the visibility of message {message_id}"):
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=handle, VisibilityTimeout=seconds
            )

    def extend_all(self, seconds: int) -> int:
        """Keep every held message invisible ``seconds`` longer; returns how many were extended."""
        return self._change_all(seconds)

    def release(self, item: Result | str | None = None) -> int:
        """Make held messages visible again (all of them, or one); returns how many were released."""
        if item is not None:
            message_id, handle = self._handle(item)
            with self._lock:
                self._held.pop(message_id, None)
            return self._change({message_id: handle} if handle else {}, 0)
        count = self._change_all(0)
        with self._lock:
            self._held.clear()
        return count

    def _change_all(self, seconds: int) -> int:
        with self._lock:
            held = dict(self._held)
        return self._change(held, seconds)

    def _change(self, held: dict[str, str], seconds: int) -> int:
        """One ChangeMessageVisibilityBatch per ten, several in flight (``workers_for``): releasing
        1,000 messages is 100 calls, and one after the other they were ~40 % of a scan's wall time
        (each call's CPU here overlaps the server's work on the others). Every batch is tried; the
        first error is raised after."""
        handles = list(held.values())
        batches = [handles[i : i + SQS_BATCH] for i in range(0, len(handles), SQS_BATCH)]
        if len(batches) <= 1:
            return sum(self._change_batch(batch, seconds) for batch in batches)
        from concurrent.futures import ThreadPoolExecutor

        from ddbtrigger.aws.clients import workers_for

        with ThreadPoolExecutor(workers_for(len(batches)), thread_name_prefix="ddbtrigger-release") as pool:
            futures = [pool.submit(self._change_batch, batch, seconds) for batch in batches]
        return sum(future.result() for future in futures)

    def _change_batch(self, handles: list[str], seconds: int) -> int:
        entries = [
            {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
            for n, handle in enumerate(handles)
        ]
        with translate_errors(f"change message visibility on {self.queue_url}"):
            response = self.sqs.change_message_visibility_batch(QueueUrl=self.queue_url, Entries=entries)
        return len(response.get("Successful", []))


class S3Scan:
    """The failures under an S3 prefix, newest first. Reading changes nothing; ``delete`` removes one.

    With ``leases`` (redrive), each failure is leased before it is read and skipped when another run
    holds its lease (counted in ``held_elsewhere``); leaving the ``with`` block releases the leases.
    """

    source: Source = "s3"

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str = "",
        *,
        limit: int | None = None,
        leases: S3Leases | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> None:
        if limit is not None and limit < 1:
            raise UsageError(f"--limit must be at least 1 (got {limit})")
        self.s3, self.bucket, self.prefix, self.limit = s3, bucket, prefix, limit
        self.leases = leases
        self.skip = skip  # failures another run holds (inspect-dlq reports them as held, not listed)
        self.received = 0
        self.truncated = False

    def __enter__(self) -> S3Scan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @property
    def in_flight(self) -> int:
        return self.leases.held if self.leases else 0

    @property
    def held_elsewhere(self) -> int:
        return self.leases.held_elsewhere if self.leases else 0

    def keys(self) -> list[tuple[datetime, str, int]]:
        """(last modified, key, size) of every object under the prefix, newest first (leases skipped)."""
        from ddbtrigger.aws.s3_leases import is_lease

        found: list[tuple[datetime, str, int]] = []
        with translate_errors(f"list s3://{self.bucket}/{self.prefix}"):
            paginator = self.s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for obj in page.get("Contents", []):
                    key = obj["Key"]
                    if not key.endswith("/") and not is_lease(key) and key not in self.skip:
                        found.append((obj["LastModified"], key, int(obj.get("Size", 0))))
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return found

    def __iter__(self) -> Iterator[Result]:
        for modified, key, size in self.keys():
            if self.limit is not None and self.received >= self.limit:
                return
            if self.leases is not None and not self.leases.acquire(key):
                continue
            if size > MAX_S3_OBJECT_BYTES:
                self.received += 1
                yield Malformed(
                    id=key, reason=f"oversized object: {size} bytes", source="s3", received_at=_utc(modified)
                )
                continue
            try:
                with translate_errors(f"read s3://{self.bucket}/{key}"):
                    body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except NotFound:
                self.release(key)  # deleted since the listing (another run redrove it)
                continue
            self.received += 1
            yield parse_failure(body, id=key, source="s3", received_at=_utc(modified))

    def delete(self, item: Result | str) -> None:
        key = item if isinstance(item, str) else item.id
        with translate_errors(f"delete s3://{self.bucket}/{key}"):
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        self.release(key)

    def extend(self, item: Result | str, seconds: int) -> None:
        """Leases are renewed all at once (``extend_all``)."""

    def extend_all(self, seconds: int) -> int:
        return self.leases.renew_all() if self.leases else 0

    def release(self, item: Result | str | None = None) -> int:
        """Delete this scan's leases (all of them, or one failure's); without leases, nothing to do."""
        if self.leases is None:
            return 0
        if item is None:
            return self.leases.release()
        return self.leases.release([item if isinstance(item, str) else item.id])


Scan = SqsScan | S3Scan


class Heartbeat:
    """Keeps a scan's held messages invisible while long work runs (redrive): extends them periodically.

    ``with Heartbeat(scan, every=60, hold=300): ...`` — a daemon thread; stops when the block ends.
    """

    def __init__(
        self,
        scan: Scan,
        *,
        every: float = 60.0,
        hold: int = DEFAULT_HOLD_SECONDS,
        wait: Callable[[threading.Event, float], bool] | None = None,
    ) -> None:
        self.scan, self.every, self.hold = scan, every, hold
        self._stop = threading.Event()
        self._wait = wait or (lambda event, seconds: event.wait(seconds))
        self._thread = threading.Thread(target=self._run, name="ddbtrigger-heartbeat", daemon=True)
        self.beats = 0
        self.error: BaseException | None = None

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._wait(self._stop, self.every):
            try:
                self.scan.extend_all(self.hold)
                self.beats += 1
            except Exception as e:  # reported by the owner; the next beat tries again
                self.error = e


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

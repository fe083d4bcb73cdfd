"""The AWS side of a redrive: shared shard readers, the invoke, and deletes in batches of ten.

Built on the shared readers (``aws.stream_records.ShardReader``, ``aws.dlq`` scans). What this module
adds is what only redrive needs: the readers of every shard it touches (``ShardReaders``), a Lambda
client that waits out the longest function, and deletes sent ten at a time (``DeleteMessageBatch``,
``DeleteObjects``) so a failure costs about one Invoke and a tenth of a delete. A delete is only ever
asked for after delivery; buffering it means a killed run may deliver a failure twice, never lose one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.dlq import SQS_BATCH, S3Scan, SqsScan
from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.aws.invoke import invoke_factory, invoke_function
from ddbtrigger.aws.stream_records import ShardReaders, describe_shards
from ddbtrigger.core.redrive import Fetched, InvokeResponse, ShardKey
from ddbtrigger.errors import AwsError, NotFound

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.failures import Failure

Scan = SqsScan | S3Scan
Warn = Callable[[str], None]
FLUSH_AFTER_SECONDS = 2.0


class RedriveSqsScan(SqsScan):
    """An SQS scan that can also delete held messages ten at a time (one DeleteMessageBatch call)."""

    held_before: int | None = None
    """Messages others held when the queue was located (before this scan held any), if counted then."""

    def delete_many(self, failures: list[Failure]) -> list[str]:
        """Delete the messages; returns the ids SQS did not delete (they stay held, then released)."""
        entries, by_entry = [], {}
        with self._lock:
            for n, failure in enumerate(failures):
                handle = self._held.get(failure.id) or failure.receipt_handle
                if handle:
                    entries.append({"Id": str(n), "ReceiptHandle": handle})
                    by_entry[str(n)] = failure.id
        if not entries:
            return [f.id for f in failures]
        with translate_errors(f"delete messages from {self.queue_url}"):
            response = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
        deleted = {by_entry[e["Id"]] for e in response.get("Successful", [])}
        with self._lock:
            for message_id in deleted:
                self._held.pop(message_id, None)
        return [f.id for f in failures if f.id not in deleted]


def in_flight_elsewhere(scan: Scan) -> int:
    """Failures someone else holds: SQS messages invisible but not held by this scan, S3 failures whose
    lease another run holds."""
    if isinstance(scan, S3Scan):
        return scan.held_elsewhere
    if isinstance(scan, RedriveSqsScan) and scan.held_before is not None:
        return scan.held_before  # counted when located: no second GetQueueAttributes
    with translate_errors(f"count the messages in flight in {scan.queue_url}"):
        attributes = scan.sqs.get_queue_attributes(
            QueueUrl=scan.queue_url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
    return max(0, int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)) - scan.in_flight)


def delete_s3_many(scan: S3Scan, failures: list[Failure]) -> list[str]:
    """Delete S3 failure objects in one DeleteObjects call; returns the keys that were not deleted."""
    objects = [{"Key": f.id} for f in failures]
    with translate_errors(f"delete objects from s3://{scan.bucket}"):
        response = scan.s3.delete_objects(Bucket=scan.bucket, Delete={"Objects": objects, "Quiet": True})
    failed = [str(e.get("Key")) for e in response.get("Errors", [])]
    if scan.leases is not None:  # only after the failure is gone
        scan.leases.release([f.id for f in failures if f.id not in failed])
    return failed


class BatchDeleter:
    """Collects delivered failures per scan and deletes them ten at a time (or after a short wait)."""

    def __init__(
        self,
        *,
        warn: Warn,
        batch: int = SQS_BATCH,
        max_wait: float = FLUSH_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.warn, self.batch, self.max_wait, self.clock = warn, batch, max_wait, clock
        self._pending: dict[int, tuple[Scan, list[Failure], float]] = {}
        self._lock = threading.Lock()
        self.deleted = 0
        self.not_deleted: list[str] = []

    def add(self, scan: Scan, failure: Failure) -> None:
        with self._lock:
            _, items, since = self._pending.get(id(scan), (scan, [], self.clock()))
            items.append(failure)
            self._pending[id(scan)] = (scan, items, since)
            due = len(items) >= self.batch or self.clock() - since >= self.max_wait
            ready = self._pending.pop(id(scan))[1] if due else []
        if ready:
            self._send(scan, ready)

    def flush(self) -> None:
        """Send everything pending (the end of a run, Ctrl-C included)."""
        with self._lock:
            pending, self._pending = list(self._pending.values()), {}
        for scan, items, _ in pending:
            for i in range(0, len(items), self.batch):
                self._send(scan, items[i : i + self.batch])

    def _send(self, scan: Scan, items: list[Failure]) -> None:
        """One batch delete. A delete that fails is reported, never retried blindly: the failure stays in
        the destination (released at the end) and a later redrive delivers it again."""
        try:
            failed = (
                delete_s3_many(scan, items)
                if isinstance(scan, S3Scan)
                else _as_batch_scan(scan).delete_many(items)
            )
            reason = "their receipt handle was refused (held too long?)"
        except AwsError as e:
            failed, reason = [f.id for f in items], e.message
        with self._lock:
            self.deleted += len(items) - len(failed)
            self.not_deleted.extend(failed)
        if failed:
            self.warn(
                f"{len(failed)} delivered failure(s) could not be deleted: {reason}; they stay in the "
                "destination and a later redrive delivers them again"
            )


def _as_batch_scan(scan: SqsScan) -> RedriveSqsScan:
    if isinstance(scan, RedriveSqsScan):
        return scan
    raise TypeError("redrive needs a RedriveSqsScan to delete in batches")


LocalDelivery = Callable[[str, Mapping[str, Any]], InvokeResponse]
"""``--handler``: deliver an event to a local handler instead of Lambda (the use case builds it from the
local runtime, so this adapter knows nothing of it)."""


class AwsRedriveGateway:
    """``usecases.redrive.RedriveGateway`` over real AWS (or anything that speaks its APIs)."""

    def __init__(
        self,
        factory: ClientFactory,
        scans: Mapping[str, Scan],
        *,
        reads_per_second: float = 4.0,
        deliver_local: LocalDelivery | None = None,
        warn: Warn = lambda _: None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.scans = dict(scans)
        self.deliver_local = deliver_local
        self.reads_per_second = reads_per_second
        self.sleep = sleep
        self.streams = factory.client("dynamodbstreams")
        self.invoker = None if deliver_local is not None else invoke_factory(factory)
        self.deleter = BatchDeleter(warn=warn)
        streams = self.streams
        self.readers = ShardReaders(lambda _arn: streams, max_calls_per_second=reads_per_second, sleep=sleep)

    def shard_parents(self, stream_arns: set[str]) -> Mapping[ShardKey, str | None]:
        """DescribeStream lineage of each stream (a stream that is gone has no lineage to keep)."""
        parents: dict[ShardKey, str | None] = {}
        for arn in sorted(stream_arns):
            try:
                shards = describe_shards(self.streams, arn)
            except NotFound:
                continue
            for shard in shards:
                parents[ShardKey(arn, shard["ShardId"])] = shard.get("ParentShardId")
        return parents

    def fetch(self, failure: Failure) -> Fetched:
        """The failure's records from its shard's reader; an unfinished read is an error, not a success."""
        result = self.readers.get(failure.stream_arn, failure.shard_id).records_for(
            failure.start_sequence_number, failure.end_sequence_number, batch_size=failure.batch_size
        )
        if not result.complete and not result.expired:
            raise AwsError(result.reason or "the stream did not return the whole range")
        return Fetched(result.records, expired=result.expired, extra=result.extra_records)

    def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse:
        if self.deliver_local is not None:
            return self.deliver_local(function, event)
        assert self.invoker is not None
        return invoke_function(self.invoker, function, event)

    def delete(self, trigger: str, failure: Failure) -> None:
        self.deleter.add(self.scans[trigger], failure)

    def flush(self) -> None:
        self.deleter.flush()

    @property
    def get_records_calls(self) -> int:
        return self.readers.calls

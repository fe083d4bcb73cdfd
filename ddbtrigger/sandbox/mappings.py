"""The event source mapping emulator: what Lambda's pollers do for a DynamoDB stream.

A supervisor looks at every mapping each ``poll_interval`` and keeps one poller thread per (mapping,
shard); the poller of a child shard (after a split) starts once its parent's has read the parent to its
end. A poller starts at the mapping's starting position, gathers up to ``BatchSize`` records that
pass the filters (waiting up to ``MaximumBatchingWindowInSeconds`` for a full batch), and invokes the
function through the same path as the Invoke API. Failures follow AWS: retries up to
``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds``, bisect on a function error (a split is not a
retry), partial batch responses (checkpoint at the lowest failed sequence number; a malformed response
fails the whole batch), and on giving up the invocation record goes to the on-failure destination.
``Enabled: false`` pauses a poller where it stands; deleting the mapping stops it.

``progress()`` counts the supervisor's scans and each running poller's looks at its shard, so a test
can assert that nothing happened while the emulator really looked (rather than for a wall-clock window).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ddbtrigger.core.events import lambda_event, lambda_record, region_of
from ddbtrigger.core.filters import PatternError, parse_patterns, passes_filters
from ddbtrigger.sandbox.destinations import Destinations, FailedBatch
from ddbtrigger.sandbox.handlers import InvokeResult
from ddbtrigger.sandbox.moto_lambda import deleting, polls, runtime_of
from ddbtrigger.sandbox.streams import SandboxShard, StreamsError, StreamsModel

log = logging.getLogger("ddbtrigger.sandbox")

OK = "OK"
PROBLEM = "PROBLEM: Function call failed"
SCAN_LIMIT = 10000

Invoker = Callable[[str, bytes], InvokeResult]
BatchObserver = Callable[[str, str, float], None]
"""Told of each batch handed to the function: (mapping UUID, function ARN, arrival of its last record)."""


@dataclass
class Entry:
    """One record of a batch: its index in the shard, its arrival time, and the record."""

    index: int
    arrival: float
    record: dict[str, Any]

    @property
    def sequence_number(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])


@dataclass
class Outcome:
    ok: bool
    result: InvokeResult
    failed_from: int | None = None  # partial batch response: index (in the batch) to retry from


def all_mappings() -> Iterator[Any]:
    """Every event source mapping moto holds, in every account and region."""
    from moto.awslambda.models import lambda_backends
    from moto.awslambda_simple.models import lambda_simple_backends

    seen: set[int] = set()
    families: tuple[Any, ...] = (lambda_simple_backends, lambda_backends)
    for backends in families:
        for regional in list(backends.values()):
            for backend in list(regional.values()):
                for esm in list(backend._event_source_mappings.values()):
                    if id(esm) not in seen:
                        seen.add(id(esm))
                        yield backend, esm


class MappingEmulator:
    """Runs the pollers. ``start()`` / ``stop()``; ``wake()`` makes the supervisor look now."""

    def __init__(
        self,
        *,
        model: StreamsModel,
        invoke: Invoker,
        destinations: Destinations,
        poll_interval: float,
        on_batch: BatchObserver | None = None,
    ) -> None:
        self.model = model
        self.invoke = invoke
        self.on_batch = on_batch
        self.destinations = destinations
        self.poll_interval = poll_interval
        self.stopping = threading.Event()
        self._pollers: dict[tuple[str, str], threading.Thread] = {}
        self._looking: dict[tuple[str, str], ShardPoller] = {}
        self.scans = 0
        self.live: set[int] = set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="sandbox-mappings", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        threads = [self._thread, *self._pollers.values()] if self._thread else []
        for thread in threads:
            if thread is not None:
                thread.join(timeout=5)

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            try:
                self._scan()
            except Exception:  # a moto reset mid-scan; look again next time
                log.debug("mapping scan failed", exc_info=True)
            self.scans += 1
            self.stopping.wait(self.poll_interval)

    def progress(self) -> tuple[int, dict[tuple[str, str], int]]:
        """The supervisor's scans so far, and the looks of each running poller (mapping uuid, shard)."""
        running = {
            key: poller.looks for key, poller in list(self._looking.items()) if self._pollers[key].is_alive()
        }
        return self.scans, running

    def positions(self, mapping_uuid: str) -> dict[str, dict[str, Any]]:
        """Where each of a mapping's pollers stands (the sandbox's answer to "has it read past T?",
        which AWS does not expose): per shard, the arrival time of the last record read (delivered or
        filtered out; None before the first), whether the poller is at the shard's current end, and whether
        it has read a closed shard to its end (``finished``)."""
        found: dict[str, dict[str, Any]] = {}
        for (uuid_, shard_id), poller in list(self._looking.items()):
            if uuid_ == mapping_uuid:
                found[shard_id] = poller.position_json()
        return found

    def _scan(self) -> None:
        from moto.dynamodb.models import dynamodb_backends

        mappings = list(all_mappings())
        self.live = {id(esm) for _, esm in mappings}  # after a moto reset, old pollers see theirs gone
        for backend, esm in mappings:
            if ":dynamodb:" not in esm.event_source_arn:
                continue
            try:
                ddb = dynamodb_backends[backend.account_id][region_of(esm.event_source_arn)]
                stream = self.model.find(ddb, esm.event_source_arn)
            except (StreamsError, KeyError):
                continue
            for shard in list(stream.shards):
                key = (esm.uuid, shard.id)
                if key not in self._pollers:
                    parent = self._pollers.get((esm.uuid, shard.parent_shard_id or ""))
                    poller = ShardPoller(self, backend, esm, shard, parent=parent)
                    thread = threading.Thread(target=poller.run, name=f"poller-{esm.uuid[:8]}", daemon=True)
                    self._pollers[key], self._looking[key] = thread, poller
                    thread.start()


class ShardPoller:
    """One mapping's reader of one shard."""

    def __init__(
        self,
        emulator: MappingEmulator,
        backend: Any,
        esm: Any,
        shard: SandboxShard,
        *,
        parent: threading.Thread | None = None,
    ) -> None:
        self.emulator = emulator
        self.parent = parent  # the poller of the parent shard: this one starts when it has finished
        self.model = emulator.model
        self.backend = backend
        self.esm = esm
        self.shard = shard
        self.window_started: float | None = None
        self.looks = 0
        """How many times this poller looked at its mapping's state or its shard (``progress()``)."""
        if esm.starting_position == "LATEST" and shard.id in runtime_of(esm).latest_positions:
            self.position = runtime_of(esm).latest_positions[shard.id]
        else:
            self.position = shard.trim_index

    def position_json(self) -> dict[str, Any]:
        shard, position = self.shard, self.position
        read = shard.arrivals[position - 1] if 0 < position <= len(shard.arrivals) else None
        at_end = position >= len(shard.items)
        return {"read_through": read, "at_end": at_end, "finished": at_end and not shard.is_open}

    # -- life cycle ---------------------------------------------------------------------------
    def alive(self) -> bool:
        """False once the sandbox stops or the mapping is deleted."""
        if self.emulator.stopping.is_set():
            return False
        if id(self.esm) not in self.emulator.live:
            return False
        if deleting(self.esm):  # Deleting stops the poller at once, before the mapping is gone
            return False
        return self.backend._event_source_mappings.get(self.esm.uuid) is self.esm

    def wait_enabled(self) -> bool:
        """Block while the mapping is disabled; False if it went away meanwhile."""
        while self.alive():
            if polls(self.esm):  # Enabled (or Updating); not yet while Creating/Enabling
                return True
            self.looks += 1
            self.emulator.stopping.wait(self.emulator.poll_interval)
        return False

    def wait_parent(self) -> bool:
        """Block until the parent shard's poller has read the parent to its end (Lambda processes a
        parent before its children, so a key's records stay in order); False if the mapping went away."""
        while self.parent is not None and self.parent.is_alive():
            if not self.alive():
                return False
            self.parent.join(timeout=self.emulator.poll_interval)
        return True

    def run(self) -> None:
        """Poll until the mapping goes away. An unexpected error is logged and the same position is
        tried again after a pause, as Lambda's pollers do: a shard is never left without a reader."""
        if not self.wait_parent():
            return
        while self.wait_enabled():
            try:
                if not self.step():
                    return
            except Exception:
                log.exception("poller of mapping %s failed; retrying from the same position", self.esm.uuid)
                self.emulator.stopping.wait(max(self.emulator.poll_interval, 0.05) * 10)

    def step(self) -> bool:
        """One batch (or one idle wait); False when the shard is done for this poller."""
        batch, next_position = self.gather()
        self.looks += 1
        if batch is None:
            if not self.shard.is_open and self.position >= len(self.shard.items):
                return False
            self.emulator.stopping.wait(self.emulator.poll_interval)
            return True
        if batch and not self.process(batch, attempts=0):
            return False
        self.position = next_position
        return True

    # -- reading ------------------------------------------------------------------------------
    def patterns(self) -> list[dict[str, Any]]:
        filters = [f.get("Pattern", "") for f in (self.esm.filter_criteria or {}).get("Filters", []) or []]
        try:
            return parse_patterns([f for f in filters if f])
        except (PatternError, ValueError):
            return []

    def gather(self) -> tuple[list[Entry] | None, int]:
        """The next batch and the position after it; ``None`` when nothing is ready yet."""
        shard = self.shard
        shard.trim(self.model.retention_seconds, self.model.clock())
        self.position = max(self.position, shard.trim_index)
        end = min(len(shard.items), self.position + SCAN_LIMIT)
        if end <= self.position:
            return None, self.position
        patterns, size = self.patterns(), int(self.esm.batch_size or 100)
        stream_arn = self.esm.event_source_arn
        batch: list[Entry] = []
        index = self.position
        while index < end and len(batch) < size:
            record = shard.items[index].to_json()
            if not patterns or _passes(record, stream_arn, patterns):
                batch.append(Entry(index, shard.arrivals[index], record))
            index += 1
        if batch and len(batch) < size and self._keep_waiting():
            return None, self.position
        self.window_started = None
        return batch, index

    def _keep_waiting(self) -> bool:
        window = float(self.esm.max_batch_window or 0)
        if window <= 0 or not self.shard.is_open:
            return False
        now = self.model.clock()
        if self.window_started is None:
            self.window_started = now
        return now - self.window_started < window

    # -- delivering ---------------------------------------------------------------------------
    def process(self, batch: list[Entry], *, attempts: int, invokes: int = 0) -> bool:
        """Deliver one batch until it succeeds or is given up; False if the mapping went away.

        A partial batch response that moves the checkpoint (the first failed item is not the batch's
        first record) starts a new batch from that item, with its own retry budget and invoke count: AWS
        recorded a batch of 3 with 3 retries whose last record kept failing delivered 5 times, and its
        invocation record says ``approximateInvokeCount: 4``, ``batchSize: 1``. A response that fails
        from the first record is a retry of the same batch, like an error.
        """
        last: Outcome | None = None
        while batch:
            if not self.wait_enabled():
                return False
            batch = self._drop_expired(batch, attempts, invokes, last)
            if not batch:
                return True
            last = self.attempt(batch)
            invokes += 1
            self.looks += 1
            if last.ok:
                return True
            if last.failed_from:  # the checkpoint moved: the rest is a new batch, with a fresh count
                batch, attempts, invokes = batch[last.failed_from :], 0, 0
                continue
            if last.failed_from is None and self.esm.bisect_on_error and len(batch) > 1:
                middle = len(batch) // 2
                return self.process(batch[:middle], attempts=attempts) and self.process(
                    batch[middle:], attempts=attempts
                )
            attempts += 1
            limit = self.esm.max_retry_attempts
            if limit is not None and int(limit) >= 0 and attempts > int(limit):
                self.give_up(batch, "RetryAttemptsExhausted", invokes, last)
                return True
            self.emulator.stopping.wait(self.emulator.poll_interval)
        return True

    def _drop_expired(
        self, batch: list[Entry], attempts: int, invokes: int, last: Outcome | None
    ) -> list[Entry]:
        """Records past MaximumRecordAgeInSeconds (or trimmed) go to the destination, unprocessed."""
        now = self.model.clock()
        max_age = self.esm.max_record_age
        self.shard.trim(self.model.retention_seconds, now)
        expired = 0
        while expired < len(batch) and (
            batch[expired].index < self.shard.trim_index
            or (max_age is not None and int(max_age) >= 0 and now - batch[expired].arrival > int(max_age))
        ):
            expired += 1
        if expired:
            self.give_up(batch[:expired], "RecordAgeExceeded", invokes, last)
        return batch[expired:]

    def attempt(self, batch: list[Entry]) -> Outcome:
        try:
            payload = json.dumps(self.event(batch)).encode()
        except (ValueError, TypeError) as e:  # a record we cannot encode fails its batch, not the poller
            log.error("mapping %s cannot encode a batch of %d record(s): %s", self.esm.uuid, len(batch), e)
            runtime_of(self.esm).last_processing_result = PROBLEM
            return Outcome(False, _encoding_failure(e))
        if self.emulator.on_batch is not None:  # IteratorAge: the age of the batch's last record
            self.emulator.on_batch(self.esm.uuid, self.esm.function_arn, batch[-1].arrival)
        result = self.emulator.invoke(self.esm.function_arn, payload)
        if result.function_error:
            runtime_of(self.esm).last_processing_result = PROBLEM
            return Outcome(False, result)
        failed_from = self.partial_failure(batch, result.payload)
        if failed_from is None:
            runtime_of(self.esm).last_processing_result = OK
            return Outcome(True, result)
        runtime_of(self.esm).last_processing_result = PROBLEM
        return Outcome(False, result, failed_from if failed_from >= 0 else None)

    def event(self, batch: list[Entry]) -> dict[str, Any]:
        arn = self.esm.event_source_arn
        return lambda_event([e.record for e in batch], stream_arn=arn, region=region_of(arn))

    def partial_failure(self, batch: list[Entry], payload: bytes) -> int | None:
        """None: success; an index: retry from there; -1: malformed (the whole batch failed)."""
        if "ReportBatchItemFailures" not in (self.esm.function_response_types or []):
            return None
        try:
            document = json.loads(payload or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(document, dict) or not document.get("batchItemFailures"):
            return None
        failures = document["batchItemFailures"]
        positions = {entry.sequence_number: i for i, entry in enumerate(batch)}
        if not isinstance(failures, list):
            return -1
        found: list[int] = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not isinstance(identifier, str) or identifier not in positions:
                return -1
            found.append(positions[identifier])
        return min(found)

    def give_up(self, batch: list[Entry], condition: str, invokes: int, last: Outcome | None) -> None:
        destination = ((self.esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
        log.info("mapping %s gives up %d record(s): %s", self.esm.uuid, len(batch), condition)
        if not destination:
            return
        result = last.result if last else None
        failed = FailedBatch(
            mapping_uuid=self.esm.uuid,
            function_arn=self.esm.function_arn,
            stream_arn=self.esm.event_source_arn,
            shard_id=self.shard.id,
            records=[e.record for e in batch],
            condition=condition,
            invoke_count=invokes,
            request_id=result.request_id if result else "",
            function_error=result.function_error if result else None,
        )
        try:
            event = self.event(batch)
        except ValueError:  # unencodable records: the pointer still goes out, the payload has none
            event = {"Records": []}
        self.emulator.destinations.send(destination, failed, event=event, now=self.model.clock())


def _passes(record: dict[str, Any], stream_arn: str, patterns: list[dict[str, Any]]) -> bool:
    """Whether a record passes the filters; one that cannot be encoded is kept, so its batch fails."""
    try:
        return passes_filters(lambda_record(record, stream_arn=stream_arn), patterns)
    except ValueError:
        return True


def _encoding_failure(error: Exception) -> InvokeResult:
    """What a failed batch reports when its event could not be built (the function never ran)."""
    body = {"errorType": "RecordEncodingError", "errorMessage": str(error)}
    return InvokeResult(json.dumps(body).encode(), "Unhandled", str(uuid.uuid4()))

"""``inspect-dlq``: read every selected trigger's failure destination, decode it, optionally hydrate it.

Destinations are located once each (two triggers may share one), scanned without consuming anything
(``aws.dlq``), and each message becomes a ``Failure`` or ``Malformed`` tagged with its trigger.
``--hydrate`` reads each failure's records back from the stream with one ``ShardReader`` per shard, in
shard and sequence order, so neighbouring failures share their GetRecords pages (or takes them from the
S3 object). ``--export`` streams one JSON line per failure as it is read, so memory stays flat;
``scan_counted`` does the same for any sink (``SortedSpool`` for the JSON document, ``SortedPage`` for
the table), counting every failure exactly.
"""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.failures import Failure, Held, Malformed
from ddbtrigger.core.spec import TriggerSpec
from ddbtrigger.core.timetext import human_duration, iso

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.destinations import DestinationRef


@dataclass(frozen=True)
class Destination:
    """One located destination and the triggers that send to it."""

    ref: DestinationRef
    triggers: tuple[TriggerSpec, ...]


@dataclass(frozen=True)
class Hydration:
    """A failure's records, summarised for display: event name, keys, and (on request) images."""

    records: list[dict[str, Any]]
    expired: bool = False
    reason: str | None = None
    extra_records: int = 0
    origin: str = "stream"

    def as_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "expired": self.expired,
            "reason": self.reason,
            "extra_records": self.extra_records,
            "from": self.origin,
        }


@dataclass(frozen=True)
class Entry:
    trigger: str
    item: Failure | Malformed
    hydration: Hydration | None = None

    def expired(self, now: datetime) -> bool:
        """A pointer past its 24 h, or one whose records ``--hydrate`` found trimmed already."""
        item = self.item
        if not isinstance(item, Failure) or not item.can_expire:
            return False
        return item.expired(now) or bool(self.hydration and self.hydration.expired)


@dataclass
class InspectReport:
    """Everything one scan found; failures sorted by stream, shard, then start sequence number."""

    now: datetime
    failures: list[Entry] = field(default_factory=list)
    malformed: list[Entry] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    without_destination: list[str] = field(default_factory=list)
    truncated: bool = False
    held: Held = field(default_factory=Held)
    """Failures another reader holds: not listed, never "none"."""
    totals: ExportSummary | None = None
    """The exact counts of the whole scan when ``failures`` is only its first page (``SortedPage``)."""

    def add(self, entry: Entry) -> None:
        (self.failures if isinstance(entry.item, Failure) else self.malformed).append(entry)

    def sort(self) -> None:
        self.failures.sort(key=lambda e: _failure(e).sort_key)

    @property
    def failure_count(self) -> int:
        """Every failure the scan read (more than ``failures`` holds when that is a page)."""
        return self.totals.failures if self.totals else len(self.failures)

    @property
    def failing_triggers(self) -> set[str]:
        return self.totals.triggers_with_failures if self.totals else {e.trigger for e in self.failures}

    @property
    def expired(self) -> int:
        if self.totals:
            return self.totals.expired
        return sum(1 for e in self.failures if e.expired(self.now))

    @property
    def oldest_age(self) -> timedelta | None:
        if self.totals:
            oldest = self.totals.oldest_arrival
            return self.now - oldest if oldest is not None else None
        arrivals = [_failure(e).approximate_arrival_of_first_record for e in self.failures]
        return self.now - min(arrivals) if arrivals else None

    def as_json(self) -> dict[str, Any]:
        """PRODUCT.md's document (plus ``hydrated`` under ``--hydrate``), the held failures and the counts
        (each its own number: listed failures, expired among them, malformed, held)."""
        return {
            "failures": [failure_json(e, self.now) for e in self.failures],
            "malformed": [malformed_json(e) for e in self.malformed],
            "held": self.held.as_json(),
            "counts": self.counts(),
        }

    def counts(self) -> dict[str, int]:
        return {
            "failures": self.failure_count,
            "expired": self.expired,
            "malformed": len(self.malformed),
            "held": self.held.count,
        }


def _failure(entry: Entry) -> Failure:
    assert isinstance(entry.item, Failure)
    return entry.item


def failure_json(entry: Entry, now: datetime) -> dict[str, Any]:
    doc = _failure(entry).as_json(trigger=entry.trigger, now=now)
    doc["expired"] = entry.expired(now)
    if entry.hydration is not None:
        doc["hydrated"] = entry.hydration.as_json()
    return doc


def malformed_json(entry: Entry) -> dict[str, Any]:
    assert isinstance(entry.item, Malformed)
    return entry.item.as_json()


def locate_destinations(
    factory: ClientFactory, triggers: Iterable[TriggerSpec]
) -> tuple[list[Destination], list[str]]:
    """The destinations of ``triggers`` (shared ones once), and the triggers that have none."""
    from ddbtrigger.aws.destinations import locate

    found: dict[str, tuple[DestinationRef, list[TriggerSpec]]] = {}
    without: list[str] = []
    for trigger in triggers:
        if trigger.on_failure is None:
            without.append(trigger.name)
            continue
        ref = locate(factory, trigger.on_failure, trigger=trigger.name)
        found.setdefault(ref.arn, (ref, []))[1].append(trigger)
    return [Destination(ref, tuple(ts)) for ref, ts in found.values()], without


def owner(item: Failure | Malformed, triggers: tuple[TriggerSpec, ...]) -> str:
    """Which trigger a message belongs to when triggers share a destination (``core.owner``'s rule,
    the one redrive follows); one no trigger of the spec wrote is listed under the first."""
    from ddbtrigger.core.owner import owning_trigger

    if len(triggers) == 1 or not isinstance(item, Failure):
        return triggers[0].name
    return (owning_trigger(item.stream_arn, item.function_arn, triggers) or triggers[0]).name


def held_at(factory: ClientFactory, destinations: list[Destination], *, now: datetime) -> Held:
    """What other readers hold in these destinations; read before scanning, so our own hold is not
    counted."""
    from ddbtrigger.aws.destinations import adapter_for

    total = Held()
    for dest in destinations:
        total = total + adapter_for(dest.ref, factory).held(dest.ref)
    return total


def scan(
    factory: ClientFactory,
    destinations: list[Destination],
    *,
    limit: int | None = None,
    wait_seconds: int = 1,
    on_truncated: Callable[[str], None] | None = None,
    held: Held | None = None,
) -> Iterator[Entry]:
    """Every message of every destination, as read. Each SQS scan releases its messages when done."""
    from ddbtrigger.aws.destinations import open_scan

    remaining = limit
    for dest in destinations:
        if remaining is not None and remaining <= 0:
            return
        skip = held.ids if held else frozenset()
        with open_scan(factory, dest.ref, limit=remaining, wait_seconds=wait_seconds, skip=skip) as reader:
            for item in reader:
                yield Entry(owner(item, dest.triggers), item)
            if remaining is not None:
                remaining -= reader.received
            if reader.truncated and on_truncated:
                on_truncated(dest.ref.name)


class Hydrator:
    """Fetches failures' records: from the S3 payload, or the stream through one reader per shard."""

    def __init__(
        self, factory: ClientFactory, *, show_images: bool = False, max_calls_per_second: float = 4.0
    ) -> None:
        self.factory, self.show_images = factory, show_images
        self.max_calls_per_second = max_calls_per_second
        self._factories: dict[str, ClientFactory] = {}
        self._readers: Any = None

    def hydrate(self, failure: Failure) -> Hydration:
        if failure.records is not None:
            return Hydration(
                [summarize(r, show_images=self.show_images) for r in failure.records], origin="s3"
            )
        reader = self._shard_readers().get(failure.stream_arn, failure.shard_id)
        result = reader.records_for(
            failure.start_sequence_number, failure.end_sequence_number, batch_size=failure.batch_size
        )
        return Hydration(
            [summarize(r, show_images=self.show_images) for r in result.records],
            expired=result.expired,
            reason=result.reason,
            extra_records=result.extra_records,
        )

    def _shard_readers(self) -> Any:
        if self._readers is None:
            from ddbtrigger.aws.stream_records import ShardReaders

            self._readers = ShardReaders(self._streams, max_calls_per_second=self.max_calls_per_second)
        return self._readers

    def _streams(self, stream_arn: str) -> Any:
        """A DynamoDB Streams client in the stream's own region (a pointer may name another region)."""
        from dataclasses import replace

        from ddbtrigger.aws.clients import ClientFactory
        from ddbtrigger.core.events import region_of

        region = region_of(stream_arn)
        if not region or region == self.factory.region:
            return self.factory.client("dynamodbstreams")
        if region not in self._factories:
            target = replace(self.factory.target, region=region)
            self._factories[region] = ClientFactory(target, session=self.factory.session)
        return self._factories[region].client("dynamodbstreams")


def summarize(record: dict[str, Any], *, show_images: bool) -> dict[str, Any]:
    """One stream record for people: event name, sequence number, keys (plain values), images if asked."""
    dynamodb = record.get("dynamodb", {})
    out: dict[str, Any] = {
        "event_name": record.get("eventName"),
        "sequence_number": dynamodb.get("SequenceNumber"),
        "keys": plain_item(dynamodb.get("Keys", {})),
    }
    if show_images:
        for source, target in (("OldImage", "old_image"), ("NewImage", "new_image")):
            if source in dynamodb:
                out[target] = plain_item(dynamodb[source])
    return out


def plain_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON -> plain JSON values: numbers as numbers, binaries as base64 text (never
    ``b'...'``), in whatever shape the record came (boto3 bytes, or wire JSON from an S3 object).
    An attribute that is not a DynamoDB value is shown as it is."""
    from ddbtrigger.core.attributes import AttributeEncodingError, plain_value

    out: dict[str, Any] = {}
    for key, value in item.items():
        try:
            out[key] = plain_value(value)
        except AttributeEncodingError:
            out[key] = value
    return out


def _scan_into(
    target: InspectReport | ExportSummary,
    factory: ClientFactory,
    destinations: list[Destination],
    *,
    limit: int | None,
    wait_seconds: int,
) -> Iterator[Entry]:
    """``scan`` for a report or a summary: skips what ``target.held`` counts, and marks
    ``target.truncated`` when a destination could not be read to its end."""

    def truncated(_: str) -> None:
        target.truncated = True

    return scan(
        factory,
        destinations,
        limit=limit,
        wait_seconds=wait_seconds,
        on_truncated=truncated,
        held=target.held,
    )


def check_limit(limit: int | None) -> None:
    """Refuse a ``--limit`` no scan can honour before anything is read (the cap is the adapter's)."""
    from ddbtrigger.aws.dlq import check_limit as check

    check(limit)


def inspect(
    factory: ClientFactory,
    triggers: list[TriggerSpec],
    *,
    now: datetime,
    limit: int | None = None,
    hydrate: bool = False,
    show_images: bool = False,
    wait_seconds: int = 1,
) -> InspectReport:
    """Scan, sort by shard and sequence number, then hydrate in that order (shared reads)."""
    destinations, without = locate_destinations(factory, triggers)
    report = InspectReport(now=now, triggers=[t.name for t in triggers], without_destination=without)
    report.held = held_at(factory, destinations, now=now)
    for entry in _scan_into(report, factory, destinations, limit=limit, wait_seconds=wait_seconds):
        report.add(entry)
    report.sort()
    if hydrate:
        hydrator = Hydrator(factory, show_images=show_images)
        report.failures = [Entry(e.trigger, e.item, hydrator.hydrate(_failure(e))) for e in report.failures]
    return report


@dataclass
class ExportSummary:
    """The exact counts of one scan whose failures went elsewhere as they were read (a file, a spool, a
    bounded page): memory holds these numbers and the malformed messages, never every failure."""

    path: str = ""
    failures: int = 0
    expired: int = 0
    malformed: list[Entry] = field(default_factory=list)
    held: Held = field(default_factory=Held)
    oldest_arrival: datetime | None = None
    triggers_with_failures: set[str] = field(default_factory=set)
    without_destination: list[str] = field(default_factory=list)
    truncated: bool = False

    def count(self, entry: Entry, now: datetime) -> None:
        failure = _failure(entry)
        self.failures += 1
        self.expired += entry.expired(now)
        first = failure.approximate_arrival_of_first_record
        self.oldest_arrival = min(self.oldest_arrival or first, first)
        self.triggers_with_failures.add(entry.trigger)


def scan_counted(
    factory: ClientFactory,
    triggers: list[TriggerSpec],
    on_failure: Callable[[Entry], None],
    *,
    now: datetime,
    limit: int | None = None,
    hydrator: Hydrator | None = None,
    wait_seconds: int = 1,
) -> ExportSummary:
    """Scan once: each failure goes to ``on_failure`` as it is read (hydrated first, with a
    ``hydrator``), counted exactly; malformed messages are kept (they are few, and listed)."""
    destinations, without = locate_destinations(factory, triggers)
    summary = ExportSummary(held=held_at(factory, destinations, now=now), without_destination=without)
    for entry in _scan_into(summary, factory, destinations, limit=limit, wait_seconds=wait_seconds):
        if isinstance(entry.item, Malformed):
            summary.malformed.append(entry)
            continue
        if hydrator is not None:
            entry = Entry(entry.trigger, entry.item, hydrator.hydrate(entry.item))
        on_failure(entry)
        summary.count(entry, now)
    return summary


class SortedPage:
    """The first ``size`` failures in display order (stream, shard, sequence), in bounded memory:
    at most ``2 * size`` entries are kept between trims, whatever the scan's length."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: list[Entry] = []

    def add(self, entry: Entry) -> None:
        self._kept.append(entry)
        if len(self._kept) >= 2 * self.size:
            self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=lambda e: _failure(e).sort_key)
        del self._kept[self.size :]

    def entries(self) -> list[Entry]:
        self._trim()
        return list(self._kept)


class SortedSpool:
    """Failures' JSON documents spooled to a temporary file as they are read; only their sort keys
    (a few interned strings and integers) stay in memory. ``texts()`` gives them back in display
    order, so a sorted JSON document is written item by item with flat memory."""

    def __init__(self, now: datetime, *, indent: int | None = 2) -> None:
        import tempfile

        self.now, self.indent = now, indent
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by ``close``/the ``with`` block)
        self._index: list[tuple[tuple[str, str, int, int], int, int]] = []

    def add(self, entry: Entry) -> None:
        import sys

        doc = failure_json(entry, self.now)
        data = json.dumps(doc, indent=self.indent, default=str, ensure_ascii=False).encode("utf-8")
        stream, shard, start, end = _failure(entry).sort_key
        key = (sys.intern(stream), sys.intern(shard), start, end)
        self._index.append((key, self._file.tell(), len(data)))
        self._file.write(data)

    def __len__(self) -> int:
        return len(self._index)

    def texts(self) -> Iterator[str]:
        self._index.sort(key=lambda item: item[0])
        for _, offset, size in self._index:
            self._file.seek(offset)
            yield self._file.read(size).decode("utf-8")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> SortedSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def export(
    factory: ClientFactory,
    triggers: list[TriggerSpec],
    handle: TextIO,
    *,
    now: datetime,
    path: str,
    limit: int | None = None,
    hydrate: bool = False,
    show_images: bool = False,
    wait_seconds: int = 1,
) -> ExportSummary:
    """Write one JSON line per failure as it is read (flat memory); malformed ones are only counted."""

    def write(entry: Entry) -> None:
        handle.write(json.dumps(failure_json(entry, now), ensure_ascii=False, default=str) + "\n")

    hydrator = Hydrator(factory, show_images=show_images) if hydrate else None
    summary = scan_counted(
        factory, triggers, write, now=now, limit=limit, hydrator=hydrator, wait_seconds=wait_seconds
    )
    summary.path = path
    return summary


def follow(
    factory: ClientFactory,
    triggers: list[TriggerSpec],
    *,
    on_new: Callable[[list[Entry]], None],
    clock: Callable[[], datetime],
    interval: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    limit: int | None = None,
    rounds: int | None = None,
    wait_seconds: int = 1,
) -> None:
    """Scan again every ``interval`` seconds; hand entries not seen before to ``on_new`` (oldest first)."""
    destinations, _ = locate_destinations(factory, triggers)
    seen: set[str] = set()
    done = 0
    while rounds is None or done < rounds:
        fresh = [
            e
            for e in scan(factory, destinations, limit=limit, wait_seconds=wait_seconds)
            if e.item.id not in seen
        ]
        seen.update(e.item.id for e in fresh)
        fresh.sort(key=lambda e: (e.item.received_at or clock(), e.item.id))
        on_new(fresh)
        done += 1
        if rounds is None or done < rounds:
            sleep(interval)


def redrive_command(
    *,
    file: Path | str | None,
    triggers: Iterable[str],
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    target: Sequence[str] = (),
) -> str:
    """The exact ``ddbtrigger redrive`` command for the triggers that have failures (``target``: the
    spec-less ``--mapping``/``--table`` options, which stand for the spec and its triggers)."""
    parts = ["ddbtrigger", "redrive", *target]
    if not target and file is not None and str(file) != "ddbtrigger.yaml":
        parts += ["-f", str(file)]
    for name in sorted(set(triggers)) if not target else ():
        parts += ["--trigger", name]
    for option, value in (("--profile", profile), ("--region", region), ("--endpoint-url", endpoint_url)):
        if value:
            parts += [option, value]
    return shlex.join(parts)


def age_text(delta: timedelta) -> str:
    """``3h12m`` / ``2d4h`` / ``45s``: compact enough for a table cell."""
    return human_duration(delta, compact=True)


def expiry_text(entry: Entry, now: datetime) -> str:
    """The ``expires`` cell: ``expired``, ``in 3h12m`` for a pointer, or ``never (in S3)`` for a failure
    that carries its records. It reads as a sentence after its header, in a row or a stacked block
    (``expires: in 3h12m``)."""
    failure = _failure(entry)
    if not failure.can_expire:
        kind = destination_kind(failure.source)
        return "never" if kind.holds_pointers else f"never (in {kind.type.upper()})"
    if entry.expired(now):
        return "expired"
    return f"in {age_text(failure.time_left(now))}"


def short_sequence(sequence: str, *, keep: int = 6) -> str:
    """A long sequence number shortened for a table cell (JSON always has the whole one)."""
    return sequence if len(sequence) <= 2 * keep + 1 else f"{sequence[:keep]}…{sequence[-keep:]}"


__all__ = [
    "Destination",
    "Entry",
    "ExportSummary",
    "Hydration",
    "Hydrator",
    "InspectReport",
    "SortedPage",
    "SortedSpool",
    "age_text",
    "check_limit",
    "expiry_text",
    "export",
    "follow",
    "held_at",
    "inspect",
    "iso",
    "locate_destinations",
    "plain_item",
    "redrive_command",
    "scan",
    "scan_counted",
    "short_sequence",
    "summarize",
]

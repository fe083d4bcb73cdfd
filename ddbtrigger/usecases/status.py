"""``status``: what is live for each trigger, how full its failure destination is, and what to do.

Reads reuse the provisioning reads (``aws.live.read_live``) and the planner (``core.plan``) for drift,
so ``status`` and ``plan`` can never disagree about whether a trigger has drifted. Each trigger is read
in its own thread (the pool sized to the work, ``aws.clients.workers_for``, with botocore's connection
pool to match; boto3 clients are thread-safe and the factory builds each once),
and all CloudWatch queries of a run go in one GetMetricData call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.alarms import read_alarms
from ddbtrigger.aws.clients import workers_for
from ddbtrigger.aws.destinations import Depth
from ddbtrigger.aws.destinations.sqs import QueueAttributeTap
from ddbtrigger.aws.status_reads import MetricQuery, iterator_age_queries, oldest_message_query, read_metrics
from ddbtrigger.core.alarms import observed_alarm
from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.health import HealthFacts, Hint, attention, hints
from ddbtrigger.core.live import LiveAlarm, LiveMapping, LiveTrigger
from ddbtrigger.core.shards import Shard, ordered
from ddbtrigger.core.sparkline import Window
from ddbtrigger.core.timetext import iso

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import TriggerSpec

DEFAULT_HOURS = 3
LIST_ALL_ABOVE = 3
"""Above this many triggers, count readers from one listing of every mapping in the region."""


@dataclass(frozen=True)
class DestinationStatus:
    """The failure destination as found, with its depth (``None`` when it could not be counted)."""

    type: str
    arn: str
    name: str
    exists: bool = True
    depth: Depth | None = None
    oldest_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        depth = self.depth
        return {
            "type": self.type,
            "arn": self.arn,
            "depth": depth.total if depth else None,
            "name": self.name,
            "exists": self.exists,
            "visible": depth.visible if depth else None,
            "in_flight": depth.in_flight if depth else None,
            "held": depth.held.as_json() if depth else None,
            "oldest_failure_at": iso(self.oldest_at) if self.oldest_at else None,
        }


@dataclass(frozen=True)
class TriggerStatus:
    """Everything ``status`` shows for one trigger."""

    name: str
    table: str
    function: str
    stream_arn: str | None
    stream_status: str | None
    view_type: str | None
    mapping: LiveMapping | None
    mapping_is_stale: bool = False
    destination: DestinationStatus | None = None
    drift: bool = False
    shards: tuple[Shard, ...] | None = None
    readers: int | None = None
    iterator_age_ms: float | None = None
    hints: tuple[Hint, ...] = ()
    attention: tuple[str, ...] = ()
    """Why a person must look (exit 3); empty when all is well."""
    alarms: tuple[LiveAlarm, ...] = ()
    series: Mapping[str, tuple[float | None, ...]] = field(default_factory=dict)
    """``status --metrics``: per ``SERIES`` name, one value per period of the report's window."""

    @property
    def quiet(self) -> bool:
        """Nothing to look at: stream on, its mapping Enabled on the latest stream, no drift, no hint,
        the destination there and empty. Table mode folds such triggers into one summary line."""
        dest, mapping = self.destination, self.mapping
        return (
            not (self.attention or self.hints or self.drift or self.mapping_is_stale)
            and self.stream_status == "ENABLED"
            and mapping is not None
            and mapping.state == "Enabled"
            and dest is not None
            and dest.exists
            and dest.depth is not None
            and not dest.depth.total
        )

    def as_json(self) -> dict[str, Any]:
        """The PRODUCT.md shape (plus ``function``, ``hints``, ``readers``, ``iterator_age_ms``)."""
        return {
            "name": self.name,
            "table": self.table,
            "stream": {"arn": self.stream_arn, "status": self.stream_status, "view_type": self.view_type},
            "mapping": _mapping_json(self.mapping, stale=self.mapping_is_stale),
            "on_failure": self.destination.as_json() if self.destination else None,
            "drift": self.drift,
            "shards": [s.as_json() for s in self.shards or ()],
            "function": self.function,
            "readers": self.readers,
            "iterator_age_ms": self.iterator_age_ms,
            "hints": [h.as_json() for h in self.hints],
            "attention": list(self.attention),
            "alarms": [alarm_json(a) for a in self.alarms],
            **({"series": {k: list(v) for k, v in self.series.items()}} if self.series else {}),
        }


@dataclass(frozen=True)
class StatusReport:
    triggers: tuple[TriggerStatus, ...]
    read_at: datetime
    metrics: bool = False
    shards: bool = False
    window: Window | None = None  # the sparklines' periods (``--metrics``)

    @property
    def needs_attention(self) -> bool:
        return any(t.attention for t in self.triggers)

    def as_json(self) -> dict[str, Any]:
        doc = {"triggers": [t.as_json() for t in self.triggers], "attention": self.needs_attention}
        if self.window is not None:
            doc["window"] = {
                "start": iso(self.window.start),
                "end": iso(self.window.end),
                "period_seconds": self.window.period,
            }
        return doc


@dataclass
class _Read:
    """One trigger's reads before metrics and hints are added."""

    spec: TriggerSpec
    live: LiveTrigger
    drift: bool
    destination: DestinationStatus | None
    shards: tuple[Shard, ...] | None
    readers: int | None
    metric_keys: dict[str, list[str]] = field(default_factory=dict)


def read_status(
    factory: ClientFactory,
    triggers: Sequence[TriggerSpec],
    *,
    shards: bool,
    metrics: bool,
    hours: int = DEFAULT_HOURS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> StatusReport:
    """Read every trigger concurrently, then metrics (one call for the values, one for the last
    ``hours`` as series), then compute the hints."""
    list_all = len(triggers) > LIST_ALL_ABOVE
    readers = _ReaderCounter(factory, list_all=list_all)
    workers = workers_for(len(triggers) + (1 if list_all else 0))  # one per trigger, and the listing
    alarms = read_alarms(factory, triggers)  # one DescribeAlarms for every trigger
    with QueueAttributeTap(factory) as seen, ThreadPoolExecutor(max_workers=workers) as pool:
        if list_all:
            pool.submit(readers.count, "")  # start the one listing alongside the first reads
        reads = list(
            pool.map(lambda t: _read_one(factory, t, readers, seen, alarms, shards=shards), triggers)
        )
    now = clock()
    values = _read_metric_values(factory, reads, now) if metrics else {}
    window = Window.of_hours(hours, now) if metrics else None
    series = _read_series(factory, reads, window) if window else {}
    statuses = tuple(_assemble(r, values, now, series.get(r.spec.name, {})) for r in reads)
    return StatusReport(statuses, now, metrics=metrics, shards=shards, window=window)


# name -> (namespace, metric, statistic, how points of one period combine); failures_waiting is the
# destination queue's (none for S3: CloudWatch does not count objects under a prefix).
SERIES = {
    "iterator_age_ms": ("AWS/Lambda", "IteratorAge", "Maximum", "max"),
    "invocations": ("AWS/Lambda", "Invocations", "Sum", "sum"),
    "errors": ("AWS/Lambda", "Errors", "Sum", "sum"),
    "failures_waiting": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum", "max"),
}


def _read_series(
    factory: ClientFactory, reads: list[_Read], window: Window
) -> dict[str, dict[str, tuple[float | None, ...]]]:
    """Trigger name -> series name -> one value per period: one GetMetricData for every trigger."""
    from ddbtrigger.aws.status_reads import read_series
    from ddbtrigger.core.live import function_ref

    queries: list[MetricQuery] = []
    for read in reads:
        function = (("FunctionName", function_ref(read.spec.function)[0]),)
        queue = _queue_name(read)
        for name, (namespace, metric, stat, _) in SERIES.items():
            dims = function if namespace == "AWS/Lambda" else (("QueueName", queue),) if queue else None
            if dims is not None:
                queries.append(MetricQuery(f"{read.spec.name}/{name}", namespace, metric, dims, stat))
    points = read_series(factory, queries, start=window.start, end=window.end, period=window.period)
    out: dict[str, dict[str, tuple[float | None, ...]]] = {}
    for key, found in points.items():
        trigger, name = key.rsplit("/", 1)
        out.setdefault(trigger, {})[name] = tuple(window.buckets(found, combine=SERIES[name][3]))
    return out


def _read_one(
    factory: ClientFactory,
    spec: TriggerSpec,
    readers: _ReaderCounter,
    seen: QueueAttributeTap,
    alarms: Mapping[str, tuple[LiveAlarm, ...]],
    *,
    shards: bool,
) -> _Read:
    from ddbtrigger.aws.live import read_live

    (live,) = read_live(factory, [spec], alarms=alarms)
    mapping = _shown_mapping(live)
    stream_arn = (
        mapping.event_source_arn if mapping else (live.table.latest_stream_arn if live.table else None)
    )
    return _Read(
        spec=spec,
        live=live,
        drift=has_drift(spec, live, region=factory.region),
        destination=_destination(factory, spec, live, seen),
        shards=_shards(factory, live.table.latest_stream_arn) if shards and live.table else None,
        readers=readers.count(stream_arn) if stream_arn else None,
    )


def _shown_mapping(live: LiveTrigger) -> LiveMapping | None:
    """The mapping on the latest stream, else one left on an older stream (so it is seen, and flagged)."""
    if live.mapping is not None:
        return live.mapping
    return live.stale_mappings[0] if live.stale_mappings else None


def has_drift(spec: TriggerSpec, live: LiveTrigger, *, region: str) -> bool:
    """Whether the planner would change anything for this trigger (one diff, shared with ``plan``).

    What the planner cannot plan for (a missing table, a missing ``arn:`` destination) is drift too.
    """
    from ddbtrigger.core.plan import plan_trigger
    from ddbtrigger.errors import Conflict, NotFound

    try:
        changes = plan_trigger(spec, live, region=region)
    except (NotFound, Conflict):
        return True
    return any(change.action != "no-op" for change in changes)


class _ReaderCounter:
    """Enabled mappings per stream ARN (each one is a reader of every shard).

    For a few triggers, one ListEventSourceMappings per stream. For many, one listing of every mapping
    in the region (100 per page) serves them all: far fewer calls than one per trigger. Streams shared
    by several triggers are listed once either way.
    """

    def __init__(self, factory: ClientFactory, *, list_all: bool) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._all: dict[str, int] | None = None
        self._list_all = list_all

    def count(self, stream_arn: str) -> int:
        from ddbtrigger.aws.live import list_mappings

        with self._lock:
            if self._list_all:
                if self._all is None:
                    self._all = self._count(list_mappings(self._factory))
                return self._all.get(stream_arn, 0)
            if stream_arn in self._counts:
                return self._counts[stream_arn]
        counted = self._count(list_mappings(self._factory, source=stream_arn)).get(stream_arn, 0)
        with self._lock:
            self._counts[stream_arn] = counted
        return counted

    @staticmethod
    def _count(mappings: Sequence[LiveMapping]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for m in mappings:
            if m.enabled:
                counts[m.event_source_arn] = counts.get(m.event_source_arn, 0) + 1
        return counts


def _shards(factory: ClientFactory, stream_arn: str | None) -> tuple[Shard, ...] | None:
    if not stream_arn:
        return None
    from ddbtrigger.aws.stream_records import describe_shards

    raw = describe_shards(factory.client("dynamodbstreams"), stream_arn)
    return tuple(ordered(Shard.from_aws(s) for s in raw))


def _destination(
    factory: ClientFactory, spec: TriggerSpec, live: LiveTrigger, seen: QueueAttributeTap
) -> DestinationStatus | None:
    """The spec's destination as read by ``read_live``, with its depth; else the mapping's, uncounted."""
    found = live.destination
    if found is None:
        mapping = _shown_mapping(live)
        arn = mapping.destination_arn if mapping else None
        return (
            DestinationStatus(type=arn.split(":")[2], arn=arn, name=arn.rsplit(":", 1)[-1]) if arn else None
        )
    if not found.exists:
        return DestinationStatus(found.type, found.arn, found.name, exists=False)
    from ddbtrigger.aws.destinations import depth_of

    depth = depth_of(factory, found, spec.on_failure, seen=seen)
    return DestinationStatus(
        found.type, found.arn, found.name, depth=depth, oldest_at=depth.oldest_at if depth else None
    )


def _read_metric_values(factory: ClientFactory, reads: list[_Read], now: datetime) -> dict[str, float | None]:
    queries: list[MetricQuery] = []
    for index, read in enumerate(reads):
        mapping = _shown_mapping(read.live)
        age = iterator_age_queries(f"{index}/age", read.spec.function, mapping.uuid if mapping else None)
        read.metric_keys["iterator_age"] = [q.key for q in age]
        queries.extend(age)
        queue = _queue_name(read)
        if queue:
            queries.append(oldest_message_query(f"{index}/oldest", queue))
            read.metric_keys["oldest"] = [f"{index}/oldest"]
    return read_metrics(factory, queries, now=now)


def _queue_name(read: _Read) -> str | None:
    """The SQS queue whose oldest message is the oldest failure (the queue, or the SNS topic's tap)."""
    dest = read.destination
    if dest is None or dest.depth is None:
        return None
    reads_from = destination_kind(dest.type).reads_from
    if reads_from != "inspect_queue":
        return dest.name if reads_from == "self" else None
    tap = read.spec.on_failure.inspect_queue if read.spec.on_failure else None
    return tap.rsplit(":", 1)[-1].rsplit("/", 1)[-1] if tap else None


def _first(values: dict[str, float | None], keys: list[str]) -> float | None:
    return next((v for v in (values.get(k) for k in keys) if v is not None), None)


def _assemble(
    read: _Read,
    values: dict[str, float | None],
    now: datetime,
    series: Mapping[str, tuple[float | None, ...]],
) -> TriggerStatus:
    live, mapping = read.live, _shown_mapping(read.live)
    table = live.table
    age_ms = _first(values, read.metric_keys.get("iterator_age", []))
    destination = read.destination
    oldest_seconds = _first(values, read.metric_keys.get("oldest", []))
    if destination and destination.oldest_at is None and oldest_seconds is not None:
        destination = _with_oldest(destination, now - timedelta(seconds=oldest_seconds))
    status = TriggerStatus(
        name=read.spec.name,
        table=table.name if table else read.spec.table_name,
        function=read.spec.function,
        stream_arn=table.latest_stream_arn if table else None,
        stream_status=_stream_status(live),
        view_type=table.view_type if table else None,
        mapping=mapping,
        mapping_is_stale=live.mapping is None and mapping is not None,
        destination=destination,
        drift=read.drift,
        shards=read.shards,
        readers=read.readers,
        iterator_age_ms=age_ms,
        alarms=live.alarms,
        series=series,
    )
    return _with_hints(status, live, now)


def _with_oldest(dest: DestinationStatus, oldest: datetime) -> DestinationStatus:
    return DestinationStatus(dest.type, dest.arn, dest.name, dest.exists, dest.depth, oldest)


def _stream_status(live: LiveTrigger) -> str | None:
    """ENABLED/DISABLED from DescribeTable (the stream's own status needs a DescribeStream per trigger)."""
    if live.table is None:
        return None
    return "ENABLED" if live.table.stream_enabled else "DISABLED"


def _with_hints(status: TriggerStatus, live: LiveTrigger, now: datetime) -> TriggerStatus:
    mapping, dest = status.mapping, status.destination
    facts = HealthFacts(
        table_present=live.table is not None,
        function_present=live.function_arn is not None,
        stream_enabled=bool(live.table and live.table.stream_enabled),
        latest_stream_arn=status.stream_arn,
        mapping_present=mapping is not None,
        mapping_state=mapping.state if mapping else None,
        state_transition_reason=mapping.state_transition_reason if mapping else None,
        last_processing_result=mapping.last_processing_result if mapping else None,
        mapping_stream_arn=mapping.event_source_arn if mapping else None,
        extra_stale_mappings=len(live.all_mappings) - (1 if mapping else 0),
        readers=status.readers,
        destination_type=dest.type if dest else None,
        destination_exists=dest.exists if dest else True,
        destination_depth=dest.depth.total if dest and dest.depth else None,
        destination_held=dest.depth.in_flight or 0 if dest and dest.depth else 0,
        oldest_failure_at=dest.oldest_at if dest else None,
        drift=status.drift,
        iterator_age=timedelta(milliseconds=status.iterator_age_ms) if status.iterator_age_ms else None,
        alarms_firing=tuple(a.name for a in live.alarms if a.state == "ALARM"),
    )
    found = tuple(hints(facts, now))
    return TriggerStatus(**{**status.__dict__, "hints": found, "attention": tuple(attention(facts))})


def alarm_json(alarm: LiveAlarm) -> dict[str, Any]:
    """``{name, metric, state, threshold}``: metric is the spec key, threshold in spec units."""
    return {
        "name": alarm.name,
        "metric": alarm.key,
        "state": alarm.state,
        "threshold": observed_alarm(alarm)["threshold"],
    }


def _mapping_json(mapping: LiveMapping | None, *, stale: bool) -> dict[str, Any] | None:
    if mapping is None:
        return None
    return {
        "uuid": mapping.uuid,
        "state": mapping.state,
        "state_transition_reason": mapping.state_transition_reason,
        "last_processing_result": mapping.last_processing_result,
        "batch_size": mapping.batch_size,
        "maximum_retry_attempts": mapping.maximum_retry_attempts,
        "maximum_record_age_in_seconds": mapping.maximum_record_age_in_seconds,
        "bisect_batch_on_function_error": mapping.bisect_batch_on_function_error,
        "event_source_arn": mapping.event_source_arn,
        "function_arn": mapping.function_arn,
        "stale_stream": stale,
    }

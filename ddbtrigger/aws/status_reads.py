"""Reads that only ``status`` needs: how full a failure destination is, and CloudWatch metrics.

Depth must never change the destination: SQS depth comes from queue attributes (visible + in flight),
never from receiving; S3 depth is a paginated listing under the prefix. Metrics are optional and
best-effort: CloudWatch may hold nothing for a new mapping, or deny the call; either way the value is
unknown (shown as "–"), never an error. All metric queries of one ``status`` go in one GetMetricData
call, so ``--metrics`` costs one request however many triggers there are.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.aws.s3_leases import is_lease
from ddbtrigger.core.failures import Held

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.locate import DestinationRef

METRICS_WINDOW = timedelta(minutes=15)
MAX_QUERIES_PER_CALL = 500
SQS_DEPTH_ATTRIBUTES: list[QueueAttributeNameType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
]


@dataclass(frozen=True)
class Depth:
    """How many failures a destination holds. ``in_flight`` is SQS's not-visible count (else ``None``).

    ``oldest_at`` is when the oldest failure was written, when a listing tells it (S3 LastModified).
    """

    visible: int
    in_flight: int | None = None
    oldest_at: datetime | None = None
    held_until: datetime | None = None
    """When the held (``in_flight``) failures are readable again, where known (S3 leases)."""

    @property
    def held(self) -> Held:
        return Held(self.in_flight or 0, self.held_until)

    @property
    def total(self) -> int:
        return self.visible + (self.in_flight or 0)


def destination_depth(factory: ClientFactory, ref: DestinationRef) -> Depth | None:
    """The depth of a located destination; ``None`` for an SNS topic without an inspect queue."""
    if ref.type == "s3" and ref.bucket:
        return s3_depth(factory, ref.bucket, ref.prefix)
    url = ref.read_queue_url
    return sqs_depth(factory, url) if url else None


def sqs_depth(factory: ClientFactory, queue_url: str, *, seen: QueueAttributeTap | None = None) -> Depth:
    """Visible and in-flight message counts of a queue, from its attributes (receives nothing).

    When ``seen`` already holds the counts from a GetQueueAttributes of this run, no call is made.
    """
    attrs = seen.get(queue_url) if seen else None
    if attrs is None or not all(name in attrs for name in SQS_DEPTH_ATTRIBUTES):
        with translate_errors("read the failure queue's depth (sqs get-queue-attributes)"):
            read = factory.client("sqs").get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=SQS_DEPTH_ATTRIBUTES
            )["Attributes"]
        attrs = {str(name): value for name, value in read.items()}
    return Depth(
        visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


class QueueAttributeTap:
    """Remembers the attributes of every GetQueueAttributes answered on the factory's SQS client.

    ``read_live`` asks for all of a queue's attributes (for drift), and that answer already holds the
    depth; keeping it saves one call per trigger. Only successful answers are kept, keyed by queue URL.
    """

    def __init__(self, factory: ClientFactory) -> None:
        self._lock = threading.Lock()
        self._attributes: dict[str, dict[str, str]] = {}
        self._events = factory.client("sqs").meta.events
        self._events.register("before-parameter-build.sqs.GetQueueAttributes", self._before)
        self._events.register("after-call.sqs.GetQueueAttributes", self._after)

    def __enter__(self) -> QueueAttributeTap:
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop listening (the client outlives one ``status`` read, e.g. under ``--watch``)."""
        self._events.unregister("before-parameter-build.sqs.GetQueueAttributes", self._before)
        self._events.unregister("after-call.sqs.GetQueueAttributes", self._after)

    def get(self, queue_url: str) -> dict[str, str] | None:
        with self._lock:
            return self._attributes.get(queue_url)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["ddbtrigger_queue_url"] = params.get("QueueUrl")

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        url, attrs = context.get("ddbtrigger_queue_url"), parsed.get("Attributes")
        if url and isinstance(attrs, dict) and "Error" not in parsed:
            with self._lock:
                self._attributes.setdefault(url, {}).update({k: str(v) for k, v in attrs.items()})


def held_failures(factory: ClientFactory, ref: DestinationRef, *, now: datetime) -> Held:
    """Failures of a destination that another reader holds right now (read before our own scan).

    SQS (and SNS, through its inspect queue): the messages not visible. Their hold was set by the
    other reader, so when they reappear is not knowable from the queue. S3: ``s3_held``.
    """
    if ref.type == "s3":
        return s3_held(factory, ref.bucket or ref.name, ref.prefix)
    url = ref.read_queue_url
    if not url:
        return Held()
    with translate_errors("read the failure queue's held count (sqs get-queue-attributes)"):
        attrs = factory.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
    return Held(int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))


def s3_held(factory: ClientFactory, bucket: str, prefix: str = "") -> Held:
    """S3 failures under another run's lease (redrive's conditional-write leases), and when they
    reappear: the leases' own module knows how they look."""
    from ddbtrigger.aws.s3_leases import leased

    return leased(factory.client("s3"), bucket, prefix)


def s3_depth(factory: ClientFactory, bucket: str, prefix: str = "") -> Depth:
    """Objects under ``prefix`` (every page), and when the oldest of them was written."""
    count, oldest = 0, None
    paginator = factory.client("s3").get_paginator("list_objects_v2")
    with translate_errors(f"count the failures in s3 bucket {bucket} (s3 list-objects-v2)"):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = str(obj.get("Key", ""))
                if key.endswith("/") or is_lease(key):
                    continue  # a "folder" marker or a redrive's lease, not a failure
                count += 1
                written = obj.get("LastModified")
                if isinstance(written, datetime) and (oldest is None or written < oldest):
                    oldest = written
    return Depth(visible=count, oldest_at=oldest.astimezone(UTC) if oldest else None)


@dataclass(frozen=True)
class MetricQuery:
    """One CloudWatch series; the result is its maximum over the window, or with ``latest`` its most
    recent point (``None`` when the series has no data)."""

    key: str
    namespace: str
    metric: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str = "Maximum"
    latest: bool = False


def iterator_age_queries(key: str, function: str, mapping_uuid: str | None) -> list[MetricQuery]:
    """IteratorAge of one mapping: by mapping UUID, else by function (all its mappings), in that order.

    AWS/Lambda publishes IteratorAge with the ``FunctionName`` dimension and, for event source
    mappings, with ``EventSourceMappingUUID``; the caller takes the first series that has data.
    """
    name = function.split(":")[6] if function.startswith("arn:") else function.split(":")[0]
    queries = []
    if mapping_uuid:
        queries.append(
            MetricQuery(
                f"{key}/esm", "AWS/Lambda", "IteratorAge", (("EventSourceMappingUUID", mapping_uuid),)
            )
        )
    queries.append(MetricQuery(f"{key}/fn", "AWS/Lambda", "IteratorAge", (("FunctionName", name),)))
    return queries


def oldest_message_query(key: str, queue_name: str) -> MetricQuery:
    """How old the oldest message of a queue is (seconds): the age of the oldest failure in SQS."""
    return MetricQuery(
        key, "AWS/SQS", "ApproximateAgeOfOldestMessage", (("QueueName", queue_name),), latest=True
    )


def read_metrics(
    factory: ClientFactory, queries: Sequence[MetricQuery], *, now: datetime | None = None
) -> dict[str, float | None]:
    """The maximum of each series over the last 15 minutes; any failure leaves values ``None``."""
    results: dict[str, float | None] = {q.key: None for q in queries}
    end = now or datetime.now(UTC)
    for start in range(0, len(queries), MAX_QUERIES_PER_CALL):
        chunk = list(queries[start : start + MAX_QUERIES_PER_CALL])
        try:
            results.update(_metric_chunk(factory, chunk, end))
        except Exception:  # metrics are a nicety: denied, throttled or absent all read as unknown
            continue
    return results


def _metric_chunk(factory: ClientFactory, chunk: list[MetricQuery], end: datetime) -> dict[str, float | None]:
    ids = {f"q{i}": q.key for i, q in enumerate(chunk)}
    request: list[MetricDataQueryTypeDef] = [
        {
            "Id": qid,
            "MetricStat": {
                "Metric": {
                    "Namespace": q.namespace,
                    "MetricName": q.metric,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions],
                },
                "Period": 60,
                "Stat": q.stat,
            },
            "ReturnData": True,
        }
        for qid, q in zip(ids, chunk, strict=True)
    ]
    latest = {q.key for q in chunk if q.latest}
    points: dict[str, list[tuple[datetime, float]]] = {}
    paginator = factory.client("cloudwatch").get_paginator("get_metric_data")
    pages = paginator.paginate(MetricDataQueries=request, StartTime=end - METRICS_WINDOW, EndTime=end)
    for page in pages:
        for result in page.get("MetricDataResults", []):
            key = ids.get(str(result.get("Id")))
            if key is not None:
                stamps = result.get("Timestamps", [])
                points.setdefault(key, []).extend(
                    zip(stamps, map(float, result.get("Values", [])), strict=False)
                )
    out: dict[str, float | None] = {}
    for key, series in points.items():
        if series:
            out[key] = max(series)[1] if key in latest else max(v for _, v in series)
    return out


def read_series(
    factory: ClientFactory, queries: Sequence[MetricQuery], *, start: datetime, end: datetime, period: int
) -> dict[str, list[tuple[datetime, float]]]:
    """Every point of each series in [start, end), one per ``period`` (``status --metrics`` sparklines):
    one GetMetricData call for all triggers (500 queries a call). Best-effort like ``read_metrics``: a
    denied or failed call leaves the series empty (drawn as "no data"), never an error."""
    found: dict[str, list[tuple[datetime, float]]] = {q.key: [] for q in queries}
    for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
        chunk = list(queries[first : first + MAX_QUERIES_PER_CALL])
        ids = {f"s{i}": q.key for i, q in enumerate(chunk)}
        request: list[MetricDataQueryTypeDef] = [
            {
                "Id": qid,
                "MetricStat": {
                    "Metric": {
                        "Namespace": q.namespace,
                        "MetricName": q.metric,
                        "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions],
                    },
                    "Period": period,
                    "Stat": q.stat,
                },
                "ReturnData": True,
            }
            for qid, q in zip(ids, chunk, strict=True)
        ]
        try:
            pages = factory.client("cloudwatch").get_paginator("get_metric_data")
            for page in pages.paginate(MetricDataQueries=request, StartTime=start, EndTime=end):
                for result in page.get("MetricDataResults", []):
                    key = ids.get(str(result.get("Id")))
                    if key is not None:
                        values = map(float, result.get("Values", []))
                        found[key].extend(zip(result.get("Timestamps", []), values, strict=False))
        except Exception:  # metrics are a nicety: denied, throttled or absent all read as no data
            continue
    return found

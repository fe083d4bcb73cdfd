"""CloudWatch metrics for ``status`` and ``audit`` (a destination's depth is its adapter's:
``aws.destinations``). Metrics are optional and best-effort: CloudWatch may hold nothing for a new
mapping, or deny the call; either way the value is unknown (shown as "–"), never an error. All metric queries of one ``status`` go in one GetMetricData
call, so ``--metrics`` costs one request however many triggers there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

    from ddbtrigger.aws.clients import ClientFactory

METRICS_WINDOW = timedelta(minutes=15)
MAX_QUERIES_PER_CALL = 500


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
    latest = {q.key for q in chunk if q.latest}
    points: dict[str, list[tuple[datetime, float]]] = {}
    _read_points(factory, chunk, start=end - METRICS_WINDOW, end=end, period=60, into=points)
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
        try:
            _read_points(factory, chunk, start=start, end=end, period=period, into=found)
        except Exception:  # metrics are a nicety: denied, throttled or absent all read as no data
            continue
    return found


def _read_points(
    factory: ClientFactory,
    chunk: list[MetricQuery],
    *,
    start: datetime,
    end: datetime,
    period: int,
    into: dict[str, list[tuple[datetime, float]]],
) -> None:
    """One GetMetricData request (paged) for ``chunk``: each series' (time, value) points in [start,
    end), one per ``period``, appended to ``into`` under the query's key. Errors propagate: the callers
    decide what an unreadable metric means."""
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
                "Period": period,
                "Stat": q.stat,
            },
            "ReturnData": True,
        }
        for qid, q in zip(ids, chunk, strict=True)
    ]
    paginator = factory.client("cloudwatch").get_paginator("get_metric_data")
    for page in paginator.paginate(MetricDataQueries=request, StartTime=start, EndTime=end):
        for result in page.get("MetricDataResults", []):
            key = ids.get(str(result.get("Id")))
            if key is not None:
                values = map(float, result.get("Values", []))
                into.setdefault(key, []).extend(zip(result.get("Timestamps", []), values, strict=False))

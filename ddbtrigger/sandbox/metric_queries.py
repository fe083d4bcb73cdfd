"""GetMetricData in time linear in the stored datums, however many queries a call holds.

moto 5.2.5 rescans every datum in the window for every query and every period, and sorts each datum's
dimensions on every look. The sandbox writes two gauges a second for every queue (``metrics.py``), so
with 250 queues in a region one 500-query call (what ``audit`` sends per region) took 1.7 s of server
CPU after 10 s, 15 s after 1 minute, and grew by ~0.25 s per second of sandbox uptime: after a few
minutes each call outlasted the client's read timeout, every retry started another scan in the server,
and ``audit`` sat idle for minutes (issue 19's stalled ``bench audit --repeats 3``).

Here the datums in [start, end) are grouped once per call by series (namespace, name, dimension set),
and each query reads its own group, bucketed by period. The statistics are moto's own (``Statistics``).
Matching is AWS's: a query with dimensions reads the series with exactly those dimensions, in any order,
in the query's namespace (moto ignored the namespace there); a query without dimensions reads every
series of the metric, as moto does. Calls with metric-math or Insights expressions go to moto unchanged.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from ddbtrigger.sandbox.alarms import dimension_set
from ddbtrigger.sandbox.patching import Patcher

Series = tuple[str, str, frozenset[tuple[Any, Any]]]


def install_metric_queries(patcher: Patcher) -> None:
    """Serve ``CloudWatchBackend.get_metric_data`` from a per-call index (see the module docstring)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.get_metric_data

    def get_metric_data(
        backend: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if not queries or any("MetricStat" not in q for q in queries):
            return original(backend, queries, start_time, end_time, scan_by)
        start, end = _checked_window(start_time, end_time)
        by_metric, by_series = _index(backend.get_all_metrics(), start, end)
        results = []
        for query in queries:
            result = _answer(query, start, by_metric, by_series)
            if scan_by == "TimestampDescending":
                result["timestamps"].reverse()
                result["values"].reverse()
            if query.get("ReturnData", True):
                results.append(result)
        return results

    patcher.set(CloudWatchBackend, "get_metric_data", get_metric_data)


def _checked_window(start_time: datetime, end_time: datetime) -> tuple[datetime, datetime]:
    """moto's window, whole seconds, with moto's errors."""
    from moto.cloudwatch.exceptions import ValidationError

    start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
    if start > end:
        raise ValidationError("The parameter EndTime must be greater than StartTime.")
    if start == end:
        raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
    return start, end


def _index(
    datums: list[Any], start: datetime, end: datetime
) -> tuple[dict[tuple[str, str], list[Any]], dict[Series, list[Any]]]:
    """The datums in [start, end), by metric (namespace, name) and by series."""
    by_metric: dict[tuple[str, str], list[Any]] = defaultdict(list)
    by_series: dict[Series, list[Any]] = defaultdict(list)
    for datum in datums:
        if start <= datum.timestamp < end:
            by_metric[(datum.namespace, datum.name)].append(datum)
            by_series[(datum.namespace, datum.name, dimension_set(datum.dimensions))].append(datum)
    return by_metric, by_series


def _answer(
    query: dict[str, Any],
    start: datetime,
    by_metric: dict[tuple[str, str], list[Any]],
    by_series: dict[Series, list[Any]],
) -> dict[str, Any]:
    """One query's result: a value per period that has data, oldest first."""
    from moto.cloudwatch.models import Statistics

    metric_stat = query["MetricStat"]
    metric = metric_stat["Metric"]
    namespace, name, stat = metric["Namespace"], metric["MetricName"], metric_stat["Stat"]
    wanted = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
    data = by_series.get((namespace, name, wanted), []) if wanted else by_metric.get((namespace, name), [])
    unit = metric_stat.get("Unit")
    period = timedelta(seconds=int(metric_stat["Period"]))
    buckets: dict[int, list[Any]] = defaultdict(list)
    for datum in data:
        if not unit or datum.unit == unit:
            buckets[(datum.timestamp - start) // period].append(datum)
    values, timestamps = [], []
    for index in sorted(buckets):
        stats = Statistics([stat], start + index * period)
        stats.metric_data = buckets[index]
        values.append(stats.get_statistics_for_type(stat))
        timestamps.append(stats.timestamp)
    label = query.get("Label") or f"{name} {stat}"
    return {
        "id": query["Id"],
        "label": label,
        "values": values,
        "timestamps": timestamps,
        "status_code": "Complete",
    }

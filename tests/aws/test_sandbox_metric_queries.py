"""The sandbox's GetMetricData answers as moto does, in time linear in the datums (issue 19's audit stall)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from ddbtrigger.sandbox.metric_queries import install_metric_queries
from ddbtrigger.sandbox.patching import Patcher

T0 = datetime(2026, 12, 2, 8, 0, 0)
NS = "AWS/SQS"


@pytest.fixture
def moto_and_fast() -> Iterator[tuple[Callable[..., Any], Callable[..., Any], Any]]:
    """(moto's get_metric_data, the sandbox's, a fresh backend)."""
    from moto.cloudwatch.models import CloudWatchBackend

    original = CloudWatchBackend.get_metric_data
    patcher = Patcher()
    install_metric_queries(patcher)
    try:
        yield original, CloudWatchBackend.get_metric_data, CloudWatchBackend("us-east-1", "123456789012")
    finally:
        patcher.restore()
    assert CloudWatchBackend.get_metric_data is original


def _datum(
    name: str, queue: str, second: int, value: float, unit: str = "Count", **stats: float
) -> dict[str, Any]:
    datum: dict[str, Any] = {
        "MetricName": name,
        "Dimensions": [{"Name": "QueueName", "Value": queue}],
        "Timestamp": T0 + timedelta(seconds=second),
        "Unit": unit,
    }
    if stats:
        datum["StatisticValues"] = stats
    else:
        datum["Value"] = value
    return datum


def _query(
    qid: str, name: str, queue: str | None, stat: str, period: int = 60, **extra: Any
) -> dict[str, Any]:
    metric: dict[str, Any] = {"Namespace": NS, "MetricName": name}
    if queue is not None:
        metric["Dimensions"] = [{"Name": "QueueName", "Value": queue}]
    stat_part: dict[str, Any] = {"Metric": metric, "Period": period, "Stat": stat}
    if "Unit" in extra:
        stat_part["Unit"] = extra.pop("Unit")
    return {"Id": qid, "MetricStat": stat_part, **extra}


def test_same_answers_as_moto(moto_and_fast: Any) -> None:
    original, fast, backend = moto_and_fast
    data = [_datum("Depth", q, s, float(s % 7)) for q in ("a", "b", "c") for s in range(0, 400, 13)]
    data += [_datum("Depth", "a", s, 9.0, "Seconds") for s in range(5, 300, 50)]
    data += [_datum("Age", "b", s, 0, SampleCount=3, Sum=s, Minimum=1, Maximum=s) for s in range(0, 400, 31)]
    backend.put_metric_data(NS, data)
    queries = [
        _query("q0", "Depth", "a", "Maximum"),
        _query("q1", "Depth", "b", "Sum", period=120, Label="depth of b"),
        _query("q2", "Depth", None, "Average"),
        _query("q3", "Depth", "a", "SampleCount", Unit="Seconds"),
        _query("q4", "Age", "b", "Maximum", ReturnData=False),
        _query("q5", "Age", "b", "Average", period=300),
        _query("q6", "Depth", "missing", "Maximum"),
        _query("q7", "Age", None, "Minimum", period=1),
    ]
    for start, end in (
        (T0, T0 + timedelta(minutes=15)),
        (T0 + timedelta(seconds=90, microseconds=5), T0 + timedelta(seconds=250)),
    ):
        for scan_by in ("TimestampAscending", "TimestampDescending"):
            want = original(backend, queries, start, end, scan_by)
            got = fast(backend, queries, start, end, scan_by)
            assert got == want
    assert [r["id"] for r in got] == ["q0", "q1", "q2", "q3", "q5", "q6", "q7"]
    assert any(r["values"] for r in got)


def test_moto_errors_for_a_bad_window(moto_and_fast: Any) -> None:
    from moto.cloudwatch.exceptions import ValidationError

    _, fast, backend = moto_and_fast
    for start, end in ((T0 + timedelta(seconds=1), T0), (T0, T0 + timedelta(microseconds=10))):
        with pytest.raises(ValidationError):
            fast(backend, [_query("q0", "Depth", "a", "Maximum")], start, end)


def test_dimensions_in_any_order_and_namespace_respected(moto_and_fast: Any) -> None:
    _, fast, backend = moto_and_fast
    dims = [{"Name": "FunctionName", "Value": "f"}, {"Name": "EventSourceMappingUUID", "Value": "u"}]
    datum = {
        "MetricName": "IteratorAge",
        "Dimensions": dims,
        "Timestamp": T0,
        "Value": 5.0,
        "Unit": "Milliseconds",
    }
    backend.put_metric_data("AWS/Lambda", [datum])
    backend.put_metric_data("Custom", [{**datum, "Value": 99.0}])
    query = {
        "Id": "q",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "IteratorAge", "Dimensions": dims[::-1]},
            "Period": 60,
            "Stat": "Maximum",
        },
    }
    [result] = fast(backend, [query], T0, T0 + timedelta(minutes=1))
    assert result["values"] == [5.0]
    assert result["timestamps"] == [T0]


def test_many_queries_over_many_datums_within_a_deadline(moto_and_fast: Any) -> None:
    """audit's call shape after ~2 minutes of a 250-queue sandbox: moto took tens of seconds; this must not."""
    from moto.cloudwatch.models import MetricDatum

    _, fast, backend = moto_and_fast
    for second in range(240):
        stamp = T0 + timedelta(seconds=second)
        for q in range(250):
            dims = [{"Name": "QueueName", "Value": f"q{q}"}]
            backend.metric_data.append(MetricDatum(NS, "Depth", 1.0, dims, stamp, "Count"))
    queries = [
        _query(f"q{i}", "IteratorAge" if i % 2 else "Depth", f"q{i // 2}", "Maximum") for i in range(500)
    ]
    answered: list[Any] = []
    worker = threading.Thread(
        target=lambda: answered.append(fast(backend, queries, T0, T0 + timedelta(minutes=15))), daemon=True
    )
    worker.start()
    worker.join(timeout=10)
    assert answered, "GetMetricData of 500 queries over 60,000 datums took over 10 s"
    depth = answered[0][0]
    assert depth["values"] == [1.0] * 4
    assert answered[0][1]["values"] == []


def test_the_sandbox_serves_its_queue_gauges_through_get_metric_data() -> None:
    from datetime import UTC

    from ddbtrigger.sandbox import Sandbox
    from tests.aws.conftest_sandbox import wait_for

    with Sandbox(state_seconds=0, metrics_interval=0.05) as sb:
        sb.client("sqs").create_queue(QueueName="dlq-1")
        cw = sb.client("cloudwatch")

        def depth_points() -> list[Any]:
            end = datetime.now(UTC) + timedelta(minutes=1)
            query = {
                "Id": "q",
                "MetricStat": {
                    "Metric": {
                        "Namespace": NS,
                        "MetricName": "ApproximateNumberOfMessagesVisible",
                        "Dimensions": [{"Name": "QueueName", "Value": "dlq-1"}],
                    },
                    "Period": 60,
                    "Stat": "Maximum",
                },
            }
            got = cw.get_metric_data(
                MetricDataQueries=[query], StartTime=end - timedelta(minutes=15), EndTime=end
            )
            return list(got["MetricDataResults"][0]["Values"])

        points = wait_for(depth_points, what="the queue's depth gauge")
        assert set(points) == {0.0}

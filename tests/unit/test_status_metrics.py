"""``status --metrics``: the last hours as sparklines (golden at 80 columns), alarm states, the JSON series."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from ddbtrigger.cli.status import status_view
from ddbtrigger.core.health import HealthFacts, attention
from ddbtrigger.core.live import LiveAlarm
from ddbtrigger.core.sparkline import BLOCKS, MARKS, NO_DATA, Window, sparkline
from ddbtrigger.usecases.status import StatusReport
from tests.unit import test_status_render as status_fixture

END = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


def test_a_window_fits_the_hours_in_at_most_48_whole_minute_periods() -> None:
    for hours in (1, 3, 24, 336):
        window = Window.of_hours(hours, END)
        assert window.count <= MARKS and window.period % 60 == 0
        assert window.period * window.count >= hours * 3600
        assert window.end.timestamp() % window.period == 0 and window.end >= END
    assert (Window.of_hours(3, END).period, Window.of_hours(3, END).count) == (240, 45)


def test_points_are_bucketed_per_period_and_missing_periods_stay_unknown() -> None:
    window = Window(END, 60, 4)
    points = [(END - timedelta(seconds=230), 2.0), (END - timedelta(seconds=200), 5.0), (END, 9.0)]
    assert window.buckets(points, combine="max") == [5.0, None, None, None]  # END itself is outside
    assert window.buckets(points, combine="sum") == [7.0, None, None, None]


def test_sparkline_scales_to_the_maximum_and_marks_no_data() -> None:
    assert sparkline([0.0, 5.0, 10.0, None]) == f"{BLOCKS[0]}{BLOCKS[4]}{BLOCKS[-1]}{NO_DATA}"
    assert sparkline([0.0, 0.0]) == BLOCKS[0] * 2


def alarm(name: str, key: str, state: str, threshold: float) -> LiveAlarm:
    return LiveAlarm(
        name, key, "AWS/Lambda", "IteratorAge", (), "Maximum", "GreaterThanThreshold", threshold, 60, 1, state
    )


def metrics_report() -> StatusReport:
    base = status_fixture.report()
    window = Window.of_hours(3, END)
    n = window.count
    blocked = tuple([None] * (n - 12) + [float(s * 60_000) for s in range(1, 11)] + [500.0, 200.0])
    invocations = tuple([0.0] * (n - 12) + [3.0] * 10 + [40.0, 5.0])
    errors = tuple([0.0] * (n - 12) + [3.0] * 10 + [1.0, 0.0])
    waiting = tuple([0.0] * (n - 2) + [1.0, 0.0])
    first = replace(
        base.triggers[0],
        alarms=(alarm("ddbtrigger-orders-audit-iterator-age", "iterator_age_seconds", "ALARM", 300_000.0),),
        series={
            "iterator_age_ms": blocked,
            "invocations": invocations,
            "errors": errors,
            "failures_waiting": waiting,
        },
    )
    rest = [
        replace(t, series={"iterator_age_ms": (None,) * n, "invocations": (0.0,) * n, "errors": (0.0,) * n})
        for t in base.triggers[1:]
    ]
    return StatusReport((first, *rest), base.read_at, metrics=True, window=window)


def test_status_metrics_at_80_columns_matches_golden() -> None:
    report = metrics_report()
    text = status_fixture.render_at(status_view(report, width=80), 80)
    status_fixture.check_golden("status_metrics_80.txt", text)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Last 3h, one mark per 4m" in text
    lines: dict[str, str] = {}
    for line in text.split("Last 3h")[1].splitlines():  # the first trigger's (orders-audit) sparklines
        if line.startswith("  "):
            lines.setdefault(line.split()[0], line)
    spark = lines["iterator"].split()[2]
    assert report.window is not None and len(spark) == report.window.count  # every period drawn, none cut
    assert spark.endswith(BLOCKS[-1] + BLOCKS[0] + BLOCKS[0]) and spark.startswith(NO_DATA)
    assert "max 10m" in lines["iterator"] and "total 75" in lines["invocations"]
    assert "orders-audit  alarm iterator-age  ALARM  threshold 300 s" in text


def test_status_json_carries_the_series_the_window_and_the_alarms() -> None:
    doc = metrics_report().as_json()
    first = doc["triggers"][0]
    assert set(first["series"]) == {"iterator_age_ms", "invocations", "errors", "failures_waiting"}
    assert first["series"]["iterator_age_ms"][-3:] == [600_000.0, 500.0, 200.0]
    assert doc["window"]["period_seconds"] == 240
    assert first["alarms"] == [
        {
            "name": "ddbtrigger-orders-audit-iterator-age",
            "metric": "iterator_age_seconds",
            "state": "ALARM",
            "threshold": 300,
        }
    ]


def test_an_alarm_in_alarm_needs_attention() -> None:
    healthy = HealthFacts(mapping_state="Enabled")
    assert attention(healthy) == []
    assert attention(replace(healthy, alarms_firing=("ddbtrigger-t-iterator-age",))) == [
        "alarm ddbtrigger-t-iterator-age in ALARM"
    ]

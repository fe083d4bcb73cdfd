"""--since/--until: durations back from now, ISO 8601 times with a zone, half-open windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ddbtrigger.core.windows import TimeWindow, WindowError, iso, parse_duration, parse_time, parse_window

NOW = 1_796_220_000.0  # 2026-12-02T14:40:00Z


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("10m", 600),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1d2h3m4s", 93784),
        ("0s", 0),
        (" 5M ", 300),
    ],
)
def test_durations_go_back_from_now(text: str, seconds: int) -> None:
    assert parse_time(text, now=NOW) == NOW - seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02T14:00:00Z", datetime(2026, 12, 2, 14, tzinfo=UTC)),
        ("2026-12-02T16:00:00+02:00", datetime(2026, 12, 2, 14, tzinfo=UTC)),
        ("2026-12-02T09:30:00-04:30", datetime(2026, 12, 2, 14, tzinfo=UTC)),
        ("2026-12-02T14:00:00.250Z", datetime(2026, 12, 2, 14, 0, 0, 250000, tzinfo=UTC)),
        ("2026-12-02 14:00:00+00:00", datetime(2026, 12, 2, 14, tzinfo=UTC)),
    ],
)
def test_iso_times_with_a_zone(text: str, expected: datetime) -> None:
    assert parse_time(text, now=NOW) == expected.timestamp()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "needs a value"),
        ("10", "is not a time"),
        ("10x", "is not a time"),
        ("m10", "is not a time"),
        ("30m1h", "is not a time"),  # largest unit first
        ("1h1h", "is not a time"),
        ("-5m", "is not a time"),
        ("1.5h", "is not a time"),
        ("yesterday", "is not a time"),
        ("2026-13-02T14:00:00Z", "is not a time"),
        ("2026-12-02T14:00:00", "no time zone"),
        ("2026-12-02", "no time zone"),
    ],
)
def test_anything_else_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(WindowError, match=message) as caught:
        parse_time(text, now=NOW, option="--until")
    assert "--until" in str(caught.value)


def test_until_before_since_is_an_error() -> None:
    with pytest.raises(WindowError, match=r"--until .* is before --since"):
        parse_window("2026-12-02T16:00:00Z", "2026-12-02T14:00:00Z", now=NOW)
    with pytest.raises(WindowError, match="empty"):
        parse_window("10m", "1h", now=NOW)  # until 1h ago is before since 10 min ago


def test_window_is_half_open_by_approximate_creation_time() -> None:
    window = parse_window("2026-12-02T14:00:00Z", "2026-12-02T16:00:00Z", now=NOW)
    start, end = datetime(2026, 12, 2, 14, tzinfo=UTC).timestamp(), datetime(2026, 12, 2, 16, tzinfo=UTC)
    assert window.contains_record({"dynamodb": {"ApproximateCreationDateTime": start}})
    assert not window.contains_record({"dynamodb": {"ApproximateCreationDateTime": start - 0.001}})
    assert not window.contains_record({"dynamodb": {"ApproximateCreationDateTime": end.timestamp()}})
    assert window.contains_record({"dynamodb": {"ApproximateCreationDateTime": end - timedelta(seconds=1)}})
    assert not window.contains_record({"dynamodb": {}})  # no time: in no bounded window
    assert TimeWindow().contains_record({"dynamodb": {}})
    assert window.is_past(end.timestamp()) and not window.is_past(start)


def test_open_until_is_fixed_when_a_replay_starts() -> None:
    window = parse_window("2h", None, now=NOW)
    assert window.until is None and window.contains(NOW + 3600)
    fixed = window.closed(NOW)
    assert fixed == TimeWindow(NOW - 7200, NOW)
    assert fixed.closed(NOW + 60) == fixed
    assert TimeWindow.from_json(fixed.as_json()) == fixed


def test_describe_reads_as_utc() -> None:
    window = TimeWindow(datetime(2026, 12, 2, 14, tzinfo=timezone(timedelta(hours=2))).timestamp(), None)
    assert window.describe() == "2026-12-02T12:00:00Z .. …"


@given(
    st.integers(0, 400),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
)
def test_any_duration_reads_back(days: int, hours: int, minutes: int, seconds: int) -> None:
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"
    assert parse_duration(text) == days * 86400 + hours * 3600 + minutes * 60 + seconds


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)))
def test_iso_round_trips(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert parse_time(iso(moment.timestamp()), now=NOW) == pytest.approx(moment.timestamp(), abs=1e-6)


@given(st.text(max_size=30))
def test_parse_time_never_raises_anything_but_window_error(text: str) -> None:
    try:
        value = parse_time(text, now=NOW)
    except WindowError:
        return
    assert isinstance(value, float)


@given(st.floats(0, 4e9), st.floats(0, 4e9), st.floats(0, 4e9))
def test_contains_agrees_with_the_bounds(a: float, b: float, t: float) -> None:
    since, until = min(a, b), max(a, b)
    assert TimeWindow(since, until).contains(t) == (since <= t < until)

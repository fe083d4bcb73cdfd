"""inspect-dlq's table view and JSON document, drawn from a hand-made report (no AWS, fixed time)."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console

from ddbtrigger.cli.inspect_dlq import draw_report
from ddbtrigger.core.failures import Failure, parse_failure
from ddbtrigger.usecases.inspect import Entry, Hydration, InspectReport
from tests.unit.test_failures import RETRY_EXHAUSTED

NOW = datetime(2019, 11, 14, 3, 25, 19, tzinfo=UTC)


def failure(
    start: str,
    end: str,
    *,
    shard: str = "shardId-00000001573689847184-864758bb",
    arrival: str = "2019-11-14T00:13:19Z",
    id: str = "m",
) -> Failure:
    body = copy.deepcopy(RETRY_EXHAUSTED)
    body["DDBStreamBatchInfo"].update(
        startSequenceNumber=start,
        endSequenceNumber=end,
        shardId=shard,
        approximateArrivalOfFirstRecord=arrival,
    )
    result = parse_failure(
        json.dumps(body), id=id, source="sqs", received_at=datetime(2019, 11, 14, 0, 14, 0, tzinfo=UTC)
    )
    assert isinstance(result, Failure)
    return result


def report() -> InspectReport:
    r = InspectReport(now=NOW)
    r.add(Entry("orders-audit", failure("1000", "1000", id="m-late")))
    r.add(Entry("orders-audit", failure("900", "950", id="m-early", arrival="2019-11-13T02:00:00Z")))
    bad = parse_failure("junk", id="m-bad", source="sqs")
    r.add(Entry("orders-audit", bad))
    r.sort()
    return r


def draw(r: InspectReport, **redrive: Any) -> str:
    console = Console(width=200, no_color=True, record=True, file=io.StringIO())
    draw_report(
        console,
        r,
        redrive={"file": "ddbtrigger.yaml", "profile": None, "region": None, "endpoint_url": None, **redrive},
    )
    return console.export_text()


def test_rows_sorted_by_shard_then_sequence_number_as_integers() -> None:
    r = report()
    assert [e.item.id for e in r.failures] == ["m-early", "m-late"]


def test_table_view() -> None:
    text = draw(report())
    lines = text.splitlines()
    early = next(line for line in lines if "900 – 950" in line)
    late = next(line for line in lines if " 1000 " in line)
    assert "expired" in early and "11-14 00:14" in early
    assert "in 20h48m" in late
    assert "RetryAttemptsExhausted" in late and "Unhandled" in late
    assert "m-bad" in text and "not JSON" in text
    assert "2 failure(s) (1 expired), 1 malformed; oldest failure arrived 1d1h ago" in text
    assert "next: ddbtrigger redrive --trigger orders-audit" in text
    assert "--drop-expired" in text


def test_long_sequence_numbers_are_shortened_in_the_table_only() -> None:
    r = InspectReport(now=NOW)
    r.add(Entry("t", failure("800000000003126276362", "800000000003126276399")))
    text = draw(r, endpoint_url="http://127.0.0.1:4566")
    assert "800000…276362 – 800000…276399" in text
    assert "--endpoint-url http://127.0.0.1:4566" in text
    doc = r.as_json()
    assert doc["failures"][0]["start_sequence_number"] == "800000000003126276362"


def test_hydrated_records_and_expired_hydration() -> None:
    r = InspectReport(now=NOW)
    records = [
        {
            "event_name": "INSERT",
            "sequence_number": "1",
            "keys": {"pk": "k1"},
            "new_image": {"pk": "k1", "email": "a@example.com"},
        }
    ]
    r.add(Entry("t", failure("1", "1", id="ok"), Hydration(records)))
    r.add(Entry("t", failure("5", "5", id="gone"), Hydration([], expired=True, reason="trimmed")))
    text = draw(r)
    assert 'INSERT  {"pk": "k1"}' in text and "a@example.com" in text
    assert "gone (t): expired: trimmed; 0 record(s) from the stream" in text
    doc = r.as_json()
    assert doc["failures"][0]["hydrated"]["records"] == records


def test_empty_report() -> None:
    text = draw(InspectReport(now=NOW))
    assert "0 failure(s), 0 malformed" in text and "redrive" not in text
    assert InspectReport(now=NOW).as_json() == {
        "failures": [],
        "malformed": [],
        "held": {"count": 0, "reappear_by": None},
        "counts": {"failures": 0, "expired": 0, "malformed": 0, "held": 0},
    }


def test_expiry_boundaries() -> None:
    f = failure("1", "1")
    assert not f.expired(f.expires_at - timedelta(seconds=1))
    assert f.expired(f.expires_at)


def test_many_rows_are_drawn_as_plain_aligned_text() -> None:
    r = InspectReport(now=NOW)
    for i in range(400):
        arrival = "2019-11-13T02:00:00Z" if i % 2 else "2019-11-14T00:13:19Z"
        r.add(Entry("orders-audit", failure(str(1000 + i), str(1000 + i), id=f"m{i}", arrival=arrival)))
    r.add(Entry("orders-audit", parse_failure("junk", id="m-bad", source="sqs")))
    r.sort()
    buffer = io.StringIO()
    console = Console(width=200, no_color=True, file=buffer)
    draw_report(
        console, r, redrive={"file": "ddbtrigger.yaml", "profile": None, "region": None, "endpoint_url": None}
    )
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "Failures"
    header = lines[1].split()
    assert header[:3] == ["id", "landed", "trigger"]
    rows = [line for line in lines if "RetryAttemptsExhausted" in line]
    assert len(rows) == 400
    assert rows[0].split()[5] == "1000" and rows[-1].split()[5] == "1399"
    assert rows[1].endswith("expired") and rows[0].endswith("in 20h48m")
    assert len({len(row.split("RetryAttemptsExhausted")[0]) for row in rows}) == 1  # aligned
    assert "m-bad" in buffer.getvalue() and "400 failure(s) (200 expired), 1 malformed" in buffer.getvalue()

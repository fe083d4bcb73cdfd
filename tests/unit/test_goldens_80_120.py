"""Golden renderings of ``status`` and ``inspect-dlq`` at 80 and 120 columns (issue 13).

Asserted beyond the golden text: no line wider than the terminal, no word of any cell broken over two
lines, no column dropped (each is a header, or a ``key:`` line of the stacked layout), S3 failure ids
told apart, and held failures shown. Regenerate after an intended change with
``DDBT_UPDATE_GOLDEN=1 pytest tests/unit/test_goldens_80_120.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from rich.console import Console

from ddbtrigger.aws.destinations import Depth
from ddbtrigger.cli.inspect_dlq import FAILURE_COLUMNS, draw_report, failure_rows
from ddbtrigger.cli.status import STATUS_COLUMNS, status_view
from ddbtrigger.core.failures import Failure, Held, parse_failure
from ddbtrigger.usecases.inspect import Entry, InspectReport
from ddbtrigger.usecases.status import DestinationStatus, StatusReport, TriggerStatus
from tests.unit import test_failures_render as inspect_fixture
from tests.unit import test_status_render as status_fixture
from tests.unit.test_failures import RECORDS, RETRY_EXHAUSTED

S3_KEY = "failures/aws/lambda/0f1e2d3c-aaaa-bbbb-cccc-123456789abc/shardId-00000001573689847184-864758bb/2019/11/14/"


def status_report() -> StatusReport:
    """The status fixture, plus a destination with failures waiting and held by another reader."""
    base = status_fixture.report()
    first = base.triggers[0]
    dest = first.destination
    assert dest is not None
    held = DestinationStatus(dest.type, dest.arn, dest.name, depth=Depth(3, 2))
    triggers = (TriggerStatus(**{**first.__dict__, "destination": held}), *base.triggers[1:])
    return StatusReport(triggers, base.read_at, metrics=True, shards=True)


def s3_failure(stamp: str) -> Failure:
    body = {**RETRY_EXHAUSTED, "payload": json.dumps({"Records": RECORDS})}
    result = parse_failure(json.dumps(body), id=f"{S3_KEY}2019-11-14T00.13.{stamp}", source="s3")
    assert isinstance(result, Failure)
    return result


def inspect_report() -> InspectReport:
    r = inspect_fixture.report()
    for stamp in ("19-5f0c9e21-4c1e", "19-a81d33b0-77f2"):
        r.add(Entry("orders-archive", s3_failure(stamp)))
    r.sort()
    r.held = Held(4, None)
    return r


def render_status(width: int) -> str:
    return status_fixture.render_at(status_view(status_report(), width=width), width)


def render_inspect(width: int) -> str:
    console = Console(width=width, no_color=True, record=True, file=io.StringIO())
    redrive = {"file": "ddbtrigger.yaml", "profile": None, "region": None, "endpoint_url": None}
    draw_report(console, inspect_report(), redrive=redrive)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"


def assert_readable(text: str, width: int, columns: tuple[str, ...], cells: list[list[str]]) -> None:
    assert max(len(line) for line in text.splitlines()) <= width
    flat = " ".join(text.split())
    for row in cells:
        for cell in row:
            for word in cell.split():
                assert word in text.split() or word in flat, f"{word!r} broken or missing"
    for column in columns:
        header = " ".join(column.split())
        stacked = column.replace("\n", " / ") + ":"
        assert stacked in text or all(part in text for part in column.split()), f"column {header} dropped"


@pytest.mark.parametrize("width", [80, 120])
def test_status_golden(width: int) -> None:
    text = render_status(width)
    status_fixture.check_golden(f"status_{width}.txt", text)
    cells = [[t.name, t.table, "drift" if t.drift else "no"] for t in status_report().triggers]
    assert_readable(text, width, (*STATUS_COLUMNS, "iterator\nage"), cells)
    assert "+2 held" in text
    assert "250 ms" in text  # iterator age survives at 80 columns


@pytest.mark.parametrize("width", [80, 120])
def test_inspect_golden(width: int) -> None:
    text = render_inspect(width)
    status_fixture.check_golden(f"inspect_dlq_{width}.txt", text)
    r = inspect_report()
    cells = [cells for cells, _ in failure_rows(r.failures, r.now)]
    assert_readable(text, width, FAILURE_COLUMNS[1:], cells)
    shown_ids = [cells[0] for cells in cells]
    assert len(set(shown_ids)) == len(shown_ids)  # S3 keys told apart
    words = text.split()
    assert {"never", "S3)", "20h48m", "expired"} <= set(words)  # (a cell may wrap at its spaces)
    assert "expires" not in " ".join(line for line in text.splitlines() if "orders-archive" in line)
    assert text.startswith("Failures") and "4 failure(s) held by another reader" in text


def test_wide_shows_whole_ids_on_one_line() -> None:
    r = inspect_report()
    console = Console(width=80, no_color=True, record=True, file=io.StringIO())
    console.width = 100_000
    redrive = {"file": "ddbtrigger.yaml", "profile": None, "region": None, "endpoint_url": None}
    draw_report(console, r, redrive=redrive, wide=True)
    text = console.export_text()
    for entry in r.failures:
        line = next(line for line in text.splitlines() if entry.item.id in line)
        assert isinstance(entry.item, Failure) and entry.item.shard_id in line


def test_s3_failures_never_count_down() -> None:
    r = inspect_report()
    far = r.now + timedelta(days=3)
    rows = failure_rows([e for e in r.failures if e.trigger == "orders-archive"], far)
    assert [cells[-1] for cells, _ in rows] == ["never (in S3)", "never (in S3)"]
    assert not any(red for _, red in rows)

"""``inspect-dlq`` without ``--hydrate`` streams (issue 19): the JSON document is written item by item
from a spool and must be exactly the document ``InspectReport.as_json`` describes, byte for byte as
``Output.result`` prints it; the table is a bounded, sorted page with exact counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ddbtrigger.core.loader import load_spec
from ddbtrigger.usecases import inspect as uc
from tests.aws.test_dlq import depth, pointer
from tests.aws.test_dlq_inspect import cli, world  # noqa: F401 (the fixture)

NOW = "2030-01-01T00:00:00+00:00"


def test_streamed_json_is_the_document_byte_for_byte(world: dict[str, Any]) -> None:  # noqa: F811
    result = cli("-f", str(world["spec"]), "--output", "json", "--now", NOW)
    assert result.exit_code == 0, result.output
    spec = load_spec(world["spec"].read_text(), str(world["spec"]))
    report = uc.inspect(world["factory"], list(spec.triggers), now=datetime.fromisoformat(NOW))
    expected = json.dumps(report.as_json(), indent=2, default=str, ensure_ascii=False) + "\n"
    assert result.stdout == expected
    assert json.loads(result.stdout)["counts"]["failures"] == 4


def test_streamed_json_of_an_empty_destination(moto_aws: Any, tmp_path: Any) -> None:
    moto_aws.client("sqs").create_queue(QueueName="orders-dlq")
    spec = tmp_path / "ddbtrigger.yaml"
    spec.write_text(
        "version: 1\nregion: us-east-1\ntriggers:\n  - name: o\n    table: orders\n    function: f\n"
        "    on_failure: {type: sqs, name: orders-dlq}\n"
    )
    result = cli("-f", str(spec), "-o", "json")
    assert result.exit_code == 0, result.output
    doc = {"failures": [], "malformed": [], "held": {"count": 0, "reappear_by": None}}
    doc["counts"] = {"failures": 0, "expired": 0, "malformed": 0, "held": 0}
    assert result.stdout == json.dumps(doc, indent=2) + "\n"


def test_table_is_a_sorted_page_with_exact_counts(
    world: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ddbtrigger.cli.inspect_dlq as view

    monkeypatch.setattr(view, "PAGE_ROWS", 2)
    result = cli("-f", str(world["spec"]), "--trigger", "orders-audit")
    assert result.exit_code == 0, result.output
    assert "the first 2 of 3 failures by shard and sequence number" in result.stdout
    assert "3 failure(s) (1 expired), 2 malformed" in result.stdout  # counts are of the whole scan
    assert depth(world["factory"], world["url"]) == (5, 0)


def test_sorted_page_keeps_the_first_in_order_in_bounded_memory() -> None:
    from ddbtrigger.core.failures import parse_failure

    page = uc.SortedPage(3)
    for n in (9, 2, 7, 5, 1, 8, 3, 6, 4, 0):
        failure = parse_failure(pointer(n), id=f"m{n}", source="sqs")
        page.add(uc.Entry("t", failure))
        assert len(page._kept) < 2 * page.size  # never more than twice the page
    assert [e.item.id for e in page.entries()] == ["m0", "m1", "m2"]


def test_spool_gives_back_every_failure_sorted() -> None:
    from ddbtrigger.core.failures import parse_failure

    now = datetime(2030, 1, 1, tzinfo=UTC)
    with uc.SortedSpool(now) as spool:
        for n in (3, 1, 2):
            spool.add(uc.Entry("t", parse_failure(pointer(n), id=f"m{n}", source="sqs")))
        assert [json.loads(text)["id"] for text in spool.texts()] == ["m1", "m2", "m3"]

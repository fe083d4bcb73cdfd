"""Table-mode rendering of ``status`` at a fixed width, without color, against a golden file.

Regenerate after an intended change with ``DDBT_UPDATE_GOLDEN=1 pytest tests/unit/test_status_render.py``
and review the diff.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from rich.console import Console

from ddbtrigger.aws.destinations import Depth
from ddbtrigger.cli.status import shard_tree, status_view
from ddbtrigger.core.health import Hint
from ddbtrigger.core.live import LiveMapping
from ddbtrigger.core.shards import Shard, ordered, shards_from_pages
from ddbtrigger.usecases.status import DestinationStatus, StatusReport, TriggerStatus
from tests.helpers import check_golden, drawn_text

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"
OLD_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/payments/stream/2025-01-01T00:00:00.000"
FN = "arn:aws:lambda:us-east-1:123456789012:function:orders-audit"


def mapping(uuid: str, **fields: object) -> LiveMapping:
    base: dict[str, object] = dict(
        uuid=uuid,
        arn=None,
        event_source_arn=STREAM,
        function_arn=FN,
        state="Enabled",
        state_transition_reason="USER_INITIATED",
        last_processing_result="OK",
        batch_size=100,
        maximum_retry_attempts=3,
        maximum_record_age_in_seconds=3600,
        bisect_batch_on_function_error=True,
    )
    base.update(fields)
    return LiveMapping(**base)  # type: ignore[arg-type]


def lineage_pages() -> list[dict[str, object]]:
    def shard(sid: str, start: str, end: str | None = None, parent: str | None = None) -> dict[str, object]:
        span = {"StartingSequenceNumber": start, **({"EndingSequenceNumber": end} if end else {})}
        return {"ShardId": sid, "SequenceNumberRange": span, **({"ParentShardId": parent} if parent else {})}

    return [
        {
            "StreamDescription": {
                "Shards": [
                    shard("shardId-0003", "3000", parent="shardId-0002"),
                    shard("shardId-0001", "1000", "1999"),
                ],
                "LastEvaluatedShardId": "shardId-0001",
            }
        },
        {
            "StreamDescription": {
                "Shards": [
                    shard("shardId-0002", "2000", "2999", parent="shardId-0001"),
                    shard("shardId-0004", "3500", parent="shardId-0002"),
                ]
            }
        },
    ]


def report() -> StatusReport:
    healthy = TriggerStatus(
        name="orders-audit",
        table="orders",
        function="orders-audit",
        stream_arn=STREAM,
        stream_status="ENABLED",
        view_type="NEW_AND_OLD_IMAGES",
        mapping=mapping("11111111-aaaa-bbbb-cccc-000000000001"),
        destination=DestinationStatus(
            "sqs",
            "arn:aws:sqs:us-east-1:123456789012:orders-audit-dlq",
            "orders-audit-dlq",
            depth=Depth(0, 0),
        ),
        shards=tuple(ordered(shards_from_pages(lineage_pages()))),
        readers=1,
        iterator_age_ms=250.0,
    )
    troubled = TriggerStatus(
        name="payments-sync",
        table="payments",
        function="payments-sync",
        stream_arn=STREAM.replace("orders", "payments"),
        stream_status="ENABLED",
        view_type="NEW_IMAGE",
        mapping=mapping(
            "22222222-aaaa-bbbb-cccc-000000000002",
            state="Disabled",
            event_source_arn=OLD_STREAM,
            last_processing_result="PROBLEM: Function call failed",
            maximum_retry_attempts=-1,
            maximum_record_age_in_seconds=-1,
            bisect_batch_on_function_error=False,
        ),
        mapping_is_stale=True,
        destination=DestinationStatus(
            "s3",
            "arn:aws:s3:::payments-failures",
            "payments-failures",
            depth=Depth(4),
            oldest_at=NOW - timedelta(hours=5),
        ),
        drift=True,
        shards=(),
        readers=3,
        iterator_age_ms=None,
        hints=(
            Hint("last-result-problem", "error", "last processing result: PROBLEM: Function call failed"),
            Hint("too-many-readers", "warning", "3 mappings read this stream"),
        ),
    )
    missing = TriggerStatus(
        name="users-index",
        table="users",
        function="users-index",
        stream_arn=None,
        stream_status="DISABLED",
        view_type=None,
        mapping=None,
        destination=None,
        shards=None,
        hints=(Hint("mapping-missing", "error", "no event source mapping"),),
    )
    return StatusReport((healthy, troubled, missing), NOW, metrics=True, shards=True)


def render(renderable: object) -> str:
    return render_at(renderable, 120)


def render_at(renderable: object, width: int) -> str:
    return drawn_text(lambda console: console.print(renderable), width)


def test_status_view_matches_golden_at_width_120() -> None:
    text = render(status_view(report()))
    check_golden("status_table.txt", text)
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "\x1b[" not in text


def test_table_shows_the_fields_an_operator_needs() -> None:
    text = render(status_view(report()))
    for expected in (
        "orders-audit",
        "NEW_AND_OLD_IMAGES",
        "Enabled",
        "Disabled",
        "PROBLEM",
        "100 / 3",
        "1h / bisect",
        "100 / ∞",
        "∞ / no bisect",
        "orders-audit-dlq",
        "payments-failures",
        "drift",
        "250 ms",
        "USER_INITIATED",
        "missing",
        "(old stream)",
    ):
        assert expected in text, expected


def test_shard_tree_draws_children_under_parents() -> None:
    status = report().triggers[0]
    text = render(shard_tree(status))
    lines = [line for line in text.splitlines() if "shardId" in line]
    assert [line.split("shardId-")[1][:4] for line in lines] == ["0001", "0002", "0003", "0004"]
    indent = [len(line) - len(line.lstrip(" │├└─")) for line in lines]
    assert indent[0] < indent[1] < indent[2] == indent[3]
    assert "closed" in lines[0] and "open" in lines[2]


def test_hints_are_one_line_each() -> None:
    text = render(status_view(report()))
    assert "payments-sync: 3 mappings read this stream" in text
    assert "users-index: no event source mapping" in text


def test_json_document_keeps_product_shape() -> None:
    doc = report().as_json()
    first = doc["triggers"][0]
    assert set(first) >= {"name", "table", "stream", "mapping", "on_failure", "drift", "shards"}
    assert first["stream"] == {"arn": STREAM, "status": "ENABLED", "view_type": "NEW_AND_OLD_IMAGES"}
    assert first["on_failure"]["depth"] == 0
    assert [s["shard_id"] for s in first["shards"]] == [
        "shardId-0001",
        "shardId-0002",
        "shardId-0003",
        "shardId-0004",
    ]
    assert doc["triggers"][2]["mapping"] is None and doc["triggers"][2]["on_failure"] is None
    assert doc["triggers"][1]["on_failure"]["oldest_failure_at"] == "2026-01-02T07:00:00Z"


def test_shard_from_aws_is_used_for_the_tree() -> None:
    assert Shard.from_aws({"ShardId": "x"}).open


def test_watch_redraws_until_interrupted_and_survives_a_failed_refresh() -> None:
    from ddbtrigger.cli.render import Output
    from ddbtrigger.cli.status import watch_status
    from ddbtrigger.errors import Throttled

    reads: list[int] = []
    sleeps: list[float] = []

    def read() -> StatusReport:
        reads.append(1)
        if len(reads) == 3:
            raise Throttled("slow down")
        return report()

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            raise KeyboardInterrupt

    with open(os.devnull, "w") as sink:
        console = Console(width=120, record=True, no_color=True, file=sink, force_terminal=True)
        watch_status(Output(out=console), read, interval=2.5, sleep=sleep)
    assert sleeps == [2.5, 2.5, 2.5]
    assert len(reads) == 3  # the first view, a refresh, a failed refresh (its view kept), then Ctrl-C
    text = console.export_text()
    assert "refresh failed: slow down" in text
    assert "orders-audit" in text


def test_watch_without_a_terminal_prints_each_refresh() -> None:
    from ddbtrigger.cli.render import Output
    from ddbtrigger.cli.status import watch_status

    with open(os.devnull, "w") as sink:
        console = Console(width=120, record=True, no_color=True, file=sink, force_terminal=False)
        watch_status(Output(out=console), report, interval=1, sleep=lambda _: None, rounds=2)
    assert console.export_text().count("Trigger status") == 3

"""Pure audit rules (DDBT1xx) over an observed mapping, and the worst-first order."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ddbtrigger.core.audit import (
    HEALTH_CODES,
    AuditFinding,
    AuditReport,
    MappingAudit,
    ObservedMapping,
    at_or_above,
    destination_key,
    health_findings,
    is_dynamodb_stream,
    ordered_findings,
    sort_audits,
    stream_table_name,
)

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders-dlq"
HEALTHY = ObservedMapping(
    account="123456789012",
    region="us-east-1",
    uuid="u-1",
    table="orders",
    function="orders-fn",
    state="Enabled",
    event_source_arn=STREAM,
    last_processing_result="OK",
    table_present=True,
    stream_enabled=True,
    latest_stream_arn=STREAM,
    function_present=True,
    destination_arn=QUEUE,
    destination_present=True,
    failures_waiting=0,
    iterator_age_ms=1000.0,
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({}, []),
        ({"function_present": False}, [("DDBT101", "error")]),
        ({"table_present": False, "stream_enabled": None}, [("DDBT102", "error")]),
        ({"stream_enabled": False}, [("DDBT103", "error")]),
        ({"latest_stream_arn": STREAM + "9"}, [("DDBT104", "error")]),
        ({"destination_present": False, "failures_waiting": None}, [("DDBT105", "error")]),
        ({"failures_waiting": 1}, [("DDBT106", "warning")]),
        ({"last_processing_result": "PROBLEM: Function call failed"}, [("DDBT107", "error")]),
        ({"state": "Disabled"}, [("DDBT108", "warning")]),
        ({"state": "Updating"}, [("DDBT108", "info")]),
        ({"iterator_age_ms": 3_600_000.0}, [("DDBT109", "warning")]),
        ({"iterator_age_ms": 12 * 3_600_000.0}, [("DDBT109", "error")]),
        # unknown is never a finding: unreadable facts are not guessed
        (
            {
                "function_present": None,
                "table_present": None,
                "stream_enabled": None,
                "latest_stream_arn": None,
                "destination_present": None,
                "failures_waiting": None,
                "iterator_age_ms": None,
            },
            [],
        ),
        ({"destination_arn": None, "destination_present": None, "failures_waiting": None}, []),
    ],
)
def test_health_rules(change: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    found = [(f.code, f.level) for f in health_findings(replace(HEALTHY, **change))]
    assert found == expected
    assert all(code in HEALTH_CODES for code, _ in found)


def test_table_gone_says_nothing_of_its_stream() -> None:
    gone = replace(HEALTHY, table_present=False, stream_enabled=False, latest_stream_arn=None)
    assert [f.code for f in health_findings(gone)] == ["DDBT102"]


def test_stream_arns() -> None:
    assert is_dynamodb_stream(STREAM)
    assert not is_dynamodb_stream("arn:aws:kinesis:us-east-1:123456789012:stream/orders")
    assert not is_dynamodb_stream("arn:aws:sqs:us-east-1:123456789012:queue")
    assert not is_dynamodb_stream("arn:aws:dynamodb:us-east-1:123456789012:table/orders")
    assert stream_table_name(STREAM) == "orders"


def audit(uuid: str, *levels: str, table: str = "t") -> MappingAudit:
    findings = tuple(AuditFinding(f"DDBT00{i}", level, "m") for i, level in enumerate(levels))  # type: ignore[arg-type]
    return MappingAudit(replace(HEALTHY, uuid=uuid, table=table), findings)


def test_sort_worst_first_then_most_findings_then_name() -> None:
    audits = [
        audit("ok"),
        audit("info", "info"),
        audit("warn", "warning", "info"),
        audit("err-1", "error", table="b"),
        audit("err-2", "error", "error"),
        audit("err-3", "error", table="a"),
    ]
    assert [a.observed.uuid for a in sort_audits(audits)] == ["err-2", "err-3", "err-1", "warn", "info", "ok"]


def test_findings_ordered_by_level_then_code() -> None:
    found = ordered_findings(
        [
            AuditFinding("DDBT005", "info", ""),
            AuditFinding("DDBT101", "error", ""),
            AuditFinding("DDBT004", "warning", ""),
            AuditFinding("DDBT001", "error", ""),
        ]
    )
    assert [f.code for f in found] == ["DDBT001", "DDBT101", "DDBT004", "DDBT005"]


@pytest.mark.parametrize(
    ("levels", "fail_on", "fails"),
    [
        (("info",), "error", False),
        (("info",), "warning", False),
        (("info",), "info", True),
        (("warning",), "error", False),
        (("warning",), "warning", True),
        (("error",), "error", True),
        ((), "info", False),
    ],
)
def test_fail_on(levels: tuple[str, ...], fail_on: Any, fails: bool) -> None:
    assert at_or_above([audit("x", *levels)], fail_on) is fails


def test_summary_counts_a_shared_queue_once_and_each_s3_mapping_apart() -> None:
    bucket = "arn:aws:s3:::failures"
    shared = [replace(HEALTHY, uuid=u, failures_waiting=3) for u in ("a", "b")]
    s3 = [replace(HEALTHY, uuid=u, destination_arn=bucket, failures_waiting=2) for u in ("c", "d")]
    report = AuditReport(
        tuple(MappingAudit(m, (AuditFinding("DDBT106", "warning", "m"),)) for m in shared + s3)
    )
    summary = report.summary()
    assert summary["failures_waiting"] == 3 + 2 + 2
    assert summary["warnings"] == 4 and summary["mappings"] == 4
    assert destination_key(QUEUE, "a") == destination_key(QUEUE, "b")
    assert destination_key(bucket, "c") != destination_key(bucket, "d")


def test_json_shape() -> None:
    doc = AuditReport((audit("x", "error"),)).as_json()
    assert set(doc) == {"mappings", "summary", "unreadable"}
    assert set(doc["mappings"][0]) == {
        "account",
        "region",
        "uuid",
        "table",
        "function",
        "state",
        "findings",
        "impact",
        "failures_waiting",
    }

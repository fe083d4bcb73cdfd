"""Redrive bookkeeping: order, the per-shard rule, judging an invoke response, the report."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from ddbtrigger.core.redrive import (
    EXPIRED_DROPPED,
    KEPT_LOCAL,
    Decision,
    FailureResult,
    InvokeResponse,
    RedriveReport,
    ShardKey,
    ShardLedger,
    Status,
    Verdict,
    decide,
    judge,
    plan_shards,
)

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-01-01T00:00:00.000"
NEW_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2024-02-01T00:00:00.000"


@dataclass(frozen=True)
class F:
    id: str
    shard_id: str
    start_sequence_number: str
    end_sequence_number: str
    stream_arn: str = ARN


def ids(work: list) -> list[list[str]]:
    return [[f.id for f in w.failures] for w in work]


def test_failures_grouped_by_shard_sorted_by_integer_sequence_number() -> None:
    failures = [
        F("b", "s1", "1000", "1000"),
        F("a", "s1", "999", "1001"),
        F("c", "s2", "5", "6"),
        F("d", "s1", "20000", "20010"),
    ]
    work = plan_shards(failures)
    assert [w.key.shard_id for w in work] == ["s1", "s2"]
    # "999" < "1000" < "20000" as integers (a string sort would put "1000" first).
    assert ids(work) == [["a", "b", "d"], ["c"]]


def test_parent_shards_come_first_and_children_wait_for_them() -> None:
    failures = [
        F("child", "a-child", "50", "60"),
        F("parent", "z-parent", "10", "20"),
        F("grandchild", "b-grandchild", "70", "80"),
        F("other", "c-other", "1", "2"),
    ]
    parents = {ShardKey(ARN, "a-child"): "z-parent", ShardKey(ARN, "b-grandchild"): "a-child"}
    work = plan_shards(failures, parents=parents)
    order = [w.key.shard_id for w in work]
    assert order.index("z-parent") < order.index("a-child") < order.index("b-grandchild")
    after = {w.key.shard_id: (w.after.shard_id if w.after else None) for w in work}
    assert after == {"z-parent": None, "a-child": "z-parent", "b-grandchild": "a-child", "c-other": None}


def test_a_child_waits_for_its_nearest_ancestor_with_failures() -> None:
    failures = [F("gc", "gc", "70", "80"), F("gp", "gp", "1", "2")]
    parents = {ShardKey(ARN, "gc"): "mid", ShardKey(ARN, "mid"): "gp"}
    work = plan_shards(failures, parents=parents)
    assert [w.key.shard_id for w in work] == ["gp", "gc"]
    assert work[1].after == ShardKey(ARN, "gp")


def test_lineage_cycles_do_not_hang() -> None:
    parents = {ShardKey(ARN, "x"): "y", ShardKey(ARN, "y"): "x"}
    work = plan_shards([F("1", "x", "1", "1"), F("2", "y", "2", "2")], parents=parents)
    assert sorted(w.key.shard_id for w in work) == ["x", "y"]


def test_older_stream_first_and_same_shard_id_in_two_streams_kept_apart() -> None:
    work = plan_shards([F("new", "s", "1", "1", NEW_ARN), F("old", "s", "9", "9", ARN)])
    assert ids(work) == [["old"], ["new"]]


def test_max_keeps_the_first_failures_in_order() -> None:
    failures = [F(str(i), "s1", str(100 - i), str(100 - i)) for i in range(5)] + [F("x", "s2", "1", "1")]
    work = plan_shards(failures, limit=3)
    assert ids(work) == [["4", "3", "2"]]
    assert plan_shards(failures, limit=0) == []
    assert sum(len(w.failures) for w in plan_shards(failures, limit=6)) == 6


def test_ledger_blocks_after_a_failure_unless_keep_going() -> None:
    ledger = ShardLedger()
    assert ledger.gate() is None
    ledger.note("f1", Status.REDRIVEN)
    ledger.note("f2", Status.EXPIRED)
    assert ledger.gate() is None
    ledger.note("f3", Status.FAILED)
    ledger.note("f4", Status.FAILED)
    reason = ledger.gate()
    assert reason is not None and "f3" in reason and "--keep-going" in reason
    going = ShardLedger(keep_going=True)
    going.note("f3", Status.FAILED)
    going.block("parent")
    assert going.gate() is None


def resp(
    payload: object = None, *, error: str | None = None, status: int = 200, raw: bytes | None = None
) -> InvokeResponse:
    body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
    return InvokeResponse(status, error, body)


def test_function_error_fails_even_with_status_200() -> None:
    verdict = judge(resp({"errorMessage": "poison", "errorType": "ValueError"}, error="Unhandled"))
    assert not verdict.delivered
    assert verdict.error == "function error (Unhandled): ValueError: poison"


@pytest.mark.parametrize(
    "payload", [None, "null", {}, {"batchItemFailures": []}, {"batchItemFailures": None}, "ok", [1, 2], 3]
)
def test_success_shapes_are_delivered(payload: object) -> None:
    response = resp(raw=b"null") if payload == "null" else resp(payload)
    assert judge(response) == Verdict(True)


def test_batch_item_failures_fail_with_their_sequence_numbers() -> None:
    verdict = judge(
        resp({"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "25"}]}),
        sequence_numbers={"25", "300"},
    )
    assert not verdict.delivered
    assert verdict.failed_items == ("300", "25")
    assert verdict.error is not None and "2 failed record(s)" in verdict.error and "first 25" in verdict.error


@pytest.mark.parametrize("items", ["x", [{}], [{"itemIdentifier": ""}], [{"itemIdentifier": 5}], ["25"]])
def test_malformed_batch_item_failures_fail_the_whole_batch(items: object) -> None:
    verdict = judge(resp({"batchItemFailures": items}))
    assert not verdict.delivered and verdict.error is not None and "malformed" in verdict.error


def test_unknown_item_identifier_is_a_failure_and_said_so() -> None:
    verdict = judge(resp({"batchItemFailures": [{"itemIdentifier": "7"}]}), sequence_numbers={"1"})
    assert not verdict.delivered and "not in the batch" in (verdict.error or "")


def test_non_json_payload_and_bad_status_fail() -> None:
    assert not judge(resp(raw=b"<html>")).delivered
    assert judge(resp({}, status=500)).error == "invoke answered status 500"
    long = judge(resp({"errorMessage": "x" * 1000}, error="Unhandled")).error
    assert long is not None and len(long) <= 300


def test_decide_deletes_only_after_delivery() -> None:
    ok, bad = Verdict(True), Verdict(False, "boom")
    assert decide(verdict=ok, expired=False) == Decision(Status.REDRIVEN, True)
    assert decide(verdict=None, expired=False) == Decision(Status.REDRIVEN, True)
    assert decide(verdict=bad, expired=False) == Decision(Status.FAILED, False, "boom")
    assert decide(verdict=ok, expired=False, may_delete=False).delete is False
    assert decide(verdict=ok, expired=False, dry_run=True) == Decision(Status.DRY_RUN, False)
    kept = decide(verdict=None, expired=True)
    assert (kept.status, kept.delete) == (Status.EXPIRED, False)
    dropped = decide(verdict=None, expired=True, drop_expired=True)
    assert (dropped.status, dropped.delete) == (Status.EXPIRED, True)
    local = decide(verdict=None, expired=True, drop_expired=True, may_delete=False)
    assert (local.status, local.delete) == (Status.EXPIRED, False) and "kept" in (local.error or "")
    partial = decide(verdict=bad, expired=True, drop_expired=True)
    assert (partial.status, partial.delete) == (Status.FAILED, False)
    dry = decide(verdict=None, expired=True, drop_expired=True, dry_run=True)
    assert (dry.status, dry.delete) == (Status.EXPIRED, False)


def test_report_json_shape_counts_and_exit_rule() -> None:
    report = RedriveReport(
        (
            FailureResult("m1", "t", Status.REDRIVEN, 3, deleted=True),
            FailureResult("m2", "t", Status.FAILED, 2, "boom"),
            FailureResult("m3", "t", Status.EXPIRED, 0, "gone"),
            FailureResult("m4", "t", Status.MALFORMED, 0, "not JSON"),
            FailureResult("m5", "t", Status.REDRIVEN, 4, deleted=True, extra_records=2),
        )
    )
    doc = report.as_json()
    assert list(doc) == [*DOCUMENTED_KEYS, *NEW_KEYS, "results"]  # documented first, then Milestone 2's
    assert (doc["redriven"], doc["records"], doc["failed"], doc["expired"], doc["malformed"]) == (
        2,
        7,
        1,
        1,
        1,
    )
    assert doc["results"][1] == {
        "id": "m2",
        "trigger": "t",
        "status": "failed",
        "records": 2,
        "error": "boom",
    }
    assert all(set(r) == {"id", "trigger", "status", "records", "error"} for r in doc["results"])
    assert report.left_failing and report.possible_duplicates == 2
    assert not RedriveReport((FailureResult("m", "t", Status.MALFORMED),)).left_failing
    assert not RedriveReport((FailureResult("m", "t", Status.EXPIRED, deleted=True),)).left_failing
    assert RedriveReport((FailureResult("m", "t", Status.EXPIRED),)).left_failing


DOCUMENTED_KEYS = ["redriven", "records", "failed", "expired", "malformed"]
NEW_KEYS = [
    "not_attempted",
    "delivered_kept",
    "dry_run",
    "held",
    "kept",
    "expired_dropped",
    "interrupted",
]
EACH_STATUS = {
    Status.REDRIVEN: "redriven",
    Status.FAILED: "failed",
    Status.EXPIRED: "expired",
    Status.MALFORMED: "malformed",
    Status.NOT_ATTEMPTED: "not_attempted",
    Status.DELIVERED_KEPT: "delivered_kept",
    Status.DRY_RUN: "dry_run",
}


def test_counts_add_up_one_failure_and_four_not_attempted_is_not_failed_5() -> None:
    report = RedriveReport(
        (
            FailureResult("a", "t", Status.FAILED, 1, "boom"),
            *(FailureResult(f"b{i}", "t", Status.NOT_ATTEMPTED, 0, "not attempted: ...") for i in range(4)),
        ),
        held=2,
    )
    doc = report.as_json()
    assert (doc["failed"], doc["not_attempted"], doc["held"], doc["kept"]) == (1, 4, 2, 5)
    assert sum(doc[key] for key in EACH_STATUS.values()) == len(doc["results"])
    assert report.left_failing


def test_every_status_has_its_own_count() -> None:
    report = RedriveReport(tuple(FailureResult(s.value, "t", s) for s in Status))
    doc = report.as_json()
    assert set(EACH_STATUS) == set(Status)
    assert all(doc[key] == 1 for key in EACH_STATUS.values())


def test_a_local_handler_without_delete_is_delivered_kept_not_redriven() -> None:
    decision = decide(verdict=Verdict(True), expired=False, may_delete=False)
    assert decision == Decision(Status.DELIVERED_KEPT, False, KEPT_LOCAL)
    report = RedriveReport((FailureResult("a", "t", decision.status, 1, decision.error),))
    assert report.as_json()["redriven"] == 0 and not report.left_failing


def test_dropped_expired_are_counted_and_not_left_failing() -> None:
    report = RedriveReport((FailureResult("a", "t", Status.EXPIRED, 0, EXPIRED_DROPPED, deleted=True),))
    assert report.as_json()["expired_dropped"] == 1 and report.kept == 0 and not report.left_failing

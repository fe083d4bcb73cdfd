"""The redrive flow against an in-memory gateway: order, blocking, deletes only after delivery."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from ddbtrigger.core.failures import Failure, Malformed
from ddbtrigger.core.redrive import FailureResult, Fetched, InvokeResponse, ShardKey, Status
from ddbtrigger.errors import AccessDenied, AwsError, NotFound, UsageError
from ddbtrigger.runtime.local_lambda import invoke_local
from ddbtrigger.usecases.redrive import RedriveOptions, TriggerFailures, redrive

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def stream_record(seq: int, *, name: str = "INSERT", status: str = "new") -> dict[str, Any]:
    return {
        "eventID": f"ev{seq}",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": T0,
            "Keys": {"pk": {"S": f"k{seq}"}},
            "NewImage": {"pk": {"S": f"k{seq}"}, "status": {"S": status}},
            "SequenceNumber": str(seq),
            "SizeBytes": 10,
            "StreamViewType": "NEW_IMAGE",
        },
    }


def failure(fid: str, shard: str, start: int, end: int, *, records: Any = None) -> Failure:
    return Failure(
        id=fid,
        source="sqs" if records is None else "s3",
        shard_id=shard,
        start_sequence_number=str(start),
        end_sequence_number=str(end),
        batch_size=end - start + 1,
        stream_arn=ARN,
        approximate_arrival_of_first_record=T0,
        approximate_arrival_of_last_record=T0,
        condition="RetryAttemptsExhausted",
        approximate_invoke_count=4,
        function_arn="arn:aws:lambda:us-east-1:1:function:fn",
        request_id="r",
        records=records,
    )


class FakeGateway:
    """Records per shard; a handler as the function; deletions and calls logged."""

    def __init__(
        self,
        handler: Any,
        *,
        trimmed: set[int] | None = None,
        extra: int = 0,
        parents: Mapping[ShardKey, str | None] | None = None,
    ) -> None:
        self.handler = handler
        self.trimmed = trimmed or set()
        self.extra = extra
        self.parents = dict(parents or {})
        self.deleted: list[str] = []
        self.delivered: list[list[str]] = []
        self.fetches: list[str] = []
        self.flushed = 0
        self.lock = threading.Lock()
        self.active: dict[str, int] = {}
        self.max_active_per_shard = 0
        self.max_active = 0

    def shard_parents(self, stream_arns: set[str]) -> Mapping[ShardKey, str | None]:
        return self.parents

    def fetch(self, f: Failure) -> Fetched:
        with self.lock:
            self.fetches.append(f.id)
            self.active[f.shard_id] = self.active.get(f.shard_id, 0) + 1
            self.max_active_per_shard = max(self.max_active_per_shard, self.active[f.shard_id])
            self.max_active = max(self.max_active, sum(self.active.values()))
        time.sleep(0.01)
        with self.lock:
            self.active[f.shard_id] -= 1
        seqs = range(int(f.start_sequence_number), int(f.end_sequence_number) + 1)
        return Fetched(
            [stream_record(s) for s in seqs if s not in self.trimmed],
            expired=any(s in self.trimmed for s in seqs),
            extra=self.extra,
        )

    def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse:
        with self.lock:
            self.delivered.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        return invoke_local(self.handler, event, function_name=function)

    def delete(self, trigger: str, f: Failure) -> None:
        with self.lock:
            self.deleted.append(f.id)

    def flush(self) -> None:
        self.flushed += 1


def poison(*bad: int) -> Any:
    def handler(event: dict[str, Any], context: Any) -> None:
        for r in event["Records"]:
            if int(r["dynamodb"]["SequenceNumber"]) in bad:
                raise ValueError(f"poison {r['dynamodb']['SequenceNumber']}")

    return handler


def ok(event: dict[str, Any], context: Any) -> None:
    return None


def found(
    *failures: Failure, malformed: tuple[Malformed, ...] = (), filters: Any = ()
) -> list[TriggerFailures]:
    return [TriggerFailures("orders-audit", "orders-fn", list(filters), list(failures), malformed)]


def by_id(report: Any) -> dict[str, FailureResult]:
    return {r.id: r for r in report.results}


def test_all_delivered_are_deleted_in_order_with_the_lambda_event_shape() -> None:
    gw = FakeGateway(ok)
    report = redrive(found(failure("b", "s1", 20, 22), failure("a", "s1", 10, 11)), gw, RedriveOptions())
    assert [r.id for r in report.results] == ["a", "b"]
    assert gw.delivered == [["10", "11"], ["20", "21", "22"]]
    assert gw.deleted == ["a", "b"] and gw.flushed == 1
    assert report.as_json()["redriven"] == 2 and report.as_json()["records"] == 5
    assert not report.left_failing


def test_a_failure_that_still_fails_blocks_its_shard_but_not_others() -> None:
    gw = FakeGateway(poison(11))
    report = redrive(
        found(failure("a", "s1", 10, 11), failure("b", "s1", 20, 21), failure("c", "s2", 5, 6)),
        gw,
        RedriveOptions(concurrency=2),
    )
    results = by_id(report)
    assert results["a"].status is Status.FAILED and "poison 11" in (results["a"].error or "")
    assert results["b"].status is Status.NOT_ATTEMPTED and "not attempted" in (results["b"].error or "")
    assert results["c"].status is Status.REDRIVEN
    assert sorted(gw.deleted) == ["c"]
    assert "b" not in gw.fetches  # the blocked failure was not even read
    assert report.left_failing


def test_keep_going_tries_the_later_failures() -> None:
    gw = FakeGateway(poison(11))
    report = redrive(
        found(failure("a", "s1", 10, 11), failure("b", "s1", 20, 21)), gw, RedriveOptions(keep_going=True)
    )
    assert by_id(report)["b"].status is Status.REDRIVEN and gw.deleted == ["b"]


def test_batch_item_failures_keep_the_failure() -> None:
    def partial(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][-1]["dynamodb"]["SequenceNumber"]}]}

    gw = FakeGateway(partial)
    report = redrive(found(failure("a", "s1", 10, 12)), gw, RedriveOptions())
    assert by_id(report)["a"].status is Status.FAILED and gw.deleted == []
    assert "batchItemFailures" in (by_id(report)["a"].error or "")


def test_expired_records_are_kept_unless_drop_expired() -> None:
    gw = FakeGateway(ok, trimmed={10})
    report = redrive(found(failure("a", "s1", 10, 11), failure("b", "s1", 20, 20)), gw, RedriveOptions())
    results = by_id(report)
    assert results["a"].status is Status.EXPIRED and gw.deleted == ["b"]
    assert gw.delivered == [["20"]]  # expired records are not sent while the failure is kept
    assert report.left_failing and report.as_json()["expired"] == 1

    gw = FakeGateway(ok, trimmed={10})
    report = redrive(found(failure("a", "s1", 10, 11)), gw, RedriveOptions(drop_expired=True))
    assert by_id(report)["a"].status is Status.EXPIRED and gw.deleted == ["a"]
    assert gw.delivered == [["11"]]  # what remained was delivered before the drop
    assert not report.left_failing


def test_dry_run_invokes_and_deletes_nothing() -> None:
    gw = FakeGateway(poison(10))
    report = redrive(
        found(failure("a", "s1", 10, 11), failure("b", "s1", 20, 21)), gw, RedriveOptions(dry_run=True)
    )
    assert [r.status for r in report.results] == [Status.DRY_RUN, Status.DRY_RUN]
    assert [r.records for r in report.results] == [2, 2]
    assert gw.delivered == [] and gw.deleted == []


def test_filters_drop_records_like_lambda_and_a_fully_filtered_failure_is_done() -> None:
    gw = FakeGateway(ok)
    modify_only = [{"eventName": ["MODIFY"]}]
    report = redrive(found(failure("a", "s1", 10, 11), filters=modify_only), gw, RedriveOptions())
    assert gw.delivered == [] and gw.deleted == ["a"]
    assert by_id(report)["a"].status is Status.REDRIVEN and by_id(report)["a"].records == 0


def test_bad_filter_pattern_is_a_usage_error_before_anything_runs() -> None:
    gw = FakeGateway(ok)
    with pytest.raises(UsageError, match="filter"):
        redrive(found(failure("a", "s1", 10, 11), filters=["not json"]), gw, RedriveOptions())
    assert gw.fetches == []


def test_s3_failures_use_their_own_records_without_reading_the_stream() -> None:
    gw = FakeGateway(ok)
    records = (
        {
            **stream_record(10),
            "eventSourceARN": ARN,
            "dynamodb": {**stream_record(10)["dynamodb"], "ApproximateCreationDateTime": 1704067200},
        },
    )
    report = redrive(found(failure("k", "s1", 10, 10, records=records)), gw, RedriveOptions())
    assert gw.fetches == [] and gw.delivered == [["10"]] and gw.deleted == ["k"]
    assert by_id(report)["k"].status is Status.REDRIVEN


def test_max_limits_the_failures_touched() -> None:
    gw = FakeGateway(ok)
    report = redrive(
        found(*(failure(str(i), "s1", i * 10, i * 10) for i in range(1, 6))),
        gw,
        RedriveOptions(max_failures=2),
    )
    assert [r.id for r in report.results] == ["1", "2"] and gw.deleted == ["1", "2"]


def test_malformed_are_counted_and_kept() -> None:
    gw = FakeGateway(ok)
    report = redrive(found(malformed=(Malformed("m1", "not JSON"),)), gw, RedriveOptions())
    assert report.as_json()["malformed"] == 1 and gw.deleted == []
    assert report.results[0].as_json() == {
        "id": "m1",
        "trigger": "orders-audit",
        "status": "malformed",
        "records": 0,
        "error": "not JSON",
    }
    assert not report.left_failing


def test_extra_records_in_the_range_are_reported() -> None:
    gw = FakeGateway(ok, extra=2)
    report = redrive(found(failure("a", "s1", 10, 11)), gw, RedriveOptions())
    result = by_id(report)["a"]
    assert result.status is Status.REDRIVEN and result.extra_records == 2
    assert "2 record(s) beyond the batch" in (result.error or "")
    assert report.possible_duplicates == 2


def test_local_handler_keeps_failures_unless_delete_on_success() -> None:
    gw = FakeGateway(ok)
    report = redrive(found(failure("a", "s1", 10, 11)), gw, RedriveOptions(handler="x:y"))
    assert by_id(report)["a"].status is Status.DELIVERED_KEPT and gw.deleted == []
    gw = FakeGateway(ok)
    redrive(found(failure("a", "s1", 10, 11)), gw, RedriveOptions(handler="x:y", delete_on_success=True))
    assert gw.deleted == ["a"]


def test_one_worker_per_shard_and_concurrency_across_shards() -> None:
    gw = FakeGateway(ok)
    failures = [failure(f"{s}-{i}", s, i * 10, i * 10) for s in ("s1", "s2", "s3", "s4") for i in range(1, 4)]
    report = redrive(found(*failures), gw, RedriveOptions(concurrency=4))
    assert gw.max_active_per_shard == 1 and gw.max_active > 1
    assert len(gw.deleted) == 12 and report.as_json()["redriven"] == 12
    for shard in ("s1", "s2", "s3", "s4"):
        assert [d for d in gw.deleted if d.startswith(shard)] == [f"{shard}-1", f"{shard}-2", f"{shard}-3"]


def test_child_shard_waits_for_its_parent_and_inherits_its_block() -> None:
    parents = {ShardKey(ARN, "child"): "parent"}
    gw = FakeGateway(poison(10), parents=parents)
    report = redrive(
        found(failure("c", "child", 50, 51), failure("p", "parent", 10, 11)),
        gw,
        RedriveOptions(concurrency=4),
    )
    results = by_id(report)
    assert results["p"].status is Status.FAILED
    assert results["c"].status is Status.NOT_ATTEMPTED and "not attempted" in (results["c"].error or "")
    assert gw.fetches == ["p"]
    gw = FakeGateway(ok, parents=parents)
    redrive(
        found(failure("c", "child", 50, 51), failure("p", "parent", 10, 11)),
        gw,
        RedriveOptions(concurrency=4),
    )
    assert gw.fetches == ["p", "c"] and gw.deleted == ["p", "c"]


def test_fatal_errors_stop_the_run_and_nothing_undelivered_is_deleted() -> None:
    class Denied(FakeGateway):
        def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse:
            raise AccessDenied("access denied: could not invoke function orders-fn")

    gw = Denied(ok)
    with pytest.raises(AccessDenied):
        redrive(found(failure("a", "s1", 10, 11), failure("b", "s2", 10, 11)), gw, RedriveOptions())
    assert gw.deleted == [] and gw.flushed == 1


def test_missing_function_is_a_usage_error() -> None:
    class Missing(FakeGateway):
        def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse:
            raise NotFound("not found")

    with pytest.raises(UsageError, match="function orders-fn does not exist"):
        redrive(found(failure("a", "s1", 10, 11)), Missing(ok), RedriveOptions())


def test_a_transient_invoke_error_fails_that_failure_only() -> None:
    class Flaky(FakeGateway):
        def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse:
            raise AwsError("could not invoke function orders-fn: ServiceException: try again")

    gw = Flaky(ok)
    report = redrive(found(failure("a", "s1", 10, 11), failure("b", "s2", 10, 11)), gw, RedriveOptions())
    assert [r.status for r in report.results] == [Status.FAILED, Status.FAILED]
    assert "invoke failed" in (report.results[0].error or "") and gw.deleted == []


def test_a_vanished_stream_means_expired() -> None:
    class Gone(FakeGateway):
        def fetch(self, f: Failure) -> Fetched:
            raise NotFound("stream not found")

    report = redrive(found(failure("a", "s1", 10, 11)), Gone(ok), RedriveOptions())
    assert report.results[0].status is Status.EXPIRED


def test_two_triggers_on_one_shard_share_reads_but_not_order() -> None:
    def fails_for_audit(event: dict[str, Any], context: Any) -> None:
        if context.function_name == "audit-fn":
            raise ValueError("audit is broken")

    gw = FakeGateway(fails_for_audit)
    both = [
        TriggerFailures("audit", "audit-fn", [], [failure("a1", "s1", 10, 11), failure("a2", "s1", 30, 31)]),
        TriggerFailures("archive", "archive-fn", [], [failure("b1", "s1", 20, 21)]),
    ]
    report = redrive(both, gw, RedriveOptions(concurrency=2))
    results = by_id(report)
    assert results["a1"].status is Status.FAILED and "not attempted" in (results["a2"].error or "")
    assert results["b1"].status is Status.REDRIVEN and gw.deleted == ["b1"]
    assert gw.max_active_per_shard == 1  # still one reader of the shard


def test_to_function_invokes_another_function() -> None:
    names: list[str] = []

    def record_name(event: dict[str, Any], context: Any) -> None:
        names.append(context.function_name)

    gw = FakeGateway(record_name)
    redrive(found(failure("a", "s1", 10, 11)), gw, RedriveOptions(to_function="parking-fn"))
    assert names == ["parking-fn"] and gw.deleted == ["a"]


def test_an_unsupported_filter_operator_is_a_usage_error_up_front() -> None:
    gw = FakeGateway(ok)
    with pytest.raises(UsageError, match="filter"):
        redrive(
            found(failure("a", "s1", 10, 11), filters=[{"eventName": [{"wildcard": "IN*"}]}]),
            gw,
            RedriveOptions(),
        )
    assert gw.fetches == []

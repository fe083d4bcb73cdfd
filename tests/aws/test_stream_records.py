"""ShardReader: shared, rate-limited reads of sequence ranges; trimming, expiry, throttling; moto round trip."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.stream_records import ShardReader, ShardReaders, describe_shards
from ddbtrigger.errors import AwsError, Throttled
from tests.aws.conftest_botocore import json_response, throttling_response
from tests.helpers import FakeTime, create_table

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
SHARD = "shardId-1"


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "GetRecords")


class FakeStreams:
    """A shard in memory: pages of ``page_size``, optional empty pages, scripted errors, a trim point."""

    def __init__(
        self,
        seqs: list[int],
        *,
        page_size: int = 1000,
        trim_before: int = 0,
        empty_every: int = 0,
        open_shard: bool = True,
    ) -> None:
        self.seqs, self.page_size, self.trim_before = seqs, page_size, trim_before
        self.empty_every, self.open_shard = empty_every, open_shard
        self.errors: list[str] = []
        self.iterator_errors: list[str] = []
        self.get_records_calls = 0
        self.iterator_calls: list[tuple[str, str | None]] = []

    def get_shard_iterator(
        self, *, StreamArn: str, ShardId: str, ShardIteratorType: str, SequenceNumber: str | None = None
    ) -> dict[str, Any]:
        self.iterator_calls.append((ShardIteratorType, SequenceNumber))
        if self.iterator_errors:
            raise _error(self.iterator_errors.pop(0))
        live = [s for s in self.seqs if s >= self.trim_before]
        if ShardIteratorType == "TRIM_HORIZON":
            pos = 0
        else:
            seq = int(SequenceNumber or 0)
            if seq < self.trim_before:
                raise _error("TrimmedDataAccessException")
            after = ShardIteratorType == "AFTER_SEQUENCE_NUMBER"
            pos = next((i for i, s in enumerate(live) if s > seq or (s == seq and not after)), len(live))
        return {"ShardIterator": f"{pos}"}

    def get_records(self, *, ShardIterator: str, Limit: int | None = None) -> dict[str, Any]:
        self.get_records_calls += 1
        if self.errors:
            raise _error(self.errors.pop(0))
        pos = int(ShardIterator.split(":")[0])
        if self.empty_every and self.get_records_calls % self.empty_every == 0:
            return {"Records": [], "NextShardIterator": f"{pos}"}
        live = [s for s in self.seqs if s >= self.trim_before]
        page = live[pos : pos + (Limit or self.page_size)]
        nxt = pos + len(page)
        done = not self.open_shard and nxt >= len(live)
        out: dict[str, Any] = {"Records": [_record(s) for s in page]}
        if not done:
            out["NextShardIterator"] = f"{nxt}"
        return out


def _record(seq: int) -> dict[str, Any]:
    return {
        "eventID": str(seq),
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": str(seq), "Keys": {"pk": {"S": f"k{seq}"}}},
    }


def _seqs(result: Any) -> list[int]:
    return [int(r["dynamodb"]["SequenceNumber"]) for r in result.records]


def reader(client: FakeStreams, **kwargs: Any) -> tuple[ShardReader, FakeTime]:
    t = FakeTime()
    return ShardReader(client, ARN, SHARD, sleep=t.sleep, clock=t.clock, **kwargs), t


def test_neighbouring_failures_share_one_page() -> None:
    # Sequence numbers of different lengths: must compare as integers.
    seqs = [900 + i for i in range(100)] + [10_000 + i for i in range(100)]
    client = FakeStreams(seqs)
    r, _ = reader(client)
    first = r.records_for("950", "999", batch_size=50)
    second = r.records_for("10000", "10009", batch_size=10)
    third = r.records_for("10050", "10050", batch_size=1)
    assert _seqs(first) == list(range(950, 1000))
    assert _seqs(second) == list(range(10_000, 10_010))
    assert _seqs(third) == [10_050]
    assert client.get_records_calls == 1
    assert r.calls == 1
    assert [c[0] for c in client.iterator_calls] == ["AT_SEQUENCE_NUMBER"]


def test_range_spanning_pages_and_empty_pages() -> None:
    client = FakeStreams(list(range(1, 501)), page_size=100, empty_every=3)
    r, _ = reader(client)
    result = r.records_for("50", "420", batch_size=371)
    assert _seqs(result) == list(range(50, 421))
    assert result.complete and not result.expired and result.extra_records == 0


def test_rate_limit_spaces_calls() -> None:
    client = FakeStreams(list(range(1, 401)), page_size=100)
    r, t = reader(client, max_calls_per_second=4.0)
    r.records_for("1", "400", batch_size=400)
    assert client.get_records_calls == 4
    assert t.sleeps == [0.25, 0.25, 0.25]


def test_a_throttle_left_after_botocores_retries_is_our_error_at_once() -> None:
    """Issue 14: the reader does not retry throttles itself (botocore already did, see below)."""
    client = FakeStreams(list(range(1, 11)))
    client.errors = ["LimitExceededException"] * 10
    r, t = reader(client, max_calls_per_second=0)
    with pytest.raises(Throttled, match="read records from shardId-1"):
        r.records_for("3", "5")
    assert client.get_records_calls == 1 and t.sleeps == []


BIG = 10**20  # real sequence numbers and shard ids pass botocore's parameter validation
LONG_SHARD = "shardId-00000001541626099285-f35f62ef"


def _streams_client(
    monkeypatch: pytest.MonkeyPatch, max_attempts: int, throttles: int
) -> tuple[Any, list[str]]:
    """A real botocore client (the factory's retry config) whose first ``throttles`` GetRecords
    attempts are throttled, then a page of records; every attempt botocore sends is counted."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)  # botocore's backoff
    client = ClientFactory(AwsTarget(region="us-east-1", max_attempts=max_attempts)).client("dynamodbstreams")
    attempts: list[str] = []

    def get_records(request: Any, **_: Any) -> Any:
        attempts.append("GetRecords")
        if len(attempts) <= throttles:
            return throttling_response(request, code="LimitExceededException")
        return json_response(
            request, {"Records": [_record(BIG + 3), _record(BIG + 4)], "NextShardIterator": "it"}
        )

    client.meta.events.register("before-send.dynamodbstreams.GetRecords", get_records)
    client.meta.events.register(
        "before-send.dynamodbstreams.GetShardIterator",
        lambda request, **_: json_response(request, {"ShardIterator": "it"}),
    )
    return client, attempts


def test_botocore_retries_a_throttled_read_and_the_reader_adds_none(monkeypatch: pytest.MonkeyPatch) -> None:
    """The factory's retry config is the one retry layer: two throttles, then the page."""
    client, attempts = _streams_client(monkeypatch, 3, throttles=2)
    r = ShardReader(client, ARN, LONG_SHARD, max_calls_per_second=0)
    assert _seqs(r.records_for(str(BIG + 3), str(BIG + 4), batch_size=2)) == [BIG + 3, BIG + 4]
    assert len(attempts) == 3 and r.calls == 1


def test_a_throttle_costs_botocores_attempts_only(monkeypatch: pytest.MonkeyPatch) -> None:
    client, attempts = _streams_client(monkeypatch, 4, throttles=100)
    r = ShardReader(client, ARN, LONG_SHARD, max_calls_per_second=0)
    with pytest.raises(Throttled):
        r.records_for(str(BIG + 3), str(BIG + 4))
    assert len(attempts) == 4  # was 4 x 9 with the reader's own retry loop on top


def test_expired_iterator_takes_a_fresh_one_after_the_last_record() -> None:
    client = FakeStreams(list(range(1, 301)), page_size=100)
    r, _ = reader(client, max_calls_per_second=0)
    client.errors = []
    original = client.get_records

    def expire_second_call(**kwargs: Any) -> dict[str, Any]:
        if client.get_records_calls == 1:
            client.errors = ["ExpiredIteratorException"]
        return original(**kwargs)

    client.get_records = expire_second_call  # type: ignore[method-assign]
    assert _seqs(r.records_for("1", "250")) == list(range(1, 251))
    assert ("AFTER_SEQUENCE_NUMBER", "100") in client.iterator_calls


def test_trimmed_data_is_expired() -> None:
    client = FakeStreams(list(range(1, 101)), trim_before=50)
    r, _ = reader(client)
    result = r.records_for("10", "20", batch_size=11)
    assert result.expired and result.records == []
    assert "TrimmedDataAccessException" in (result.reason or "")
    # The reader recovers for later ranges.
    assert _seqs(r.records_for("60", "61", batch_size=2)) == [60, 61]


def test_fewer_records_than_batch_and_start_behind_trim_point_is_expired() -> None:
    # The iterator does not raise (as some emulators), but the range's start is gone.
    client = FakeStreams(list(range(1, 101)), trim_before=50)
    client.trim_before, client.seqs = 0, [s for s in client.seqs if s >= 50]
    r, _ = reader(client)
    result = r.records_for("45", "55", batch_size=11)
    assert result.expired
    assert _seqs(result) == list(range(50, 56))


def test_fewer_records_but_start_present_is_not_expired() -> None:
    client = FakeStreams([1, 2, 3, 5, 6])
    r, _ = reader(client)
    result = r.records_for("1", "6", batch_size=6)
    assert not result.expired
    assert _seqs(result) == [1, 2, 3, 5, 6]


def test_extra_records_reported() -> None:
    client = FakeStreams(list(range(1, 21)))
    r, _ = reader(client)
    result = r.records_for("5", "14", batch_size=4)
    assert len(result.records) == 10 and result.extra_records == 6


def test_page_budget_marks_incomplete() -> None:
    client = FakeStreams(list(range(1, 1001)), page_size=10)
    r, _ = reader(client, max_calls_per_second=0, page_budget=5)
    result = r.records_for("1", "900")
    assert not result.complete and len(result.records) == 50
    assert "page budget" in (result.reason or "")


def test_range_past_the_end_of_a_closed_shard_is_complete() -> None:
    client = FakeStreams(list(range(1, 11)), open_shard=False)
    r, _ = reader(client)
    result = r.records_for("8", "15")
    assert _seqs(result) == [8, 9, 10] and result.complete


def test_earlier_start_seeks_again() -> None:
    client = FakeStreams(list(range(1, 101)))
    r, _ = reader(client)
    assert _seqs(r.records_for("50", "51")) == [50, 51]
    assert _seqs(r.records_for("10", "11")) == [10, 11]
    assert client.get_records_calls == 2


def test_other_errors_are_translated() -> None:
    client = FakeStreams(list(range(1, 11)))
    client.errors = ["ValidationException"]
    r, _ = reader(client)
    with pytest.raises(AwsError, match="read records from shardId-1"):
        r.records_for("1", "2")


def test_lineage_order_puts_parents_first() -> None:
    shards = [
        {"ShardId": "c", "ParentShardId": "b"},
        {"ShardId": "b", "ParentShardId": "a"},
        {"ShardId": "a", "ParentShardId": "gone"},
        {"ShardId": "d"},
    ]
    from ddbtrigger.core.shards import (
        Shard,
        ordered,
    )  # the one lineage (was aws.stream_records.lineage_order)

    assert [s.shard_id for s in ordered(Shard.from_aws(s) for s in shards)] == ["a", "b", "c", "d"]


def test_describe_shards_pages() -> None:
    class Client:
        def __init__(self) -> None:
            self.calls: list[dict[str, Any]] = []

        def describe_stream(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(kwargs)
            if "ExclusiveStartShardId" not in kwargs:
                return {"StreamDescription": {"Shards": [{"ShardId": "s1"}], "LastEvaluatedShardId": "s1"}}
            return {"StreamDescription": {"Shards": [{"ShardId": "s2"}]}}

    client = Client()
    assert [s["ShardId"] for s in describe_shards(client, ARN)] == ["s1", "s2"]
    assert client.calls[1] == {"StreamArn": ARN, "ExclusiveStartShardId": "s1"}


def test_moto_round_trip(moto_aws: Any) -> None:
    ddb = moto_aws.client("dynamodb")
    stream_arn = create_table(ddb)["LatestStreamArn"]
    for i in range(30):
        ddb.put_item(TableName="orders", Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
    streams = moto_aws.client("dynamodbstreams")
    shard = describe_shards(streams, stream_arn)[0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    written = streams.get_records(ShardIterator=it)["Records"]
    assert len(written) == 30
    r = ShardReader(streams, stream_arn, shard, max_calls_per_second=0)
    seq = [rec["dynamodb"]["SequenceNumber"] for rec in written]
    first = r.records_for(seq[3], seq[7], batch_size=5)
    second = r.records_for(seq[20], seq[20], batch_size=1)
    assert first.records == written[3:8]
    assert second.records == written[20:21]
    assert not first.expired and not second.expired
    assert r.calls == 1


def test_shard_readers_keep_one_reader_per_shard_and_count_every_call() -> None:
    clients: list[str] = []
    fake = FakeStreams(list(range(1, 11)))

    def client_for(stream_arn: str) -> FakeStreams:
        clients.append(stream_arn)
        return fake

    readers = ShardReaders(client_for, max_calls_per_second=0)
    first = readers.get(ARN, SHARD)
    assert readers.get(ARN, SHARD) is first and readers.get(ARN, "shardId-2") is not first
    first.records_for("1", "2")
    readers.get(ARN, "shardId-2").records_for("3", "4")
    assert readers.calls == 2 and clients == [ARN, ARN]

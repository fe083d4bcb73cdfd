"""S3 leases against moto in-process: one holder at a time, expiry by S3's clock, take-over, release,
and the count ``inspect-dlq``/``status`` report as held."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ddbtrigger.aws.destinations.s3 import objects as s3_depth
from ddbtrigger.aws.dlq import S3Scan
from ddbtrigger.aws.s3_leases import LEASE_PREFIX, S3Leases, count_leased, lease_key, server_now

BUCKET = "orders-failures"
KEY = "aws/lambda/uuid/shard-1/2026/12/02/a.json"


@pytest.fixture
def s3(moto_aws: Any) -> Any:
    client = moto_aws.client("s3")
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key=KEY, Body=b"{}")
    return client


def later(seconds: float) -> Any:
    """S3's clock, moved forward (a killed run's lease ages without waiting)."""
    return lambda response: server_now(response) + timedelta(seconds=seconds)


def test_one_holder_at_a_time(s3: Any) -> None:
    first, second = S3Leases(s3, BUCKET, hold_seconds=60), S3Leases(s3, BUCKET, hold_seconds=60)
    assert first.acquire(KEY) and first.owns(KEY)
    assert not second.acquire(KEY) and second.held_elsewhere == 1
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=lease_key(KEY))["Body"].read())
    assert body["owner"] == first.owner and body["failure"] == KEY
    first.release()
    assert second.acquire(KEY)  # released: the next run takes it at once


def test_an_expired_lease_is_taken_over_and_its_old_owner_loses_it(s3: Any) -> None:
    killed = S3Leases(s3, BUCKET, hold_seconds=5)
    assert killed.acquire(KEY)
    assert not S3Leases(s3, BUCKET, hold_seconds=5, now=later(4)).acquire(KEY)  # still live
    rerun = S3Leases(s3, BUCKET, hold_seconds=5, now=later(6))
    assert rerun.acquire(KEY)
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=lease_key(KEY))["Body"].read())["owner"] == rerun.owner
    assert killed.renew_all() == 0 and killed.lost == 1 and not killed.owns(KEY)  # If-Match refused
    assert rerun.renew_all() == 1


def test_renewal_changes_the_etag(s3: Any) -> None:
    leases = S3Leases(s3, BUCKET, hold_seconds=60)
    leases.acquire(KEY)
    before = s3.head_object(Bucket=BUCKET, Key=lease_key(KEY))["ETag"]
    assert leases.renew_all() == 1
    assert s3.head_object(Bucket=BUCKET, Key=lease_key(KEY))["ETag"] != before


def test_count_leased_counts_live_leases_under_the_prefix(s3: Any) -> None:
    other = "elsewhere/x.json"
    s3.put_object(Bucket=BUCKET, Key=other, Body=b"{}")
    leases = S3Leases(s3, BUCKET, hold_seconds=30)
    assert leases.acquire(KEY) and leases.acquire(other)
    assert count_leased(s3, BUCKET) == 2
    assert count_leased(s3, BUCKET, "aws/lambda/") == 1
    assert count_leased(s3, BUCKET, now=later(31)) == 0  # expired leases are not held
    leases.release()
    assert count_leased(s3, BUCKET) == 0


def test_scans_and_depth_ignore_leases_and_skip_held_failures(s3: Any) -> None:
    holder = S3Leases(s3, BUCKET, hold_seconds=60)
    assert holder.acquire(KEY)
    assert s3_depth_count(s3) == 1  # the failure, not its lease
    assert [k for _, k, _ in S3Scan(s3, BUCKET).keys()] == [KEY]  # noqa: SIM118
    with S3Scan(s3, BUCKET, leases=S3Leases(s3, BUCKET, hold_seconds=60)) as scan:
        assert list(scan) == [] and scan.held_elsewhere == 1
    holder.release()
    with S3Scan(s3, BUCKET, leases=S3Leases(s3, BUCKET, hold_seconds=60)) as scan:
        assert [f.id for f in scan] == [KEY] and scan.in_flight == 1
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=LEASE_PREFIX).get("KeyCount") == 0  # released on exit


def test_delete_removes_the_failure_then_its_lease(s3: Any) -> None:
    with S3Scan(s3, BUCKET, leases=S3Leases(s3, BUCKET, hold_seconds=60)) as scan:
        (failure,) = list(scan)
        scan.delete(failure)
        assert scan.in_flight == 0
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


def test_server_now_reads_the_date_header() -> None:
    response = {"ResponseMetadata": {"HTTPHeaders": {"date": "Wed, 02 Dec 2026 10:00:00 GMT"}}}
    assert server_now(response) == datetime(2026, 12, 2, 10, tzinfo=UTC)


def s3_depth_count(s3: Any) -> int:
    class Factory:
        def client(self, name: str) -> Any:
            return s3

    return s3_depth(Factory(), BUCKET).visible  # type: ignore[arg-type]

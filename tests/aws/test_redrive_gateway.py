"""Deletes in batches of ten, only what was asked, with failures reported (botocore Stubber)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.stub import ANY, Stubber

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.dlq import S3Scan
from ddbtrigger.aws.redrive_gateway import BatchDeleter, RedriveSqsScan
from ddbtrigger.core.failures import Failure

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def failure(n: int) -> Failure:
    return Failure(
        id=f"m{n}",
        source="sqs",
        shard_id="s",
        start_sequence_number=str(n),
        end_sequence_number=str(n),
        batch_size=1,
        stream_arn="arn:aws:dynamodb:us-east-1:1:table/t/stream/x",
        receipt_handle=f"old{n}",
        approximate_arrival_of_first_record=T0,
        approximate_arrival_of_last_record=T0,
        condition="RetryAttemptsExhausted",
        approximate_invoke_count=1,
        function_arn="",
        request_id="",
    )


def scan_with_held(n: int) -> tuple[RedriveSqsScan, Any]:
    client = ClientFactory(AwsTarget(region="us-east-1", max_attempts=1)).client("sqs")
    scan = RedriveSqsScan(client, URL)
    for i in range(n):
        scan._hold({"MessageId": f"m{i}", "ReceiptHandle": f"new{i}"})
    return scan, client


def test_ten_deletes_make_one_call_with_the_newest_receipt_handles() -> None:
    scan, client = scan_with_held(12)
    warnings: list[str] = []
    deleter = BatchDeleter(warn=warnings.append, clock=lambda: 0.0)
    with Stubber(client) as stub:
        stub.add_response(
            "delete_message_batch",
            {"Successful": [{"Id": str(i)} for i in range(10)], "Failed": []},
            {"QueueUrl": URL, "Entries": [{"Id": str(i), "ReceiptHandle": f"new{i}"} for i in range(10)]},
        )
        for i in range(10):
            deleter.add(scan, failure(i))
        stub.assert_no_pending_responses()
        stub.add_response(
            "delete_message_batch",
            {
                "Successful": [{"Id": "0"}],
                "Failed": [{"Id": "1", "SenderFault": True, "Code": "ReceiptHandleIsInvalid"}],
            },
            {"QueueUrl": URL, "Entries": ANY},
        )
        deleter.add(scan, failure(10))
        deleter.add(scan, failure(11))
        deleter.flush()
        stub.assert_no_pending_responses()
    assert deleter.deleted == 11 and deleter.not_deleted == ["m11"]
    assert scan.in_flight == 1  # deleted ones are no longer held (nothing to release for them)
    assert len(warnings) == 1 and "1 delivered failure(s) could not be deleted" in warnings[0]


def test_a_pending_delete_goes_out_after_the_wait_even_below_ten() -> None:
    scan, client = scan_with_held(2)
    now = [0.0]
    deleter = BatchDeleter(warn=lambda _: None, clock=lambda: now[0], max_wait=2.0)
    with Stubber(client) as stub:
        stub.add_response(
            "delete_message_batch",
            {"Successful": [{"Id": "0"}, {"Id": "1"}], "Failed": []},
            {"QueueUrl": URL, "Entries": ANY},
        )
        deleter.add(scan, failure(0))
        now[0] = 3.0
        deleter.add(scan, failure(1))
        stub.assert_no_pending_responses()
    assert deleter.deleted == 2


def test_a_failed_batch_call_is_reported_and_nothing_is_counted_deleted() -> None:
    scan, client = scan_with_held(1)
    warnings: list[str] = []
    deleter = BatchDeleter(warn=warnings.append)
    with Stubber(client) as stub:
        stub.add_client_error("delete_message_batch", "AccessDenied", "no", http_status_code=403)
        deleter.add(scan, failure(0))
        deleter.flush()
    assert deleter.deleted == 0 and deleter.not_deleted == ["m0"] and "access denied" in warnings[0]
    assert scan.in_flight == 1  # still held, so it is released (visible again) at the end


def test_s3_objects_are_deleted_in_one_call() -> None:
    client = ClientFactory(AwsTarget(region="us-east-1", max_attempts=1)).client("s3")
    scan = S3Scan(client, "bucket", "failures/")
    deleter = BatchDeleter(warn=lambda _: None)
    with Stubber(client) as stub:
        stub.add_response(
            "delete_objects",
            {"Deleted": [{"Key": "m0"}], "Errors": [{"Key": "m1", "Code": "X"}]},
            {"Bucket": "bucket", "Delete": {"Objects": [{"Key": "m0"}, {"Key": "m1"}], "Quiet": True}},
        )
        deleter.add(scan, failure(0))
        deleter.add(scan, failure(1))
        deleter.flush()
        stub.assert_no_pending_responses()
    assert deleter.deleted == 1 and deleter.not_deleted == ["m1"]

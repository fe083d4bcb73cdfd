"""status_reads with botocore's Stubber: exact parameters, paging, and metrics that never raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import ANY, Stubber

from ddbtrigger.aws.destinations.s3 import objects as s3_depth
from ddbtrigger.aws.destinations.sqs import queue_depth as sqs_depth
from ddbtrigger.aws.status_reads import iterator_age_queries, oldest_message_query, read_metrics

NOW = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)


class OneClient:
    """A factory look-alike handing out one stubbed client."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def client(self, service: str) -> Any:
        return self._client


def client(service: str) -> Any:
    return boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1").client(
        service
    )


def test_s3_depth_pages_and_skips_folder_markers() -> None:
    s3 = client("s3")
    older, newer = NOW - timedelta(hours=3), NOW - timedelta(hours=1)
    with Stubber(s3) as stub:
        stub.add_response(
            "list_objects_v2",
            {
                "Contents": [{"Key": "f/a", "LastModified": newer}, {"Key": "f/", "LastModified": older}],
                "IsTruncated": True,
                "NextContinuationToken": "t1",
            },
            {"Bucket": "b", "Prefix": "f/"},
        )
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": "f/b", "LastModified": older}], "IsTruncated": False},
            {"Bucket": "b", "Prefix": "f/", "ContinuationToken": "t1"},
        )
        depth = s3_depth(OneClient(s3), "b", "f/")  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    assert depth.total == 2 and depth.in_flight is None
    assert depth.oldest_at == older


def test_sqs_depth_reads_attributes_only() -> None:
    sqs = client("sqs")
    with Stubber(sqs) as stub:
        stub.add_response(
            "get_queue_attributes",
            {
                "Attributes": {
                    "ApproximateNumberOfMessages": "4",
                    "ApproximateNumberOfMessagesNotVisible": "2",
                }
            },
            {
                "QueueUrl": "https://q",
                "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            },
        )
        depth = sqs_depth(OneClient(sqs), "https://q")  # type: ignore[arg-type]
    assert (depth.visible, depth.in_flight, depth.total) == (4, 2, 6)


def test_metrics_are_one_call_and_missing_or_denied_read_as_none() -> None:
    cloudwatch = client("cloudwatch")
    queries = [
        *iterator_age_queries("0", "arn:aws:lambda:us-east-1:1:function:fn:live", "u-1"),
        oldest_message_query("0/oldest", "dlq"),
        *iterator_age_queries("1", "other", None),
    ]
    assert [q.dimensions for q in queries[:2]] == [
        (("EventSourceMappingUUID", "u-1"),),
        (("FunctionName", "fn"),),
    ]
    with Stubber(cloudwatch) as stub:
        stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {
                        "Id": "q0",
                        "Values": [5.0, 9.0, 7.0],
                        "Timestamps": [NOW, NOW - timedelta(minutes=1), NOW - timedelta(minutes=2)],
                    },
                    {"Id": "q2", "Values": [100.0, 900.0], "Timestamps": [NOW, NOW - timedelta(minutes=5)]},
                    {"Id": "q3", "Values": [], "Timestamps": []},
                ]
            },
            {"MetricDataQueries": ANY, "StartTime": NOW - timedelta(minutes=15), "EndTime": NOW},
        )
        values = read_metrics(OneClient(cloudwatch), queries, now=NOW)  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    assert values == {"0/esm": 9.0, "0/fn": None, "0/oldest": 100.0, "1/fn": None}
    with Stubber(cloudwatch) as stub:
        stub.add_client_error("get_metric_data", "AccessDenied", http_status_code=403)
        denied = read_metrics(OneClient(cloudwatch), queries, now=NOW)  # type: ignore[arg-type]
    assert set(denied.values()) == {None}


def test_depth_reuses_an_earlier_all_attributes_answer_and_stops_listening() -> None:
    from ddbtrigger.aws.destinations.sqs import QueueAttributeTap

    sqs = client("sqs")
    factory = OneClient(sqs)
    full = {
        "QueueArn": "arn:q",
        "ApproximateNumberOfMessages": "3",
        "ApproximateNumberOfMessagesNotVisible": "1",
    }
    with Stubber(sqs) as stub:
        stub.add_response(
            "get_queue_attributes", {"Attributes": full}, {"QueueUrl": "https://q", "AttributeNames": ["All"]}
        )
        stub.add_response(
            "get_queue_attributes",
            {"Attributes": {"QueueArn": "arn:o"}},
            {"QueueUrl": "https://o", "AttributeNames": ["QueueArn"]},
        )
        stub.add_response(
            "get_queue_attributes",
            {
                "Attributes": {
                    "ApproximateNumberOfMessages": "0",
                    "ApproximateNumberOfMessagesNotVisible": "0",
                }
            },
            {"QueueUrl": "https://o", "AttributeNames": ANY},
        )
        with QueueAttributeTap(factory) as seen:  # type: ignore[arg-type]
            sqs.get_queue_attributes(QueueUrl="https://q", AttributeNames=["All"])  # as read_live does
            sqs.get_queue_attributes(QueueUrl="https://o", AttributeNames=["QueueArn"])  # no counts in it
            assert sqs_depth(factory, "https://q", seen=seen).total == 4  # type: ignore[arg-type]
            assert sqs_depth(factory, "https://o", seen=seen).total == 0  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
        stub.add_response(
            "get_queue_attributes", {"Attributes": full}, {"QueueUrl": "https://z", "AttributeNames": ["All"]}
        )
        sqs.get_queue_attributes(QueueUrl="https://z", AttributeNames=["All"])
    assert seen.get("https://z") is None and seen.get("https://q") is not None

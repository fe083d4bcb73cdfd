"""One adapter per destination type: one meaning of depth (waiting + held), the same for destroy and
status (``depth_of``), against moto."""

from __future__ import annotations

from typing import Any

from ddbtrigger.aws.destinations import adapter_for, depth_of, locate
from ddbtrigger.aws.s3_leases import S3Leases
from ddbtrigger.core.desired import ArnContext
from ddbtrigger.core.spec import OnFailureSpec


def on_failure(type_: str, **fields: Any) -> OnFailureSpec:
    return OnFailureSpec.model_validate({"type": type_, **fields})


def read(moto_aws: Any, spec: OnFailureSpec) -> Any:
    from ddbtrigger.aws.destinations import read_destination

    return read_destination(moto_aws, spec, ArnContext("aws", moto_aws.region, "123456789012"))


def test_sqs_depth_is_visible_plus_held(moto_aws: Any) -> None:
    sqs = moto_aws.client("sqs")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(n))
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=300)
    spec = on_failure("sqs", name="dlq")
    depth = depth_of(moto_aws, read(moto_aws, spec), spec)
    assert depth is not None and (depth.visible, depth.in_flight, depth.total) == (2, 1, 3)
    assert adapter_for("sqs", moto_aws).held(locate(moto_aws, spec)).count == 1


def test_s3_depth_counts_every_page_and_a_leased_failure_as_held(moto_aws: Any) -> None:
    s3 = moto_aws.client("s3")
    s3.create_bucket(Bucket="failures")
    s3.put_object(Bucket="failures", Key="aws/lambda/", Body=b"")  # a folder marker: not a failure
    for n in range(1003):  # more than one listing page
        s3.put_object(Bucket="failures", Key=f"aws/lambda/f{n:04d}", Body=b"{}")
    assert S3Leases(s3, "failures", hold_seconds=60).acquire("aws/lambda/f0000")
    spec = on_failure("s3", name="failures")
    depth = depth_of(moto_aws, read(moto_aws, spec), spec)
    assert depth is not None and (depth.visible, depth.in_flight, depth.total) == (1002, 1, 1003)


def test_a_topic_without_inspect_queue_has_no_depth(moto_aws: Any) -> None:
    moto_aws.client("sns").create_topic(Name="topic")
    spec = on_failure("sns", name="topic")
    assert depth_of(moto_aws, read(moto_aws, spec), spec) is None

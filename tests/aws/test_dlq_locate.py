"""Locating failure destinations (sqs/sns/s3, by name or ARN) against moto."""

from __future__ import annotations

from typing import Any

import pytest

from ddbtrigger.aws.destinations import locate as resolve_destination
from ddbtrigger.aws.destinations.base import account_id
from ddbtrigger.core.spec import OnFailureSpec
from ddbtrigger.errors import NotFound


def OnFailure(type: str, **fields: Any) -> OnFailureSpec:
    return OnFailureSpec.model_validate({"type": type, **fields})


def test_sqs_by_name_and_by_arn(moto_aws: Any) -> None:
    sqs = moto_aws.client("sqs")
    url = sqs.create_queue(QueueName="orders-dlq")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    by_name = resolve_destination(moto_aws, OnFailure("sqs", name="orders-dlq"))
    by_arn = resolve_destination(moto_aws, OnFailure("sqs", arn=arn))
    for ref in (by_name, by_arn):
        assert (ref.type, ref.arn, ref.name, ref.queue_url) == ("sqs", arn, "orders-dlq", url)
        assert ref.read_queue_url == url


def test_missing_sqs_queue_is_not_found(moto_aws: Any) -> None:
    with pytest.raises(NotFound, match=r"sqs failure destination of trigger t1 does not exist.*nope"):
        resolve_destination(moto_aws, OnFailure("sqs", name="nope"), trigger="t1")


def test_sns_with_inspect_queue_and_by_subscription(moto_aws: Any) -> None:
    sns, sqs = moto_aws.client("sns"), moto_aws.client("sqs")
    topic = sns.create_topic(Name="orders-topic")["TopicArn"]
    url = sqs.create_queue(QueueName="orders-tap")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ref = resolve_destination(moto_aws, OnFailure("sns", name="orders-topic", inspect_queue="orders-tap"))
    assert (ref.type, ref.arn, ref.name, ref.inspect_queue_url) == ("sns", topic, "orders-topic", url)
    assert account_id(moto_aws) == topic.split(":")[4]
    # Without inspect_queue: the queue subscribed to the topic.
    assert resolve_destination(moto_aws, OnFailure("sns", arn=topic)).inspect_queue_url is None
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn)
    assert resolve_destination(moto_aws, OnFailure("sns", arn=topic)).read_queue_url == url


def test_missing_sns_topic(moto_aws: Any) -> None:
    with pytest.raises(NotFound, match="sns topic ghost"):
        resolve_destination(moto_aws, OnFailure("sns", name="ghost"))


def test_s3_by_name_and_arn(moto_aws: Any) -> None:
    moto_aws.client("s3").create_bucket(Bucket="orders-failures")
    ref = resolve_destination(moto_aws, OnFailure("s3", name="orders-failures", prefix="failures/"))
    assert (ref.type, ref.bucket, ref.prefix, ref.arn) == (
        "s3",
        "orders-failures",
        "failures/",
        "arn:aws:s3:::orders-failures",
    )
    # Lambda writes under aws/lambda/ at the bucket root: that is where an unset prefix reads.
    assert (
        resolve_destination(moto_aws, OnFailure("s3", arn="arn:aws:s3:::orders-failures")).prefix
        == "aws/lambda/"
    )
    with pytest.raises(NotFound, match="s3 bucket nobucket"):
        resolve_destination(moto_aws, OnFailure("s3", name="nobucket"))

"""Managed SNS and S3 failure destinations: created encrypted and tagged, drift shown and fixed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ddbtrigger.core.loader import load_spec
from ddbtrigger.usecases.provision import execute, make_plan
from tests.aws.conftest_provision import make_function, make_table, spec_text, trigger


def plan_for(factory: Any, path: Path) -> Any:
    spec = load_spec(path.read_text(), str(path))
    return make_plan(factory, spec, list(spec.triggers)).plan


def pending(factory: Any, path: Path) -> list[tuple[str, str]]:
    return [(c.resource, c.action) for c in plan_for(factory, path).pending]


def apply(factory: Any, path: Path) -> None:
    execute(factory, plan_for(factory, path), sleep=lambda s: None)


def test_sns_topic_with_inspect_queue(moto_aws: Any, tmp_path: Path) -> None:
    make_table(moto_aws, "orders")
    make_function(moto_aws, "orders-fn")
    path = tmp_path / "s.yaml"
    on_failure = {"type": "sns", "name": "orders-failures", "inspect_queue": "orders-failures-tap"}
    path.write_text(spec_text(trigger(on_failure=on_failure)))
    apply(moto_aws, path)
    sns, sqs = moto_aws.client("sns"), moto_aws.client("sqs")
    (topic,) = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert {"Key": "ddbtrigger:trigger", "Value": "orders-audit"} in sns.list_tags_for_resource(
        ResourceArn=topic
    )["Tags"]
    (sub,) = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert sub["Protocol"] == "sqs" and sub["Endpoint"].endswith(":orders-failures-tap")
    assert pending(moto_aws, path) == []

    sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName="orders-failures-tap")["QueueUrl"])
    sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
    assert pending(moto_aws, path) == [("on_failure", "update")]
    apply(moto_aws, path)
    assert pending(moto_aws, path) == []


def test_s3_bucket_encrypted_and_private(moto_aws: Any, tmp_path: Path) -> None:
    make_table(moto_aws, "orders")
    make_function(moto_aws, "orders-fn")
    path = tmp_path / "s.yaml"
    path.write_text(spec_text(trigger(on_failure={"type": "s3", "name": "orders-failures"})))
    apply(moto_aws, path)
    s3 = moto_aws.client("s3")
    rule = s3.get_bucket_encryption(Bucket="orders-failures")["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket="orders-failures")["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert pending(moto_aws, path) == []

    s3.delete_public_access_block(Bucket="orders-failures")
    changes = plan_for(moto_aws, path).pending
    assert [(c.resource, c.action) for c in changes] == [("on_failure", "update")]
    assert changes[0].diff == {"PublicAccessBlock": ("false", "true")}
    apply(moto_aws, path)
    assert pending(moto_aws, path) == []

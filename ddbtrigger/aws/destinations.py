"""Failure destinations (SQS queue, SNS topic, S3 bucket): read their managed settings, create, update.

Reads return ``core.live.LiveDestination`` with the settings the tool manages as string attributes keyed
by AWS names, so the planner compares strings to strings. A destination that does not exist reads back
with ``exists=False`` (a managed one is then created by ``apply``; an ``arn:`` one is an error there).
ARNs of missing resources are built from the table's partition, region and account, which saves an STS
call per trigger.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.core.desired import ArnContext, destination_arn
from ddbtrigger.core.live import MANAGED_TAG, LiveDestination

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import OnFailureSpec

SQS_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
SNS_MISSING = {"NotFound", "NotFoundException"}
S3_MISSING = {"NoSuchBucket", "404", "NotFound"}
SQS_ATTRIBUTES = ("MessageRetentionPeriod", "SqsManagedSseEnabled", "KmsMasterKeyId")
PUBLIC_ACCESS_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def destination_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].split("/", 1)[0]


def read_destination(factory: ClientFactory, on_failure: OnFailureSpec, ctx: ArnContext) -> LiveDestination:
    """The destination's live state (1-4 calls, by type)."""
    arn = destination_arn(on_failure, ctx)
    if on_failure.type == "sqs":
        return read_queue(factory, arn)
    if on_failure.type == "sns":
        return read_topic(factory, arn)
    return read_bucket(factory, arn)


def _missing(kind: Any, arn: str) -> LiveDestination:
    return LiveDestination(type=kind, arn=arn, name=destination_name(arn), exists=False)


def queue_url(factory: ClientFactory, arn: str) -> str | None:
    """The queue's URL, or None when it does not exist."""
    parts = arn.split(":")
    kwargs = {"QueueName": parts[5], **({"QueueOwnerAWSAccountId": parts[4]} if parts[4] else {})}
    try:
        return str(factory.client("sqs").get_queue_url(**kwargs)["QueueUrl"])
    except Exception as e:
        if error_code(e) in SQS_MISSING:
            return None
        with translate_errors(f"find sqs queue {parts[5]}"):
            raise


def read_queue(factory: ClientFactory, arn: str) -> LiveDestination:
    url = queue_url(factory, arn)
    if url is None:
        return _missing("sqs", arn)
    sqs = factory.client("sqs")
    name = destination_name(arn)
    with translate_errors(f"read sqs queue {name}"):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
        tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) or {}
    kept = {k: str(attrs[k]) for k in SQS_ATTRIBUTES if k in attrs}
    return LiveDestination(
        type="sqs",
        arn=str(attrs.get("QueueArn", arn)),
        name=name,
        exists=True,
        managed_tag=tags.get(MANAGED_TAG),
        attributes=kept,
        url=url,
        tags=dict(tags),
    )


def read_topic(factory: ClientFactory, arn: str) -> LiveDestination:
    sns = factory.client("sns")
    name = destination_name(arn)
    try:
        attrs = sns.get_topic_attributes(TopicArn=arn).get("Attributes", {})
    except Exception as e:
        if error_code(e) in SNS_MISSING:
            return _missing("sns", arn)
        with translate_errors(f"read sns topic {name}"):
            raise
    with translate_errors(f"read the tags of sns topic {name}"):
        raw_tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
    tags = {t["Key"]: t["Value"] for t in raw_tags}
    kept = {"KmsMasterKeyId": str(attrs["KmsMasterKeyId"])} if attrs.get("KmsMasterKeyId") else {}
    return LiveDestination(
        type="sns",
        arn=arn,
        name=name,
        exists=True,
        managed_tag=tags.get(MANAGED_TAG),
        attributes=kept,
        tags=tags,
    )


def read_bucket(factory: ClientFactory, arn: str) -> LiveDestination:
    s3 = factory.client("s3")
    bucket = destination_name(arn.split(":::", 1)[-1])
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as e:
        if error_code(e) in S3_MISSING:
            return _missing("s3", arn)
        with translate_errors(f"read s3 bucket {bucket}"):
            raise
    attrs = {**_bucket_encryption(s3, bucket), **_bucket_public_access(s3, bucket)}
    tags = _bucket_tags(s3, bucket)
    return LiveDestination(
        type="s3",
        arn=arn,
        name=bucket,
        exists=True,
        managed_tag=tags.get(MANAGED_TAG),
        attributes=attrs,
        tags=tags,
    )


def _optional(call: Any, missing: set[str], action: str) -> Any:
    """Run ``call()``; None when AWS says the setting is absent (these reads 404 for 'not set')."""
    try:
        return call()
    except Exception as e:
        if error_code(e) in missing:
            return None
        with translate_errors(action):
            raise


def _bucket_encryption(s3: Any, bucket: str) -> dict[str, str]:
    found = _optional(
        lambda: s3.get_bucket_encryption(Bucket=bucket),
        {"ServerSideEncryptionConfigurationNotFoundError"},
        f"read the encryption of s3 bucket {bucket}",
    )
    rules = (found or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    if not rules:
        return {}
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {})
    out = {"SSEAlgorithm": str(default.get("SSEAlgorithm", ""))}
    if default.get("KMSMasterKeyID"):
        out["KMSMasterKeyID"] = str(default["KMSMasterKeyID"])
    return out


def _bucket_public_access(s3: Any, bucket: str) -> dict[str, str]:
    found = _optional(
        lambda: s3.get_public_access_block(Bucket=bucket),
        {"NoSuchPublicAccessBlockConfiguration"},
        f"read the public access block of s3 bucket {bucket}",
    )
    config = (found or {}).get("PublicAccessBlockConfiguration", {})
    blocked = all(config.get(k) for k in PUBLIC_ACCESS_BLOCK)
    return {"PublicAccessBlock": "true" if blocked else "false"}


def _bucket_tags(s3: Any, bucket: str) -> dict[str, str]:
    found = _optional(
        lambda: s3.get_bucket_tagging(Bucket=bucket), {"NoSuchTagSet"}, f"read the tags of s3 bucket {bucket}"
    )
    return {t["Key"]: t["Value"] for t in (found or {}).get("TagSet", [])}


def json_attr(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)

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
from typing import TYPE_CHECKING, Any, cast

from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.core.desired import ArnContext, destination_arn
from ddbtrigger.core.live import MANAGED_TAG, LiveDestination

if TYPE_CHECKING:
    from mypy_boto3_s3.literals import BucketLocationConstraintType, ServerSideEncryptionType
    from mypy_boto3_s3.type_defs import (
        ObjectIdentifierTypeDef,
        PublicAccessBlockConfigurationTypeDef,
        ServerSideEncryptionByDefaultTypeDef,
    )
    from mypy_boto3_sns.type_defs import TagTypeDef
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import OnFailureSpec

SQS_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
SNS_MISSING = {"NotFound", "NotFoundException"}
S3_MISSING = {"NoSuchBucket", "404", "NotFound"}
SQS_ATTRIBUTES = ("MessageRetentionPeriod", "SqsManagedSseEnabled", "KmsMasterKeyId")
PUBLIC_ACCESS_BLOCK: PublicAccessBlockConfigurationTypeDef = {
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
        return read_topic(
            factory, arn, inspect_queue=on_failure.inspect_queue if on_failure.managed else None
        )
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


def canonical_queue_url(arn: str) -> str | None:
    """The queue's URL built from its ARN (SQS routes by the client's endpoint and reads account and
    name from the URL's path), which saves a GetQueueUrl call per trigger; None when the ARN lacks them."""
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4] or not parts[3]:
        return None
    domain = "amazonaws.com.cn" if parts[1] == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{parts[3]}.{domain}/{parts[4]}/{parts[5]}"


def read_queue(factory: ClientFactory, arn: str) -> LiveDestination:
    url = canonical_queue_url(arn) or queue_url(factory, arn)
    if url is None:
        return _missing("sqs", arn)
    sqs = factory.client("sqs")
    name = destination_name(arn)
    try:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
    except Exception as e:
        if error_code(e) in SQS_MISSING:
            return _missing("sqs", arn)
        with translate_errors(f"read sqs queue {name}"):
            raise
    with translate_errors(f"read the tags of sqs queue {name}"):
        tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) or {}
    kept: dict[str, str] = {k: str(attrs[k]) for k in SQS_ATTRIBUTES if k in attrs}
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


def read_topic(factory: ClientFactory, arn: str, *, inspect_queue: str | None = None) -> LiveDestination:
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
    if inspect_queue and _subscribed(factory, arn, destination_arn_for_queue(arn, inspect_queue)):
        kept["InspectQueue"] = inspect_queue
    return LiveDestination(
        type="sns",
        arn=arn,
        name=name,
        exists=True,
        managed_tag=tags.get(MANAGED_TAG),
        attributes=kept,
        tags=tags,
    )


def _subscribed(factory: ClientFactory, topic_arn: str, queue_arn: str) -> bool:
    """Whether the queue exists and is subscribed to the topic (the SNS destination's read-back tap)."""
    if queue_url(factory, queue_arn) is None:
        return False
    with translate_errors("list the sns topic's subscriptions"):
        pages = (
            factory.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        )
        return any(
            sub.get("Protocol") == "sqs" and sub.get("Endpoint") == queue_arn
            for page in pages
            for sub in page.get("Subscriptions", [])
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


# --- writes (called by aws.executor with a Step's params) --------------------------------------------


def _sns_tags(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def create_destination(factory: ClientFactory, p: Mapping[str, Any]) -> str:
    """Create a managed destination, encrypted and tagged; returns its ARN."""
    kind, name, attrs, tags = p["type"], p["name"], dict(p["attributes"]), dict(p["tags"])
    if kind == "sqs":
        return create_queue(factory, name, attrs, tags)
    if kind == "sns":
        attrs.pop("InspectQueue", None)
        with translate_errors(f"create sns topic {name}"):
            arn = str(
                factory.client("sns").create_topic(Name=name, Attributes=attrs, Tags=_sns_tags(tags))[
                    "TopicArn"
                ]
            )
        if p.get("inspect_queue"):
            subscribe_inspect_queue(factory, arn, p["inspect_queue"], tags)
        return arn
    return create_bucket(factory, name, attrs, tags)


def create_queue(factory: ClientFactory, name: str, attrs: Mapping[str, str], tags: Mapping[str, str]) -> str:
    sqs = factory.client("sqs")
    with translate_errors(f"create sqs queue {name}"):
        attributes = cast("dict[QueueAttributeNameType, str]", dict(attrs))  # names checked by the spec
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=dict(tags))["QueueUrl"]
        return str(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        )


def subscribe_inspect_queue(
    factory: ClientFactory, topic_arn: str, queue: str, tags: Mapping[str, str]
) -> None:
    """An SQS queue subscribed to the topic, so failures published there can be read back."""
    sqs = factory.client("sqs")
    queue_arn = create_queue(factory, queue, {"SqsManagedSseEnabled": "true"}, tags)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }
    with translate_errors(f"subscribe sqs queue {queue} to the sns topic"):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json_attr(policy)})
        factory.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)


def create_bucket(
    factory: ClientFactory, name: str, attrs: Mapping[str, str], tags: Mapping[str, str]
) -> str:
    s3 = factory.client("s3")
    region = factory.region
    try:
        if region == "us-east-1":  # the one region that refuses a LocationConstraint
            s3.create_bucket(Bucket=name)
        else:
            location = cast("BucketLocationConstraintType", region)
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": location})
    except Exception as e:
        if error_code(e) != "BucketAlreadyOwnedByYou":  # a concurrent apply made it: fine
            with translate_errors(f"create s3 bucket {name}"):
                raise
    update_bucket(factory, name, attrs)
    tag_bucket(factory, name, tags)
    return f"arn:aws:s3:::{name}"


def update_destination(factory: ClientFactory, p: Mapping[str, Any]) -> None:
    kind, name, attrs = p["type"], p["name"], dict(p["attributes"])
    if kind == "sqs":
        with translate_errors(f"update sqs queue {name}"):
            factory.client("sqs").set_queue_attributes(QueueUrl=p["url"], Attributes=attrs)
    elif kind == "sns":
        inspect = attrs.pop("InspectQueue", None)
        if inspect:
            subscribe_inspect_queue(factory, p["arn"], inspect, {MANAGED_TAG: p.get("trigger", "")})
        with translate_errors(f"update sns topic {name}"):
            for key, value in attrs.items():
                factory.client("sns").set_topic_attributes(
                    TopicArn=p["arn"], AttributeName=key, AttributeValue=value
                )
    else:
        update_bucket(factory, name, attrs)


def update_bucket(factory: ClientFactory, name: str, attrs: Mapping[str, str]) -> None:
    s3 = factory.client("s3")
    with translate_errors(f"configure s3 bucket {name}"):
        if "SSEAlgorithm" in attrs or "KMSMasterKeyID" in attrs:
            algorithm = cast("ServerSideEncryptionType", attrs.get("SSEAlgorithm", "aws:kms"))
            default: ServerSideEncryptionByDefaultTypeDef = {"SSEAlgorithm": algorithm}
            if attrs.get("KMSMasterKeyID"):
                default["KMSMasterKeyID"] = attrs["KMSMasterKeyID"]
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": default}]
                },
            )
        if attrs.get("PublicAccessBlock") == "true":
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=PUBLIC_ACCESS_BLOCK)


def tag_destination(factory: ClientFactory, p: Mapping[str, Any]) -> None:
    kind, name, tags = p["type"], p["name"], dict(p["tags"])
    if kind == "sqs":
        with translate_errors(f"tag sqs queue {name}"):
            factory.client("sqs").tag_queue(QueueUrl=p["url"], Tags=tags)
    elif kind == "sns":
        with translate_errors(f"tag sns topic {name}"):
            factory.client("sns").tag_resource(ResourceArn=p["arn"], Tags=_sns_tags(tags))
    else:
        tag_bucket(factory, name, tags)


def tag_bucket(factory: ClientFactory, name: str, tags: Mapping[str, str]) -> None:
    """PutBucketTagging replaces every tag: merge ours into those already there."""
    s3 = factory.client("s3")
    merged = {**_bucket_tags(s3, name), **tags}
    with translate_errors(f"tag s3 bucket {name}"):
        s3.put_bucket_tagging(
            Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]}
        )


def destination_depth(
    factory: ClientFactory, live: LiveDestination, *, inspect_queue: str | None = None
) -> int:
    """Failures held: SQS visible + in flight + delayed; SNS via its inspect queue; S3 object count."""
    if not live.exists:
        return 0
    if live.type == "sqs" and live.url:
        return _queue_depth(factory, live.url)
    if live.type == "sns":
        url = (
            queue_url(factory, destination_arn_for_queue(live.arn, inspect_queue)) if inspect_queue else None
        )
        return _queue_depth(factory, url) if url else 0
    with translate_errors(f"count the objects of s3 bucket {live.name}"):
        page = factory.client("s3").list_objects_v2(Bucket=live.name, MaxKeys=1000)
    return int(page.get("KeyCount", 0))


def destination_arn_for_queue(topic_arn: str, queue: str) -> str:
    parts = topic_arn.split(":")
    return ":".join([*parts[:2], "sqs", *parts[3:5], queue])


def _queue_depth(factory: ClientFactory, url: str) -> int:
    names: list[QueueAttributeNameType] = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    with translate_errors("read the queue's depth"):
        attrs = factory.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attrs.get(n, "0")) for n in names)


def delete_destination(factory: ClientFactory, p: Mapping[str, Any]) -> None:
    """Delete a managed destination (the caller checked it is ours, and empty unless --force)."""
    kind, name = p["type"], p["name"]
    if kind == "sqs":
        with translate_errors(f"delete sqs queue {name}"):
            factory.client("sqs").delete_queue(QueueUrl=p["url"])
    elif kind == "sns":
        with translate_errors(f"delete sns topic {name}"):
            factory.client("sns").delete_topic(TopicArn=p["arn"])
        if p.get("inspect_queue"):
            url = queue_url(factory, destination_arn_for_queue(p["arn"], p["inspect_queue"]))
            if url:
                with translate_errors(f"delete sqs queue {p['inspect_queue']}"):
                    factory.client("sqs").delete_queue(QueueUrl=url)
    else:
        _empty_and_delete_bucket(factory, name)


def _empty_and_delete_bucket(factory: ClientFactory, name: str) -> None:
    s3 = factory.client("s3")
    with translate_errors(f"delete s3 bucket {name}"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=name)

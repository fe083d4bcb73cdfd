"""S3 bucket destinations: Lambda writes each failure, records included, as one object under
``aws/lambda/``. Depth counts every object under the prefix on every page, but not "folder" markers nor
redrive's lease objects; a failure under another run's lease counts as held."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from ddbtrigger.aws.destinations.base import (
    Depth,
    DestinationRef,
    ScanOptions,
    found_live,
    missing,
    missing_live,
    unless_missing,
)
from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.aws.s3_leases import is_lease
from ddbtrigger.core.destinations import S3, partition_of, resource_name
from ddbtrigger.core.failures import Held
from ddbtrigger.core.spec import LAMBDA_S3_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_s3.literals import BucketLocationConstraintType, ServerSideEncryptionType
    from mypy_boto3_s3.type_defs import (
        ObjectIdentifierTypeDef,
        PublicAccessBlockConfigurationTypeDef,
        ServerSideEncryptionByDefaultTypeDef,
    )

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.destinations.sqs import QueueAttributeTap
    from ddbtrigger.aws.dlq import Scan
    from ddbtrigger.core.live import LiveDestination
    from ddbtrigger.core.spec import OnFailureSpec

S3_MISSING = {"NoSuchBucket", "404", "NotFound"}
PUBLIC_ACCESS_BLOCK: PublicAccessBlockConfigurationTypeDef = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def objects(factory: ClientFactory, bucket: str, prefix: str = "") -> Depth:
    """Failure objects under ``prefix`` (every page), and when the oldest of them was written."""
    count, oldest = 0, None
    paginator = factory.client("s3").get_paginator("list_objects_v2")
    with translate_errors(f"count the failures in s3 bucket {bucket} (s3 list-objects-v2)"):
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = str(obj.get("Key", ""))
                if key.endswith("/") or is_lease(key):
                    continue  # a "folder" marker or a redrive's lease, not a failure
                count += 1
                written = obj.get("LastModified")
                if isinstance(written, datetime) and (oldest is None or written < oldest):
                    oldest = written
    return Depth(visible=count, oldest_at=oldest.astimezone(UTC) if oldest else None)


def leased(factory: ClientFactory, bucket: str, prefix: str = "") -> Held:
    """S3 failures under another run's lease (redrive's conditional-write leases), and when they
    reappear: the leases' own module knows how they look."""
    from ddbtrigger.aws.s3_leases import leased as read_leases

    return read_leases(factory.client("s3"), bucket, prefix)


def _encryption(s3: Any, bucket: str) -> dict[str, str]:
    found = unless_missing(
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


def _public_access(s3: Any, bucket: str) -> dict[str, str]:
    found = unless_missing(
        lambda: s3.get_public_access_block(Bucket=bucket),
        {"NoSuchPublicAccessBlockConfiguration"},
        f"read the public access block of s3 bucket {bucket}",
    )
    config = (found or {}).get("PublicAccessBlockConfiguration", {})
    blocked = all(config.get(k) for k in PUBLIC_ACCESS_BLOCK)
    return {"PublicAccessBlock": "true" if blocked else "false"}


def _tags(s3: Any, bucket: str) -> dict[str, str]:
    found = unless_missing(
        lambda: s3.get_bucket_tagging(Bucket=bucket), {"NoSuchTagSet"}, f"read the tags of s3 bucket {bucket}"
    )
    return {t["Key"]: t["Value"] for t in (found or {}).get("TagSet", [])}


class S3Adapter:
    """An S3 bucket: each failure is one object holding the failed batch's records."""

    kind = S3

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory

    def _exists(self, bucket: str, action: str) -> bool:
        return (
            unless_missing(lambda: self.factory.client("s3").head_bucket(Bucket=bucket), S3_MISSING, action)
            is not None
        )

    def locate(self, on_failure: OnFailureSpec, *, what: str) -> DestinationRef:
        bucket = (
            on_failure.arn.split(":::", 1)[-1].split("/", 1)[0] if on_failure.arn else str(on_failure.name)
        )
        if not self._exists(bucket, f"find {what} (s3 bucket {bucket})"):
            raise missing(what, f"s3 bucket {bucket}")
        arn = on_failure.arn or S3.arn(
            bucket, partition=partition_of(self.factory.region), region="", account=""
        )
        return DestinationRef(type="s3", arn=arn, name=bucket, bucket=bucket, prefix=on_failure.read_prefix)

    def from_live(self, live: LiveDestination, on_failure: OnFailureSpec | None) -> DestinationRef | None:
        prefix = on_failure.read_prefix if on_failure else LAMBDA_S3_PREFIX
        return DestinationRef(type="s3", arn=live.arn, name=live.name, bucket=live.name, prefix=prefix)

    def read_live(self, arn: str, on_failure: OnFailureSpec) -> LiveDestination:
        bucket = resource_name(arn)
        if not self._exists(bucket, f"read s3 bucket {bucket}"):
            return missing_live(S3, arn)
        s3 = self.factory.client("s3")
        return found_live(
            S3, arn, {**_encryption(s3, bucket), **_public_access(s3, bucket)}, _tags(s3, bucket)
        )

    def depth(self, ref: DestinationRef, *, seen: QueueAttributeTap | None = None) -> Depth | None:
        """Objects under the prefix; those under another run's lease are held, not waiting."""
        bucket = ref.bucket or ref.name
        found, held = objects(self.factory, bucket, ref.prefix), leased(self.factory, bucket, ref.prefix)
        # a leased failure is still an object: counted once, as held
        return Depth(max(0, found.visible - held.count), held.count, found.oldest_at, held.reappear_by)

    def held(self, ref: DestinationRef) -> Held:
        return leased(self.factory, ref.bucket or ref.name, ref.prefix)

    def open_scan(self, ref: DestinationRef, options: ScanOptions) -> Scan:
        """Objects newest first; redrive's leases each failure before reading it."""
        from ddbtrigger.aws.dlq import S3Scan
        from ddbtrigger.aws.s3_leases import S3Leases

        s3, bucket = self.factory.client("s3"), ref.bucket or ref.name
        leases = S3Leases(s3, bucket, hold_seconds=options.hold_seconds) if options.redrive else None
        return S3Scan(s3, bucket, ref.prefix, limit=options.limit, leases=leases, skip=options.skip)

    def create(self, p: Mapping[str, Any]) -> str:
        name, region, s3 = p["name"], self.factory.region, self.factory.client("s3")
        if region == "us-east-1":  # the one region that refuses a LocationConstraint
            make = lambda: s3.create_bucket(Bucket=name)  # noqa: E731
        else:
            location = cast("BucketLocationConstraintType", region)
            make = lambda: s3.create_bucket(  # noqa: E731
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": location}
            )
        # "already owned by you": a concurrent apply made it, fine
        unless_missing(make, {"BucketAlreadyOwnedByYou"}, f"create s3 bucket {name}")
        self.update(p)
        self.tag(p)
        return f"arn:aws:s3:::{name}"

    def update(self, p: Mapping[str, Any]) -> None:
        name, attrs, s3 = p["name"], dict(p["attributes"]), self.factory.client("s3")
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

    def tag(self, p: Mapping[str, Any]) -> None:
        """PutBucketTagging replaces every tag: merge ours into those already there."""
        name, s3 = p["name"], self.factory.client("s3")
        merged = {**_tags(s3, name), **dict(p["tags"])}
        with translate_errors(f"tag s3 bucket {name}"):
            s3.put_bucket_tagging(
                Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]}
            )

    def delete(self, p: Mapping[str, Any]) -> None:
        """Empty the bucket (every page), then delete it."""
        name, s3 = p["name"], self.factory.client("s3")
        with translate_errors(f"delete s3 bucket {name}"):
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                keys: list[ObjectIdentifierTypeDef] = [{"Key": o["Key"]} for o in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
            s3.delete_bucket(Bucket=name)

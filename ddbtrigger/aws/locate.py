"""Find a trigger's failure destination in AWS: from the spec's ``on_failure`` to URLs and ARNs.

The spec names a destination (managed, ``name:``) or points at one (``arn:``). Reading it back, deleting
from it, or wiring it into a mapping each need a different handle: SQS wants the queue URL, the mapping
wants the ARN, S3 wants bucket and prefix, and SNS is read through an SQS queue subscribed to it (its
``inspect_queue``). ``resolve_destination`` returns all of them at once and fails with ``NotFound`` and
a clear message when the resource does not exist.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.errors import NotFound

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory

DestinationType = Literal["sqs", "sns", "s3"]

_S3_MISSING = {"NoSuchBucket", "404", "NotFound"}


class OnFailureLike(Protocol):
    """What ``resolve_destination`` reads from ``core.spec.OnFailureSpec`` (or any look-alike)."""

    @property
    def type(self) -> DestinationType: ...
    @property
    def name(self) -> str | None: ...
    @property
    def arn(self) -> str | None: ...


@dataclass(frozen=True)
class DestinationRef:
    """A located failure destination. Fields that do not apply to ``type`` are ``None``."""

    type: DestinationType
    arn: str
    name: str
    queue_url: str | None = None
    bucket: str | None = None
    prefix: str = ""
    inspect_queue_url: str | None = None
    inspect_queue_arn: str | None = None

    @property
    def read_queue_url(self) -> str | None:
        """The SQS queue that failures are read from: the queue itself, or the SNS topic's tap."""
        return self.queue_url if self.type == "sqs" else self.inspect_queue_url


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


_accounts: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_accounts_lock = threading.Lock()


def account_id(factory: ClientFactory) -> str:
    """The caller's account id, asked of STS once per factory (needed to build SNS ARNs from names)."""
    with _accounts_lock:
        cached = _accounts.get(factory)
    if cached:
        return cached
    with translate_errors("get the caller's account id (sts get-caller-identity)"):
        account = str(factory.client("sts").get_caller_identity()["Account"])
    with _accounts_lock:
        _accounts[factory] = account
    return account


def resolve_destination(
    factory: ClientFactory, on_failure: Any, *, trigger: str | None = None
) -> DestinationRef:
    """Locate ``on_failure`` (an ``OnFailureSpec``); ``NotFound`` names what is missing and what to do."""
    what = f"the {on_failure.type} failure destination" + (f" of trigger {trigger}" if trigger else "")
    if on_failure.type == "sqs":
        return locate_queue(factory, name_or_arn(on_failure), what=what)
    if on_failure.type == "sns":
        return _locate_topic(factory, on_failure, what=what)
    if on_failure.type == "s3":
        return _locate_bucket(factory, on_failure, what=what)
    raise ValueError(f"unknown destination type {on_failure.type!r}")


def name_or_arn(on_failure: Any) -> str:
    value = on_failure.arn or on_failure.name
    if not value:
        raise ValueError("on_failure has neither name nor arn")
    return str(value)


def locate_queue(factory: ClientFactory, queue: str, *, what: str = "the queue") -> DestinationRef:
    """An SQS queue by name, ARN or URL."""
    sqs = factory.client("sqs")
    name, owner = _queue_name_owner(queue)
    kwargs = {"QueueName": name, **({"QueueOwnerAWSAccountId": owner} if owner else {})}
    try:
        with translate_errors(f"find {what} (sqs queue {name})"):
            url = (
                queue
                if queue.startswith(("https://", "http://"))
                else sqs.get_queue_url(**kwargs)["QueueUrl"]
            )
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    except NotFound:
        raise _missing(what, f"sqs queue {name}") from None
    return DestinationRef(type="sqs", arn=attrs["QueueArn"], name=name, queue_url=url)


def _queue_name_owner(queue: str) -> tuple[str, str | None]:
    if queue.startswith("arn:"):
        parts = queue.split(":")
        return parts[5], parts[4] or None
    if queue.startswith(("https://", "http://")):
        return queue.rstrip("/").rsplit("/", 1)[-1], None
    return queue, None


def _locate_topic(factory: ClientFactory, on_failure: Any, *, what: str) -> DestinationRef:
    sns = factory.client("sns")
    arn = on_failure.arn or (
        f"arn:{partition_of(factory.region)}:sns:{factory.region}:{account_id(factory)}:{on_failure.name}"
    )
    name = arn.rsplit(":", 1)[-1]
    try:
        with translate_errors(f"find {what} (sns topic {name})"):
            sns.get_topic_attributes(TopicArn=arn)
    except NotFound:
        raise _missing(what, f"sns topic {name}") from None
    inspect = getattr(on_failure, "inspect_queue", None) or _subscribed_queue(factory, arn)
    tap = locate_queue(factory, inspect, what=f"the inspect queue of {what}") if inspect else None
    return DestinationRef(
        type="sns",
        arn=arn,
        name=name,
        inspect_queue_url=tap.queue_url if tap else None,
        inspect_queue_arn=tap.arn if tap else None,
    )


def _subscribed_queue(factory: ClientFactory, topic_arn: str) -> str | None:
    """Without ``inspect_queue`` in the spec: the first SQS queue subscribed to the topic, if any."""
    sns = factory.client("sns")
    with translate_errors("list the sns topic's subscriptions"):
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
            for sub in page.get("Subscriptions", []):
                if sub.get("Protocol") == "sqs" and str(sub.get("Endpoint", "")).startswith("arn:"):
                    return str(sub["Endpoint"])
    return None


def _locate_bucket(factory: ClientFactory, on_failure: Any, *, what: str) -> DestinationRef:
    bucket = on_failure.arn.split(":::", 1)[-1].split("/", 1)[0] if on_failure.arn else on_failure.name
    s3 = factory.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception as e:
        if error_code(e) in _S3_MISSING:
            raise _missing(what, f"s3 bucket {bucket}") from None
        with translate_errors(f"find {what} (s3 bucket {bucket})"):
            raise
    arn = on_failure.arn or f"arn:{partition_of(factory.region)}:s3:::{bucket}"
    prefix = on_failure.read_prefix
    return DestinationRef(type="s3", arn=arn, name=bucket, bucket=bucket, prefix=prefix)


def _missing(what: str, resource: str) -> NotFound:
    return NotFound(
        f"{what} does not exist: no {resource} (run `ddbtrigger apply` to create a managed "
        f"destination, or fix on_failure in the spec)"
    )

"""What the tool knows about each kind of failure destination (SQS queue, SNS topic, S3 bucket).

One frozen ``DestinationKind`` per type in ``KINDS``: its ARN shape, what it holds (pointers or the
records), how big one failure may be, the IAM actions the function role and each operator command need,
and the managed settings a ``name:`` destination gets. Core modules ask the kind instead of branching on
``"sqs"``/``"sns"``/``"s3"``; ``aws.destinations`` has the matching adapter per type. Adding a type means
one entry here and one adapter there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ddbtrigger.core.spec import OnFailureSpec

DestinationType = Literal["sqs", "sns", "s3"]
Resource = Literal["arn", "queue", "written", "objects", "leases", "contents"]
"""Which ARN a grant applies to: the destination; the SQS queue failures are read from (the queue
itself, or an SNS topic's inspect queue); Lambda's failure objects (``written``); those a reader reads
(``objects``); redrive's S3 leases; every object of the bucket (``contents``)."""

MAX_MESSAGE_BYTES = 256 * 1024
"""SQS and SNS carry at most 256 KiB; anything bigger was not written by Lambda."""
MAX_SNS_ENVELOPE_BYTES = 2 * MAX_MESSAGE_BYTES
"""An SNS envelope escapes the record inside a JSON string, which can double its size."""
MAX_S3_OBJECT_BYTES = 32 * 1024 * 1024
"""An S3 failure holds the invocation's records (a 6 MB payload at most, JSON-escaped)."""
SNS_DEFAULT_KEY = "alias/aws/sns"
SQS_PEEK = ("sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage")


@dataclass(frozen=True)
class GrantTemplate:
    """One IAM statement's shape; ``core.policy`` fills in the resource."""

    sid: str
    actions: tuple[str, ...]
    resource: Resource


@dataclass(frozen=True)
class DestinationKind:
    """One destination type. ``regional`` ARNs name region and account (S3's do not)."""

    type: DestinationType
    regional: bool
    holds_pointers: bool
    """SQS/SNS hold only a pointer to the failed records (gone once the stream trims them); S3 holds them."""
    max_failure_bytes: int
    reads_from: Literal["self", "inspect_queue", "objects"]
    """Where failures are read: the queue itself, an SQS queue subscribed to the topic, or objects."""
    read_actions: tuple[str, ...]
    create_actions: tuple[str, ...]
    delete_actions: tuple[str, ...]
    function_grants: tuple[GrantTemplate, ...]
    """What Lambda's execution role needs to write failures here."""
    peek_grants: tuple[GrantTemplate, ...]
    """What inspect-dlq needs to read failures without consuming them."""
    consume_grants: tuple[GrantTemplate, ...]
    """What redrive needs, beyond peeking, to remove what it redelivered."""
    desired: Callable[[OnFailureSpec], dict[str, str]]
    """The managed settings of a ``name:`` destination, as the string attributes AWS reads back."""
    spec_fields: tuple[str, ...] = ()
    """``on_failure`` fields that only this type takes."""
    delete_grants: tuple[GrantTemplate, ...] = ()
    """Beyond ``delete_actions`` on the destination (S3: emptying the bucket first)."""

    @property
    def enveloped(self) -> bool:
        """Failures read from an SNS topic's inspect queue arrive inside an SNS notification envelope."""
        return self.reads_from == "inspect_queue"

    def arn(self, name: str, *, partition: str, region: str, account: str) -> str:
        """The ARN of the destination called ``name`` in that partition, region and account."""
        if not self.regional:
            return f"arn:{partition}:{self.type}:::{name}"
        return f"arn:{partition}:{self.type}:{region}:{account}:{name}"


def partition_of(region: str) -> str:
    """The ARN partition of a region: ``aws``, ``aws-cn`` or ``aws-us-gov``."""
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def resource_name(arn: str) -> str:
    """The queue, topic or bucket name of a destination ARN (an S3 ARN may name a key after ``/``)."""
    return arn.rsplit(":", 1)[-1].split("/", 1)[0]


def type_of_arn(arn: str) -> DestinationType | None:
    """The destination type an ARN's service names, or None for any other service."""
    parts = arn.split(":")
    service = parts[2] if len(parts) > 2 else ""
    return next((k.type for k in KINDS.values() if k.type == service), None)


def _sqs_desired(on_failure: OnFailureSpec) -> dict[str, str]:
    attrs = {"MessageRetentionPeriod": str(on_failure.retention_seconds)}
    if on_failure.kms_key:
        attrs["KmsMasterKeyId"] = on_failure.kms_key
    else:
        attrs["SqsManagedSseEnabled"] = "true"
    return attrs


def _sns_desired(on_failure: OnFailureSpec) -> dict[str, str]:
    attrs = {"KmsMasterKeyId": on_failure.kms_key or SNS_DEFAULT_KEY}
    if on_failure.inspect_queue:
        attrs["InspectQueue"] = on_failure.inspect_queue  # an SQS queue subscribed to the topic
    return attrs


def _s3_desired(on_failure: OnFailureSpec) -> dict[str, str]:
    attrs = {"SSEAlgorithm": "aws:kms" if on_failure.kms_key else "AES256", "PublicAccessBlock": "true"}
    if on_failure.kms_key:
        attrs["KMSMasterKeyID"] = on_failure.kms_key
    return attrs


_DELETE_MESSAGES = (GrantTemplate("DeleteRedrivenMessages", ("sqs:DeleteMessage",), "queue"),)

SQS = DestinationKind(
    type="sqs",
    reads_from="self",
    regional=True,
    holds_pointers=True,
    max_failure_bytes=MAX_MESSAGE_BYTES,
    read_actions=("sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags"),
    create_actions=("sqs:CreateQueue", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"),
    delete_actions=("sqs:DeleteQueue",),
    function_grants=(GrantTemplate("SendFailuresToSqs", ("sqs:SendMessage",), "arn"),),
    peek_grants=(GrantTemplate("PeekFailureQueues", SQS_PEEK, "queue"),),
    consume_grants=_DELETE_MESSAGES,
    desired=_sqs_desired,
    spec_fields=("message_retention_seconds",),
)
SNS = DestinationKind(
    type="sns",
    reads_from="inspect_queue",
    regional=True,
    holds_pointers=True,
    max_failure_bytes=MAX_SNS_ENVELOPE_BYTES,
    read_actions=("sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource"),
    create_actions=(
        "sns:CreateTopic",
        "sns:SetTopicAttributes",
        "sns:Subscribe",
        "sns:TagResource",
        "sns:UntagResource",
    ),
    delete_actions=("sns:DeleteTopic", "sns:Unsubscribe"),
    function_grants=(GrantTemplate("PublishFailuresToSns", ("sns:Publish",), "arn"),),
    peek_grants=(
        GrantTemplate("PeekFailureQueues", SQS_PEEK, "queue"),
        GrantTemplate("FindInspectQueues", ("sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"), "arn"),
    ),
    consume_grants=_DELETE_MESSAGES,
    desired=_sns_desired,
    spec_fields=("inspect_queue",),
)
S3 = DestinationKind(
    type="s3",
    reads_from="objects",
    regional=False,
    holds_pointers=False,
    max_failure_bytes=MAX_S3_OBJECT_BYTES,
    read_actions=(
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketTagging",
        "s3:GetEncryptionConfiguration",
        "s3:ListBucket",
    ),
    create_actions=(
        "s3:CreateBucket",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "s3:PutEncryptionConfiguration",
    ),
    delete_actions=("s3:DeleteBucket",),
    function_grants=(
        GrantTemplate("WriteFailuresToS3", ("s3:PutObject",), "written"),
        GrantTemplate("ListFailureBucket", ("s3:ListBucket",), "arn"),
    ),
    peek_grants=(
        GrantTemplate("ListS3Failures", ("s3:ListBucket",), "arn"),
        GrantTemplate("ReadS3Failures", ("s3:GetObject",), "objects"),
        GrantTemplate("ReadS3Leases", ("s3:GetObject",), "leases"),
    ),
    consume_grants=(
        GrantTemplate("DeleteRedrivenS3Failures", ("s3:DeleteObject",), "objects"),
        GrantTemplate("LeaseS3Failures", ("s3:PutObject", "s3:DeleteObject"), "leases"),
    ),
    desired=_s3_desired,
    spec_fields=("prefix",),
    delete_grants=(GrantTemplate("EmptyS3Destinations", ("s3:DeleteObject",), "contents"),),
)
KINDS: dict[DestinationType, DestinationKind] = {k.type: k for k in (SQS, SNS, S3)}


def kind(type_: str) -> DestinationKind:
    """The kind of a destination type; ``ValueError`` for a type the tool does not know."""
    for found in KINDS.values():
        if found.type == type_:
            return found
    raise ValueError(f"unknown destination type {type_!r}")

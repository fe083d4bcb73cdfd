"""SQS queue destinations; also the queue side of SNS (an inspect queue subscribed to the topic).

Depth comes from queue attributes (never from receiving): visible + not visible. Delayed messages are not
failures waiting: Lambda does not delay what it sends, and a managed queue has no DelaySeconds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
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
from ddbtrigger.core.destinations import SQS, resource_name
from ddbtrigger.core.failures import Held
from ddbtrigger.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_sqs.literals import QueueAttributeNameType

    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.dlq import Scan
    from ddbtrigger.core.live import LiveDestination
    from ddbtrigger.core.spec import OnFailureSpec

SQS_MISSING = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}
SQS_ATTRIBUTES = ("MessageRetentionPeriod", "SqsManagedSseEnabled", "KmsMasterKeyId")
DEPTH_ATTRIBUTES: list[QueueAttributeNameType] = [
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
]


def name_or_arn(on_failure: Any) -> str:
    value = on_failure.arn or on_failure.name
    if not value:
        raise ValueError("on_failure has neither name nor arn")
    return str(value)


def _name_owner(queue: str) -> tuple[str, str | None]:
    """A queue's name and owning account from its name, ARN or URL."""
    if queue.startswith("arn:"):
        parts = queue.split(":")
        return parts[5], parts[4] or None
    if queue.startswith(("https://", "http://")):
        return queue.rstrip("/").rsplit("/", 1)[-1], None
    return queue, None


def queue_url(factory: ClientFactory, queue: str) -> str | None:
    """The URL of a queue given by name, ARN or URL; None when it does not exist."""
    if queue.startswith(("https://", "http://")):
        return queue
    name, owner = _name_owner(queue)
    kwargs = {"QueueName": name, **({"QueueOwnerAWSAccountId": owner} if owner else {})}
    found = unless_missing(
        lambda: factory.client("sqs").get_queue_url(**kwargs), SQS_MISSING, f"find sqs queue {name}"
    )
    return str(found["QueueUrl"]) if found else None


def canonical_queue_url(arn: str) -> str | None:
    """The queue's URL built from its ARN (SQS routes by the client's endpoint and reads account and
    name from the URL's path), which saves a GetQueueUrl call per trigger; None when the ARN lacks them."""
    parts = arn.split(":")
    if len(parts) < 6 or not parts[4] or not parts[3]:
        return None
    domain = "amazonaws.com.cn" if parts[1] == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{parts[3]}.{domain}/{parts[4]}/{parts[5]}"


def queue_arn_beside(arn: str, queue: str) -> str:
    """The ARN of queue ``queue`` in the partition, region and account of ``arn`` (a topic's)."""
    parts = arn.split(":")
    return ":".join([*parts[:2], "sqs", *parts[3:5], queue])


def locate_queue(factory: ClientFactory, queue: str, *, what: str = "the queue") -> DestinationRef:
    """An SQS queue by name, ARN or URL."""
    name, _ = _name_owner(queue)
    try:
        with translate_errors(f"find {what} (sqs queue {name})"):
            url = queue_url(factory, queue)
            if url is None:
                raise NotFound(name)
            attrs = factory.client("sqs").get_queue_attributes(
                QueueUrl=url, AttributeNames=["QueueArn", *DEPTH_ATTRIBUTES]
            )["Attributes"]
    except NotFound:
        raise missing(what, f"sqs queue {name}") from None
    counted = Depth(
        visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )
    return DestinationRef(type="sqs", arn=attrs["QueueArn"], name=name, queue_url=url, counted=counted)


def queue_depth(factory: ClientFactory, url: str, *, seen: QueueAttributeTap | None = None) -> Depth:
    """Visible and in-flight message counts of a queue, from its attributes (receives nothing).

    When ``seen`` already holds the counts from a GetQueueAttributes of this run, no call is made.
    """
    attrs = seen.get(url) if seen else None
    if attrs is None or not all(name in attrs for name in DEPTH_ATTRIBUTES):
        with translate_errors("read the failure queue's depth (sqs get-queue-attributes)"):
            read = factory.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=DEPTH_ATTRIBUTES)
        attrs = {str(name): value for name, value in read["Attributes"].items()}
    return Depth(
        visible=int(attrs.get("ApproximateNumberOfMessages", 0)),
        in_flight=int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
    )


def queue_held(factory: ClientFactory, url: str | None) -> Held:
    """Messages another reader holds (not visible); when they reappear is not knowable from the queue."""
    if not url:
        return Held()
    with translate_errors("read the failure queue's held count (sqs get-queue-attributes)"):
        attrs = factory.client("sqs").get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        )["Attributes"]
    return Held(int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)))


class QueueReads:
    """Reading failures from an SQS queue: the queue itself, or the queue subscribed to an SNS topic
    (``DestinationRef.read_queue_url``). Depth and held counts come from its attributes."""

    def __init__(self, factory: ClientFactory) -> None:
        self.factory = factory

    def depth(self, ref: DestinationRef, *, seen: QueueAttributeTap | None = None) -> Depth | None:
        """Visible + not visible; None for a topic without an inspect queue."""
        url = ref.read_queue_url
        return queue_depth(self.factory, url, seen=seen) if url else None

    def held(self, ref: DestinationRef) -> Held:
        if ref.counted is not None:  # counted when located, before this run held anything
            return Held(ref.counted.in_flight or 0)
        return queue_held(self.factory, ref.read_queue_url)

    def open_scan(self, ref: DestinationRef, options: ScanOptions) -> Scan:
        """A scan of the queue (redrive's keeps what it reads held while it delivers)."""
        from ddbtrigger.aws.dlq import SqsScan
        from ddbtrigger.errors import UsageError

        url = ref.read_queue_url
        if url is None:
            raise UsageError(
                f"the {ref.type} destination {ref.name} has no inspect queue to read failures from: set "
                f"on_failure.inspect_queue (an SQS queue subscribed to the topic) and apply"
            )
        sqs, hold, wait = self.factory.client("sqs"), options.hold_seconds, options.wait_seconds
        expected = ref.counted.visible if ref.counted is not None else self.visible(url)
        if options.redrive:
            from ddbtrigger.aws.redrive_gateway import RedriveSqsScan

            redrive = RedriveSqsScan(
                sqs, url, source=ref.type, hold_seconds=hold, wait_seconds=wait, expected=expected
            )
            redrive.held_before = ref.counted.in_flight if ref.counted is not None else None
            return redrive
        return SqsScan(
            sqs,
            url,
            source=ref.type,
            limit=options.limit,
            hold_seconds=hold,
            wait_seconds=wait,
            expected=expected,
        )

    def visible(self, url: str) -> int | None:
        """The queue's visible count before a scan (one GetQueueAttributes): the scan then knows when it
        has seen everything, instead of confirming an empty queue with a long poll. None if unreadable."""
        from ddbtrigger.errors import DdbtError

        try:
            return queue_depth(self.factory, url).visible
        except DdbtError:
            return None


def create_queue(factory: ClientFactory, name: str, attrs: Mapping[str, str], tags: Mapping[str, str]) -> str:
    """Create the queue (or find it, as CreateQueue does when it exists alike); returns its ARN."""
    sqs = factory.client("sqs")
    with translate_errors(f"create sqs queue {name}"):
        attributes = cast("dict[QueueAttributeNameType, str]", dict(attrs))  # names checked by the spec
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=dict(tags))["QueueUrl"]
        arn = queue_arn_of_url(factory, url, name)
        if arn is not None:
            return arn
        return str(
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        )


def queue_arn_of_url(factory: ClientFactory, url: str, name: str) -> str | None:
    """The ARN of the queue ``name`` just created at ``url`` (``.../ACCOUNT/NAME``), in the factory's
    region and its partition: what GetQueueAttributes(QueueArn) would answer, without the call. None
    when the URL does not name the account and the queue."""
    parts = url.rstrip("/").split("/")
    if len(parts) < 2 or parts[-1] != name or not (parts[-2].isdigit() and len(parts[-2]) == 12):
        return None
    region = factory.region
    partition = factory.session.get_partition_for_region(region)
    return f"arn:{partition}:sqs:{region}:{parts[-2]}:{name}"


def allow_topic(factory: ClientFactory, queue: str, queue_arn: str, topic_arn: str) -> None:
    """Let the topic (only) send to the queue: the policy an SNS subscription needs."""
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
    sqs = factory.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    sqs.set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": json.dumps(policy, separators=(",", ":"), sort_keys=True)}
    )


def delete_queue(factory: ClientFactory, name: str, url: str) -> None:
    with translate_errors(f"delete sqs queue {name}"):
        factory.client("sqs").delete_queue(QueueUrl=url)


class SqsAdapter(QueueReads):
    """An SQS queue: Lambda sends each failure (a pointer to its records) as one message."""

    kind = SQS

    def locate(self, on_failure: OnFailureSpec, *, what: str) -> DestinationRef:
        return locate_queue(self.factory, name_or_arn(on_failure), what=what)

    def from_live(self, live: LiveDestination, on_failure: OnFailureSpec | None) -> DestinationRef | None:
        if not live.url:
            return None
        return DestinationRef(type="sqs", arn=live.arn, name=live.name, queue_url=live.url)

    def read_live(self, arn: str, on_failure: OnFailureSpec) -> LiveDestination:
        url = canonical_queue_url(arn) or queue_url(self.factory, arn)
        if url is None:
            return missing_live(SQS, arn)
        sqs, name = self.factory.client("sqs"), resource_name(arn)
        found = unless_missing(
            lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]),
            SQS_MISSING,
            f"read sqs queue {name}",
        )
        if found is None:
            return missing_live(SQS, arn)
        attrs = found.get("Attributes", {})
        with translate_errors(f"read the tags of sqs queue {name}"):
            tags = sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) or {}
        kept = {k: str(attrs[k]) for k in SQS_ATTRIBUTES if k in attrs}
        return found_live(SQS, str(attrs.get("QueueArn", arn)), kept, tags, url=url)

    def create(self, p: Mapping[str, Any]) -> str:
        return create_queue(self.factory, p["name"], dict(p["attributes"]), dict(p["tags"]))

    def update(self, p: Mapping[str, Any]) -> None:
        with translate_errors(f"update sqs queue {p['name']}"):
            self.factory.client("sqs").set_queue_attributes(
                QueueUrl=p["url"], Attributes=dict(p["attributes"])
            )

    def tag(self, p: Mapping[str, Any]) -> None:
        with translate_errors(f"tag sqs queue {p['name']}"):
            self.factory.client("sqs").tag_queue(QueueUrl=p["url"], Tags=dict(p["tags"]))

    def delete(self, p: Mapping[str, Any]) -> None:
        delete_queue(self.factory, p["name"], p["url"])


class QueueAttributeTap:
    """Remembers the attributes of every GetQueueAttributes answered on the factory's SQS client.

    ``read_live`` asks for all of a queue's attributes (for drift), and that answer already holds the
    depth; keeping it saves one call per trigger. Only successful answers are kept, keyed by queue URL.
    """

    def __init__(self, factory: ClientFactory) -> None:
        self._lock = threading.Lock()
        self._attributes: dict[str, dict[str, str]] = {}
        self._events = factory.client("sqs").meta.events
        self._events.register("before-parameter-build.sqs.GetQueueAttributes", self._before)
        self._events.register("after-call.sqs.GetQueueAttributes", self._after)

    def __enter__(self) -> QueueAttributeTap:
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop listening (the client outlives one ``status`` read, e.g. under ``--watch``)."""
        self._events.unregister("before-parameter-build.sqs.GetQueueAttributes", self._before)
        self._events.unregister("after-call.sqs.GetQueueAttributes", self._after)

    def get(self, queue_url: str) -> dict[str, str] | None:
        with self._lock:
            return self._attributes.get(queue_url)

    def _before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["ddbtrigger_queue_url"] = params.get("QueueUrl")

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        url, attrs = context.get("ddbtrigger_queue_url"), parsed.get("Attributes")
        if url and isinstance(attrs, dict) and "Error" not in parsed:
            with self._lock:
                self._attributes.setdefault(url, {}).update({k: str(v) for k, v in attrs.items()})

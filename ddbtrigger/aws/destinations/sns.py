"""SNS topic destinations. A topic keeps nothing: failures are read (and counted) through an SQS queue
subscribed to it, its inspect queue (``on_failure.inspect_queue``, else the first SQS subscriber)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.destinations.base import (
    DestinationRef,
    account_id,
    found_live,
    missing,
    missing_live,
    unless_missing,
)
from ddbtrigger.aws.destinations.sqs import (
    QueueReads,
    allow_topic,
    create_queue,
    delete_queue,
    locate_queue,
    queue_arn_beside,
    queue_url,
)
from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.core.destinations import SNS, partition_of, resource_name
from ddbtrigger.core.live import MANAGED_TAG
from ddbtrigger.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_sns.type_defs import TagTypeDef

    from ddbtrigger.core.live import LiveDestination
    from ddbtrigger.core.spec import OnFailureSpec

SNS_MISSING = {"NotFound", "NotFoundException"}


def _tags(tags: Mapping[str, str]) -> list[TagTypeDef]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


class SnsAdapter(QueueReads):
    """An SNS topic: Lambda publishes each failure (a pointer to its records) as one notification;
    failures are counted and read through its inspect queue (``QueueReads``)."""

    kind = SNS

    def subscribed_queues(self, topic_arn: str) -> Iterator[str]:
        """The ARNs of the SQS queues subscribed to the topic."""
        sns = self.factory.client("sns")
        with translate_errors("list the sns topic's subscriptions"):
            for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
                for sub in page.get("Subscriptions", []):
                    if sub.get("Protocol") == "sqs" and str(sub.get("Endpoint", "")).startswith("arn:"):
                        yield str(sub["Endpoint"])

    def locate(self, on_failure: OnFailureSpec, *, what: str) -> DestinationRef:
        factory = self.factory
        arn = on_failure.arn or SNS.arn(
            str(on_failure.name),
            partition=partition_of(factory.region),
            region=factory.region,
            account=account_id(factory),
        )
        name = resource_name(arn)
        try:
            with translate_errors(f"find {what} (sns topic {name})"):
                factory.client("sns").get_topic_attributes(TopicArn=arn)
        except NotFound:
            raise missing(what, f"sns topic {name}") from None
        inspect = on_failure.inspect_queue or next(self.subscribed_queues(arn), None)
        tap = locate_queue(factory, inspect, what=f"the inspect queue of {what}") if inspect else None
        return DestinationRef(
            type="sns",
            arn=arn,
            name=name,
            inspect_queue_url=tap.queue_url if tap else None,
            inspect_queue_arn=tap.arn if tap else None,
        )

    def from_live(self, live: LiveDestination, on_failure: OnFailureSpec | None) -> DestinationRef | None:
        """Located again from the spec: the topic alone does not say which queue is its tap."""
        if on_failure is None:
            return None
        try:
            return self.locate(on_failure, what=f"the sns failure destination {live.name}")
        except NotFound:
            return None

    def read_live(self, arn: str, on_failure: OnFailureSpec) -> LiveDestination:
        sns, name = self.factory.client("sns"), resource_name(arn)
        found = unless_missing(
            lambda: sns.get_topic_attributes(TopicArn=arn), SNS_MISSING, f"read sns topic {name}"
        )
        if found is None:
            return missing_live(SNS, arn)
        attrs = found.get("Attributes", {})
        with translate_errors(f"read the tags of sns topic {name}"):
            raw_tags = sns.list_tags_for_resource(ResourceArn=arn).get("Tags", [])
        kept = {"KmsMasterKeyId": str(attrs["KmsMasterKeyId"])} if attrs.get("KmsMasterKeyId") else {}
        inspect = on_failure.inspect_queue if on_failure.managed else None
        if inspect and self._subscribed(arn, queue_arn_beside(arn, inspect)):
            kept["InspectQueue"] = inspect
        return found_live(SNS, arn, kept, {t["Key"]: t["Value"] for t in raw_tags})

    def _subscribed(self, topic_arn: str, queue_arn: str) -> bool:
        """Whether the queue exists and is subscribed to the topic (the read-back tap)."""
        if queue_url(self.factory, queue_arn) is None:
            return False
        return queue_arn in self.subscribed_queues(topic_arn)

    def create(self, p: Mapping[str, Any]) -> str:
        name, attrs, tags = p["name"], dict(p["attributes"]), dict(p["tags"])
        attrs.pop("InspectQueue", None)
        with translate_errors(f"create sns topic {name}"):
            created = self.factory.client("sns").create_topic(Name=name, Attributes=attrs, Tags=_tags(tags))
        arn = str(created["TopicArn"])
        if p.get("inspect_queue"):
            self.subscribe(arn, p["inspect_queue"], tags)
        return arn

    def subscribe(self, topic_arn: str, queue: str, tags: Mapping[str, str]) -> None:
        """An SQS queue subscribed to the topic, so failures published there can be read back."""
        queue_arn = create_queue(self.factory, queue, {"SqsManagedSseEnabled": "true"}, tags)
        with translate_errors(f"subscribe sqs queue {queue} to the sns topic"):
            allow_topic(self.factory, queue, queue_arn, topic_arn)
            self.factory.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)

    def update(self, p: Mapping[str, Any]) -> None:
        attrs = dict(p["attributes"])
        inspect = attrs.pop("InspectQueue", None)
        if inspect:
            self.subscribe(p["arn"], inspect, {MANAGED_TAG: p.get("trigger", "")})
        with translate_errors(f"update sns topic {p['name']}"):
            for key, value in attrs.items():
                self.factory.client("sns").set_topic_attributes(
                    TopicArn=p["arn"], AttributeName=key, AttributeValue=value
                )

    def tag(self, p: Mapping[str, Any]) -> None:
        with translate_errors(f"tag sns topic {p['name']}"):
            self.factory.client("sns").tag_resource(ResourceArn=p["arn"], Tags=_tags(dict(p["tags"])))

    def delete(self, p: Mapping[str, Any]) -> None:
        with translate_errors(f"delete sns topic {p['name']}"):
            self.factory.client("sns").delete_topic(TopicArn=p["arn"])
        if p.get("inspect_queue"):
            url = queue_url(self.factory, queue_arn_beside(p["arn"], p["inspect_queue"]))
            if url:
                delete_queue(self.factory, p["inspect_queue"], url)

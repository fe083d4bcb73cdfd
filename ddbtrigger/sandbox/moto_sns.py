"""SNS's notification envelope as AWS writes it, on top of moto's.

moto signs every notification with SHA256 and says ``SignatureVersion: "2"``, and its ``UnsubscribeURL``
names a made-up subscription in us-east-1. AWS signs with SHA1 and writes ``SignatureVersion: "1"``
unless the topic's ``SignatureVersion`` attribute asks for ``"2"`` (recorded: the envelope of a stream
mapping's on-failure record has ``"SignatureVersion": "1"``), and the unsubscribe link names the real
subscription, in the topic's region. The envelope is rebuilt from moto's with those three fixes; the
signature is a real one over the same string to sign, so a consumer that checks it can.
"""

from __future__ import annotations

import base64
from typing import Any

from ddbtrigger.sandbox.patching import Patcher


def _string_to_sign(envelope: dict[str, Any]) -> str:
    """SNS's canonical string of a Notification (Subject only when there is one)."""
    keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    return "".join(f"{key}\n{envelope[key]}\n" for key in keys if key in envelope)


def _as_aws(subscription: Any, envelope: dict[str, Any]) -> dict[str, Any]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    topic = subscription.topic
    version = str(getattr(topic, "SignatureVersion", None) or "1")  # moto's SetTopicAttributes: setattr
    algorithm = hashes.SHA256() if version == "2" else hashes.SHA1()  # SNS signature version 1 is SHA1
    signature = subscription.private_key().sign(
        _string_to_sign(envelope).encode("utf-8"), padding.PKCS1v15(), algorithm
    )
    region = topic.arn.split(":")[3]
    return {
        **envelope,
        "SignatureVersion": version,
        "Signature": base64.b64encode(signature).decode("ascii"),
        "UnsubscribeURL": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
        f"&SubscriptionArn={subscription.arn}",
    }


def install_sns(patcher: Patcher) -> None:
    """Patch moto's SNS envelope for the sandbox's lifetime."""
    from moto.sns.models import Subscription

    original = Subscription.get_post_data

    def get_post_data(subscription: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return _as_aws(subscription, original(subscription, *args, **kwargs))

    patcher.set(Subscription, "get_post_data", get_post_data)

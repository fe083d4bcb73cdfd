"""What every destination adapter offers (``DestinationAdapter``), and the values they share.

A located destination is a ``DestinationRef``; how full it is, a ``Depth``. Each type (``sqs``, ``sns``,
``s3``) has one adapter module beside this one; ``adapter_for`` in the package picks it. Nothing else in
the tool branches on the destination type.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ddbtrigger.aws.errors import error_code, translate_errors
from ddbtrigger.core.destinations import DestinationKind, DestinationType, resource_name
from ddbtrigger.core.failures import Held
from ddbtrigger.core.live import MANAGED_TAG, LiveDestination
from ddbtrigger.errors import NotFound

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.destinations.sqs import QueueAttributeTap
    from ddbtrigger.aws.dlq import Scan
    from ddbtrigger.core.spec import OnFailureSpec

DEFAULT_HOLD_SECONDS = 300
"""How long a scan holds each failure it read (SQS visibility, S3 lease). Here rather than in ``aws.dlq``
(the scans) so that reading a destination's settings (``plan``, ``status``) does not import the scans."""


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
    counted: Depth | None = None
    """The read queue's counts, when locating it read them (one GetQueueAttributes for the ARN and the
    counts): a scan then knows how many messages to expect, and what others held, without asking again."""

    @property
    def read_queue_url(self) -> str | None:
        """The SQS queue that failures are read from: the queue itself, or the SNS topic's tap."""
        return self.queue_url or self.inspect_queue_url


@dataclass(frozen=True)
class Depth:
    """How many failures a destination holds: ``total`` = waiting (``visible``) + held by a reader.

    ``in_flight`` is what a reader holds right now (SQS's not-visible count, S3's leased objects; else
    ``None``). ``oldest_at`` is when the oldest failure was written, when a listing tells it (S3).
    """

    visible: int
    in_flight: int | None = None
    oldest_at: datetime | None = None
    held_until: datetime | None = None
    """When the held (``in_flight``) failures are readable again, where known (S3 leases)."""

    @property
    def held(self) -> Held:
        return Held(self.in_flight or 0, self.held_until)

    @property
    def total(self) -> int:
        return self.visible + (self.in_flight or 0)


@dataclass(frozen=True)
class ScanOptions:
    """How to scan a destination: at most ``limit`` failures; each held ``hold_seconds`` while the
    scan runs; ``wait_seconds`` to confirm a queue is empty; ``skip`` the failures another run holds
    (S3 under a lease); ``redrive`` holds them while delivering, so they can then be deleted."""

    limit: int | None = None
    hold_seconds: int = DEFAULT_HOLD_SECONDS
    wait_seconds: int = 2
    skip: frozenset[str] = frozenset()
    redrive: bool = False


class DestinationAdapter(Protocol):
    """One destination type's reads and writes. ``depth`` has one meaning for every command: the
    failures the destination holds, waiting or held by a reader (``Depth.total``); ``destroy`` keeps a
    destination whose depth is not zero, and ``status`` shows the same number."""

    kind: DestinationKind

    def locate(self, on_failure: OnFailureSpec, *, what: str) -> DestinationRef:
        """The destination ``on_failure`` names; ``NotFound`` (saying what to do) when it is missing."""
        ...

    def from_live(self, live: LiveDestination, on_failure: OnFailureSpec | None) -> DestinationRef | None:
        """The ``DestinationRef`` of an existing destination ``read_live`` returned (None: unreadable)."""
        ...

    def read_live(self, arn: str, on_failure: OnFailureSpec) -> LiveDestination:
        """The managed settings and tags as they are (``exists=False`` when it is missing)."""
        ...

    def depth(self, ref: DestinationRef, *, seen: QueueAttributeTap | None = None) -> Depth | None:
        """How many failures it holds (never changes it); None when that cannot be read."""
        ...

    def held(self, ref: DestinationRef) -> Held:
        """The failures another reader holds right now, and when they reappear (where known)."""
        ...

    def open_scan(self, ref: DestinationRef, options: ScanOptions) -> Scan:
        """A scan of its failures (``redrive``: one that can hold them while delivering, then delete)."""
        ...

    def create(self, p: Mapping[str, Any]) -> str: ...
    def update(self, p: Mapping[str, Any]) -> None: ...
    def tag(self, p: Mapping[str, Any]) -> None: ...
    def delete(self, p: Mapping[str, Any]) -> None: ...


def unless_missing(call: Callable[[], Any], missing_codes: set[str], action: str) -> Any:
    """``call()``'s answer; None when AWS says what was asked for is absent (one of ``missing_codes``).
    Any other error is translated, saying what we were doing (``action``)."""
    try:
        return call()
    except Exception as e:
        if error_code(e) in missing_codes:
            return None
        with translate_errors(action):
            raise


def missing(what: str, resource: str) -> NotFound:
    return NotFound(
        f"{what} does not exist: no {resource} (run `ddbtrigger apply` to create a managed "
        f"destination, or fix on_failure in the spec)"
    )


def missing_live(kind: DestinationKind, arn: str) -> LiveDestination:
    return LiveDestination(type=kind.type, arn=arn, name=resource_name(arn), exists=False)


def found_live(
    kind: DestinationKind, arn: str, attributes: dict[str, str], tags: Mapping[str, str], **extra: Any
) -> LiveDestination:
    return LiveDestination(
        type=kind.type,
        arn=arn,
        name=resource_name(arn),
        exists=True,
        managed_tag=tags.get(MANAGED_TAG),
        attributes=attributes,
        tags=dict(tags),
        **extra,
    )


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

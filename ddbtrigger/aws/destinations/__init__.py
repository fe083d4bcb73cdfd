"""Failure destinations (SQS queue, SNS topic, S3 bucket): one adapter per type behind one protocol.

``adapter_for(type, factory)`` (a type, a ``DestinationRef``, a ``LiveDestination`` or an
``OnFailureSpec``: anything with ``.type``) is the only way the rest of the tool reaches a destination:
locate it, read its live settings (for ``plan``), count it (``depth``: one meaning everywhere, see
``base.DestinationAdapter``), scan, hold and delete its failures, and create, update, tag and delete it.
The functions below are the executor's and the planner's entry points.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.destinations.base import Depth, DestinationAdapter, DestinationRef, ScanOptions

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.dlq import Scan
    from ddbtrigger.core.desired import ArnContext
    from ddbtrigger.core.live import LiveDestination
    from ddbtrigger.core.spec import OnFailureSpec

__all__ = ["Depth", "DestinationAdapter", "DestinationRef", "adapter_for", "locate", "open_scan"]


def adapter_for(what: Any, factory: ClientFactory) -> DestinationAdapter:
    """The adapter of a destination type (a string, or anything with a ``type``)."""
    from ddbtrigger.core.destinations import kind

    return _adapter_class(kind(what if isinstance(what, str) else what.type).type)(factory)  # type: ignore[call-arg]


def _adapter_class(name: str) -> type[DestinationAdapter]:
    """The adapter class of a type, importing only its module (``plan`` of SQS destinations need not
    load the S3 and SNS adapters, nor what they import)."""
    if name == "sqs":
        from ddbtrigger.aws.destinations.sqs import SqsAdapter

        return SqsAdapter
    if name == "sns":
        from ddbtrigger.aws.destinations.sns import SnsAdapter

        return SnsAdapter
    from ddbtrigger.aws.destinations.s3 import S3Adapter

    return S3Adapter


def locate(
    factory: ClientFactory, on_failure: OnFailureSpec, *, trigger: str | None = None
) -> DestinationRef:
    """Locate ``on_failure``; ``NotFound`` names what is missing and what to do."""
    what = f"the {on_failure.type} failure destination" + (f" of trigger {trigger}" if trigger else "")
    return adapter_for(on_failure, factory).locate(on_failure, what=what)


def read_destination(factory: ClientFactory, on_failure: OnFailureSpec, ctx: ArnContext) -> LiveDestination:
    """The destination's live state (1-4 calls, by type)."""
    from ddbtrigger.core.desired import destination_arn

    return adapter_for(on_failure, factory).read_live(destination_arn(on_failure, ctx), on_failure)


def depth_of(
    factory: ClientFactory, live: LiveDestination, on_failure: OnFailureSpec | None, **kw: Any
) -> Depth | None:
    """The depth of a destination ``read_live`` found (None: it cannot be counted)."""
    adapter = adapter_for(live, factory)
    ref = adapter.from_live(live, on_failure) if live.exists else None
    return adapter.depth(ref, **kw) if ref else None


def create_destination(factory: ClientFactory, p: Mapping[str, Any]) -> str:
    """Create a managed destination, encrypted and tagged; returns its ARN."""
    return adapter_for(p["type"], factory).create(p)


def update_destination(factory: ClientFactory, p: Mapping[str, Any]) -> None:
    adapter_for(p["type"], factory).update(p)


def tag_destination(factory: ClientFactory, p: Mapping[str, Any]) -> None:
    adapter_for(p["type"], factory).tag(p)


def delete_destination(factory: ClientFactory, p: Mapping[str, Any]) -> None:
    """Delete a managed destination (the caller checked it is ours, and empty unless --force)."""
    adapter_for(p["type"], factory).delete(p)


def open_scan(factory: ClientFactory, ref: DestinationRef, **options: Any) -> Scan:
    """The scan of a located destination (``options``: those of ``ScanOptions``). Use it as a context
    manager, so held failures are released."""
    return adapter_for(ref, factory).open_scan(ref, ScanOptions(**options))

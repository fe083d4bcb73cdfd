"""Shard lineage of a DynamoDB stream, as a tree.

Shards open, close and split on their own; a child must be read only after its parent is finished, so
an operator needs the lineage (parent -> children), not a flat list. DescribeStream returns shards in
pages and in no promised order; a parent that has aged out of the stream (24 h) is simply absent, so its
children become roots. A shard is open while its range has no ending sequence number. Sequence numbers
are compared as integers (their lengths vary).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Shard:
    """One shard of a stream, as DescribeStream reports it."""

    shard_id: str
    parent_shard_id: str | None = None
    starting_sequence_number: str | None = None
    ending_sequence_number: str | None = None

    @property
    def open(self) -> bool:
        return self.ending_sequence_number is None

    @classmethod
    def from_aws(cls, shard: Mapping[str, Any]) -> Shard:
        """A shard from DescribeStream's ``StreamDescription.Shards[]`` entry."""
        span = shard.get("SequenceNumberRange") or {}
        return cls(
            shard_id=str(shard["ShardId"]),
            parent_shard_id=shard.get("ParentShardId") or None,
            starting_sequence_number=span.get("StartingSequenceNumber"),
            ending_sequence_number=span.get("EndingSequenceNumber"),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "shard_id": self.shard_id,
            "parent_shard_id": self.parent_shard_id,
            "open": self.open,
            "starting_sequence_number": self.starting_sequence_number,
            "ending_sequence_number": self.ending_sequence_number,
        }


@dataclass(frozen=True)
class ShardNode:
    """A shard with its children (each ordered by starting sequence number)."""

    shard: Shard
    children: tuple[ShardNode, ...] = ()


def shards_from_pages(pages: Iterable[Mapping[str, Any]]) -> list[Shard]:
    """The shards of DescribeStream responses (pages), each shard once, in page order."""
    seen: dict[str, Shard] = {}
    for page in pages:
        description = page.get("StreamDescription", page)
        for raw in description.get("Shards", []):
            shard = Shard.from_aws(raw)
            seen.setdefault(shard.shard_id, shard)
    return list(seen.values())


def _start_key(shard: Shard) -> tuple[int, str]:
    start = shard.starting_sequence_number
    return (int(start) if start and start.isdigit() else -1, shard.shard_id)


def lineage(shards: Iterable[Shard]) -> list[ShardNode]:
    """The lineage forest: roots are shards whose parent is absent (or unknown), oldest first.

    A malformed cycle of parents (never seen from AWS) cannot loop forever: any shard not reached
    from a root is promoted to a root.
    """
    by_id = {s.shard_id: s for s in shards}
    children: dict[str, list[Shard]] = {}
    roots: list[Shard] = []
    for shard in by_id.values():
        parent = shard.parent_shard_id
        if parent and parent in by_id and parent != shard.shard_id:
            children.setdefault(parent, []).append(shard)
        else:
            roots.append(shard)
    placed: set[str] = set()
    forest = [_build(r, children, placed) for r in sorted(roots, key=_start_key)]
    for orphan in sorted((s for s in by_id.values() if s.shard_id not in placed), key=_start_key):
        if orphan.shard_id not in placed:
            forest.append(_build(orphan, children, placed))
    return forest


def _build(shard: Shard, children: dict[str, list[Shard]], placed: set[str]) -> ShardNode:
    placed.add(shard.shard_id)
    kids = [c for c in sorted(children.get(shard.shard_id, []), key=_start_key) if c.shard_id not in placed]
    return ShardNode(shard, tuple(_build(c, children, placed) for c in kids))


def walk(forest: Iterable[ShardNode]) -> list[Shard]:
    """Every shard of the forest, parents before children (depth first, oldest branch first)."""
    out: list[Shard] = []
    stack = list(reversed(list(forest)))
    while stack:
        node = stack.pop()
        out.append(node.shard)
        stack.extend(reversed(node.children))
    return out


def ordered(shards: Iterable[Shard]) -> list[Shard]:
    """The shards in lineage order: every parent before its children."""
    return walk(lineage(shards))

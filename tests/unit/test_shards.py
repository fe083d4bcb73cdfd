"""Shard lineage from DescribeStream pages: parents before children, orphans as roots."""

from __future__ import annotations

from typing import Any

from ddbtrigger.core.shards import Shard, lineage, ordered, shards_from_pages, walk


def raw(shard_id: str, start: str, end: str | None = None, parent: str | None = None) -> dict[str, Any]:
    span: dict[str, str] = {"StartingSequenceNumber": start}
    if end is not None:
        span["EndingSequenceNumber"] = end
    shard: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": span}
    if parent:
        shard["ParentShardId"] = parent
    return shard


def page(*shards: dict[str, Any], last: str | None = None) -> dict[str, Any]:
    description: dict[str, Any] = {"StreamArn": "arn:s", "Shards": list(shards)}
    if last:
        description["LastEvaluatedShardId"] = last
    return {"StreamDescription": description}


# A split lineage over three pages, children listed before parents, one parent long gone (trimmed).
PAGES = [
    page(
        raw("shard-c1", "900", parent="shard-b"),
        raw("shard-a", "100", "399"),
        last="shard-a",
    ),
    page(
        raw("shard-b", "400", "899", parent="shard-a"),
        raw("shard-c2", "1000", parent="shard-b"),
        raw("shard-x", "50", "99", parent="shard-gone"),
        last="shard-x",
    ),
    page(raw("shard-y", "120", parent="shard-x"), raw("shard-a", "100", "399")),
]


def test_pages_are_merged_once_per_shard_in_page_order() -> None:
    shards = shards_from_pages(PAGES)
    assert [s.shard_id for s in shards] == [
        "shard-c1",
        "shard-a",
        "shard-b",
        "shard-c2",
        "shard-x",
        "shard-y",
    ]
    by_id = {s.shard_id: s for s in shards}
    assert by_id["shard-a"].open is False
    assert by_id["shard-c2"].open is True
    assert by_id["shard-c1"].parent_shard_id == "shard-b"


def test_lineage_tree_has_parents_before_children_and_orphans_as_roots() -> None:
    forest = lineage(shards_from_pages(PAGES))
    # roots: shard-x (its parent was trimmed) starts at 50, before shard-a at 100
    assert [n.shard.shard_id for n in forest] == ["shard-x", "shard-a"]
    x, a = forest
    assert [c.shard.shard_id for c in x.children] == ["shard-y"]
    (b,) = a.children
    assert b.shard.shard_id == "shard-b"
    assert [c.shard.shard_id for c in b.children] == ["shard-c1", "shard-c2"]
    order = [s.shard_id for s in walk(forest)]
    assert order == ["shard-x", "shard-y", "shard-a", "shard-b", "shard-c1", "shard-c2"]


def test_ordered_places_every_parent_first() -> None:
    shards = shards_from_pages(PAGES)
    order = [s.shard_id for s in ordered(shards)]
    position = {sid: i for i, sid in enumerate(order)}
    for s in shards:
        if s.parent_shard_id in position:
            assert position[s.parent_shard_id] < position[s.shard_id]
    assert len(order) == len(shards)


def test_sequence_numbers_compare_as_integers_not_strings() -> None:
    shards = [Shard("late", starting_sequence_number="1000"), Shard("early", starting_sequence_number="999")]
    assert [s.shard_id for s in ordered(shards)] == ["early", "late"]


def test_parent_cycle_does_not_loop_and_keeps_every_shard() -> None:
    shards = [
        Shard("a", parent_shard_id="b"),
        Shard("b", parent_shard_id="a"),
        Shard("c", parent_shard_id="c"),
    ]
    order = [s.shard_id for s in ordered(shards)]
    assert sorted(order) == ["a", "b", "c"]


def test_json_shape() -> None:
    shard = Shard.from_aws(raw("s1", "5", "9", parent="s0"))
    assert shard.as_json() == {
        "shard_id": "s1",
        "parent_shard_id": "s0",
        "open": False,
        "starting_sequence_number": "5",
        "ending_sequence_number": "9",
    }
    assert Shard.from_aws({"ShardId": "s2"}).as_json()["open"] is True

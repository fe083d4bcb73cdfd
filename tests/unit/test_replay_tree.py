"""replay's scheduling over a shard tree: children after their parent, siblings independent."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from ddbtrigger.core.checkpoint import Checkpoint, ReplayIdentity
from ddbtrigger.core.redrive import InvokeResponse
from ddbtrigger.core.windows import TimeWindow
from ddbtrigger.usecases.replay import ShardPlan, replay
from ddbtrigger.usecases.stream_target import StreamTarget

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000"


def _records(shard: str, n: int) -> list[dict[str, Any]]:
    base = {"root": 100, "a": 200, "a1": 300, "b": 400}[shard]
    return [
        {"eventName": "INSERT", "eventSourceARN": ARN, "dynamodb": {"SequenceNumber": str(base + i)}}
        for i in range(n)
    ]


class Gateway:
    """Fails every batch holding a sequence number of ``poison``; logs the batches it was given."""

    def __init__(self, poison: set[str]) -> None:
        self.poison = poison
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def deliver(self, function: str, event: Mapping[str, Any]) -> InvokeResponse:
        seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        with self.lock:
            self.batches.append(seqs)
        failed = bool(self.poison & set(seqs))
        return InvokeResponse(200, "Unhandled" if failed else None, b"{}")


def _run(gateway: Gateway) -> dict[str, dict[str, Any]]:
    chain = [
        ShardPlan("root", _records("root", 2)),
        ShardPlan("a", _records("a", 2), parent_id="root"),
        ShardPlan("a1", _records("a1", 2), parent_id="a"),
        ShardPlan("b", _records("b", 2), parent_id="root"),
    ]
    target = StreamTarget("orders-audit", "orders", ARN, "fn", batch_size=1)
    checkpoint = Checkpoint(ReplayIdentity(ARN, TimeWindow(0, 1)))
    report = replay([chain], gateway, target=target, function="fn", checkpoint=checkpoint, store=None)
    return {s["shard_id"]: s for s in report.as_json()["shards"]}


def test_children_follow_their_parent_and_siblings_do_not_wait_for_each_other() -> None:
    gateway = Gateway(poison=set())
    shards = _run(gateway)
    assert all(s["delivered"] == 2 for s in shards.values())
    order = [seq for batch in gateway.batches for seq in batch]
    position = {seq: i for i, seq in enumerate(order)}
    assert order[:2] == ["100", "101"]  # the root first
    assert position["201"] < position["300"]  # a before its child a1
    assert position["400"] < position["401"] and position["200"] < position["201"]


def test_a_stopped_shard_leaves_only_its_descendants_unsent() -> None:
    shards = _run(Gateway(poison={"200"}))
    assert (shards["a"]["failed"], shards["a"]["not_attempted"]) == (1, 1)  # its first batch failed
    assert shards["a1"]["not_attempted"] == 2 and "not attempted: shard a" in shards["a1"]["error"]
    assert shards["b"]["delivered"] == 2 and shards["b"]["error"] is None  # the sibling went on
    assert shards["root"]["delivered"] == 2


class SlowStore:
    """A checkpoint file whose first write waits until every other shard has advanced."""

    def __init__(self, run: Any, others: int) -> None:
        self.run, self.others = run, others
        self.saved: list[dict[str, str]] = []
        self.writing = threading.Event()

    def save(self, checkpoint: Checkpoint) -> None:
        self.writing.set()
        deadline = time.monotonic() + 10
        while not self.saved and self.run.version < 1 + self.others:
            assert time.monotonic() < deadline, "the other shards never advanced"
            time.sleep(0.005)
        self.saved.append(dict(checkpoint.positions))

    def remove(self) -> None:
        pass


def test_parallel_shards_share_checkpoint_writes_and_each_save_is_on_disk_when_it_returns() -> None:
    from ddbtrigger.usecases.replay import _Run, _save

    run = _Run(Gateway(set()), "fn", 1, None, Checkpoint(ReplayIdentity(ARN, TimeWindow(0, 1))))
    store = SlowStore(run, others=3)
    run.store = store
    shards = {"a": "200", "b": "400", "c": "500", "d": "600"}
    on_disk: dict[str, bool] = {}

    def save(shard: str) -> None:
        _save(run, shard, shards[shard])
        on_disk[shard] = store.saved[-1].get(shard) == shards[shard]

    threads = [threading.Thread(target=save, args=(shard,)) for shard in shards]
    threads[0].start()
    assert store.writing.wait(timeout=10)  # the first write is under way, holding only shard a
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert on_disk == dict.fromkeys(shards, True)  # every advance was written before _save returned
    assert store.saved[-1] == shards and len(store.saved) == 2  # the three waiting shared one write

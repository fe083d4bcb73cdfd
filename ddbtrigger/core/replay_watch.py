"""When a replay's temporary mapping has read past ``--until`` on every shard, so it can be removed.

Two kinds of evidence, best first:

- **Per-shard positions** (the sandbox exposes them; AWS does not): for each shard, the creation time
  of the last record the mapping's poller has read (delivered or filtered out), and whether the poller
  has reached the shard's current end. Done when every shard is read past ``until`` (plus a slack: creation
  times within a shard only approximately increase), or to its end with ``now`` past ``until``, or is a
  closed shard read to its end. Exact.
- **AWS** (no positions): Lambda publishes ``IteratorAge`` (dimension ``EventSourceMappingUUID``) only
  for batches it hands to the function, so records filtered out, the window's neighbours, leave no
  trace. The rule: ``now`` is past ``until`` + slack, the mapping is ``Enabled``, its last processing
  result is not a ``PROBLEM`` (a failing batch is being retried), and nothing has been delivered (no new
  IteratorAge datapoint) for ``quiet`` seconds. A delivered record written near ``until`` is not
  enough: IteratorAge's Maximum is one shard's, another shard may still be behind. Residual risk: a poller still filtering its way through a long
  stretch of records written before the window, delivering nothing for ``quiet`` seconds, looks done;
  ``quiet`` (default 5 min) must exceed the time to read the stream's history before the window, which
  at ~5 GetRecords/s x 1000 records per shard is about 4 minutes per million records per shard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SLACK_SECONDS = 5.0
"""Creation times within a shard only approximately increase: read a little past ``until``."""
QUIET_SECONDS = 300.0
"""AWS rule: this long with no delivery (and past ``until``) counts as done."""
PROBLEM_PREFIX = "PROBLEM"


@dataclass(frozen=True)
class ShardPosition:
    """One shard's poller: creation time of the last record read, whether it is at the shard's current
    end, and whether it has read a closed shard (a parent after a split) to its end."""

    read_through: float | None
    at_end: bool
    finished: bool = False


@dataclass(frozen=True)
class Observation:
    """One look at the mapping."""

    now: float
    state: str
    last_result: str = ""
    shards: Mapping[str, ShardPosition] | None = None
    """Per-shard positions when the platform exposes them (the sandbox), else None."""
    last_delivered: float | None = None
    """AWS: creation time of the last record handed to the function (IteratorAge's datapoint time
    minus its age), None when no datapoint."""
    last_delivery_at: float | None = None
    """AWS: when that datapoint was taken."""


@dataclass(frozen=True)
class Verdict:
    done: bool
    why: str
    shards_past: int = 0
    shards: int = 0


@dataclass
class Watch:
    """Folds observations into a verdict; ``started`` is when the mapping became Enabled."""

    until: float
    started: float
    slack: float = SLACK_SECONDS
    quiet: float = QUIET_SECONDS
    seen: list[Observation] = field(default_factory=list)

    def judge(self, obs: Observation) -> Verdict:
        self.seen.append(obs)
        if obs.state != "Enabled":
            return Verdict(False, f"mapping is {obs.state}")
        if obs.shards is not None:
            return self._by_position(obs)
        return self._by_metrics(obs)

    def _by_position(self, obs: Observation) -> Verdict:
        assert obs.shards is not None
        past = sum(1 for p in obs.shards.values() if self._past(p, obs.now))
        total = len(obs.shards)
        done = total > 0 and past == total
        why = f"{past}/{total} shard(s) read past --until"
        return Verdict(done, why, past, total)

    def _past(self, position: ShardPosition, now: float) -> bool:
        if position.finished:
            return True
        if position.read_through is not None and position.read_through >= self.until + self.slack:
            return True
        return position.at_end and now >= self.until + self.slack

    def _by_metrics(self, obs: Observation) -> Verdict:
        if obs.now < self.until + self.slack:
            return Verdict(False, "--until is not yet past")
        if obs.last_result.startswith(PROBLEM_PREFIX):
            return Verdict(False, f"the last batch failed ({obs.last_result}): the mapping retries")
        since = obs.last_delivery_at if obs.last_delivery_at is not None else self.started
        idle = obs.now - max(since, self.started)
        if idle >= self.quiet:
            return Verdict(True, f"nothing delivered for {idle:.0f}s after --until")
        return Verdict(False, f"waiting for {self.quiet - idle:.0f}s of quiet")

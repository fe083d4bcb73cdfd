"""Open a local replay on a spec trigger: its stream, the closed window, the checkpoint, the plan."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ddbtrigger.core.checkpoint import Checkpoint, ReplayIdentity
from ddbtrigger.core.selection import Selection
from ddbtrigger.usecases.checkpoint import CheckpointFile
from ddbtrigger.usecases.replay import (
    ReplayGateway,
    ReplayReport,
    ShardPlan,
    default_checkpoint_path,
    identity_of,
    plan,
    replay,
)
from ddbtrigger.usecases.stream_target import StreamTarget, from_spec, one_trigger


@dataclass
class ReplaySession:
    """Everything read before asking: the plan (what will be sent) and where progress is kept."""

    target: StreamTarget
    function: str
    selection: Selection
    identity: ReplayIdentity
    store: CheckpointFile
    checkpoint: Checkpoint
    chains: list[list[ShardPlan]]
    gateway: ReplayGateway

    @property
    def pending(self) -> int:
        return sum(len(s.records) for c in self.chains for s in c)

    @property
    def skipped(self) -> int:
        return sum(s.skipped for c in self.chains for s in c)

    def run(self, *, dry_run: bool, concurrency: int = 4) -> ReplayReport:
        return replay(
            self.chains,
            self.gateway,
            target=self.target,
            function=self.function,
            checkpoint=self.checkpoint,
            store=None if dry_run else self.store,
            dry_run=dry_run,
            concurrency=concurrency,
            checkpoint_path=str(self.store.path),
        )


def open_replay(
    factory: Any,
    triggers: Any,
    selection: Selection,
    *,
    to_function: str | None,
    checkpoint_path: Path | None,
    now: float | None = None,
    cwd: Path | None = None,
) -> ReplaySession:
    """Resolve the trigger, close the window at ``now`` (a rerun of ``--since 2h`` later is another
    window: pass ISO times to resume), resume the checkpoint and read the plan."""
    from ddbtrigger.aws.stream_pages import AwsReplayGateway

    target = from_spec(factory, one_trigger(triggers, "replay"))
    function = to_function or target.function
    selection = replace(selection, window=selection.window.closed(time.time() if now is None else now))
    identity = identity_of(target, selection, function)
    path = checkpoint_path or default_checkpoint_path(target, identity, cwd=cwd or Path.cwd())
    path.parent.mkdir(parents=True, exist_ok=True)
    store = CheckpointFile(path)
    checkpoint = store.resume(identity)
    gateway = AwsReplayGateway(factory)
    chains = plan(gateway, target.stream_arn, selection, checkpoint)
    return ReplaySession(target, function, selection, identity, store, checkpoint, chains, gateway)

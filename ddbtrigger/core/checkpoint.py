"""A replay's checkpoint: per shard, the last sequence number the function acknowledged.

A killed or interrupted ``replay`` is run again; it must not send again what was acknowledged (the
function must be idempotent, but a second copy of two hours of records is still a second copy), and it
must send everything after that at least once. So after each acknowledged batch the run records the
batch's last acknowledged sequence number for its shard, and a resumed run skips every record of that
shard at or below it. Sequence numbers are compared as integers (their lengths vary).

A checkpoint belongs to one replay: the stream, the window (absolute times: ``--since 2h`` means
another window an hour later, so a replay fixes its window when it starts, see
``TimeWindow.closed``), the selection (keys, filters, events) and the target function. Resuming with a
different one is refused with what differs, never silently mixed.

Pure: reading and writing the file is ``usecases.checkpoint``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ddbtrigger.core.events import sequence_key
from ddbtrigger.core.windows import TimeWindow, WindowError

VERSION = 1
R = TypeVar("R", bound=Mapping[str, Any])


class CheckpointError(ValueError):
    """A checkpoint that is unreadable, or that belongs to another replay."""


@dataclass(frozen=True)
class ReplayIdentity:
    """What makes two replay runs the same replay."""

    stream_arn: str
    window: TimeWindow
    target: str = ""
    selection: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "stream_arn": self.stream_arn,
            "window": self.window.as_json(),
            "target": self.target,
            "selection": dict(self.selection),
        }

    def differences(self, other: ReplayIdentity) -> list[str]:
        """Human lines for each field that differs (empty when the same)."""
        lines = []
        if self.stream_arn != other.stream_arn:
            lines.append(f"stream {other.stream_arn} (the checkpoint's is {self.stream_arn})")
        if self.window != other.window:
            lines.append(f"window {other.window.describe()} (the checkpoint's is {self.window.describe()})")
        if self.target != other.target:
            lines.append(f"function {other.target or '-'} (the checkpoint's is {self.target or '-'})")
        if dict(self.selection) != dict(other.selection):
            lines.append("keys, filters or events differ from the checkpoint's")
        return lines


@dataclass(frozen=True)
class Checkpoint:
    """Per shard, the last acknowledged sequence number of one replay."""

    identity: ReplayIdentity
    positions: Mapping[str, str] = field(default_factory=dict)

    def check(self, identity: ReplayIdentity) -> None:
        """Refuse (``CheckpointError``) to resume another replay with this checkpoint."""
        differences = self.identity.differences(identity)
        if differences:
            raise CheckpointError(
                "the checkpoint belongs to another replay: this run has "
                + "; ".join(differences)
                + ". Rerun with the checkpoint's window (ISO times), or use another checkpoint file."
            )

    def acknowledged(self, shard_id: str, sequence_number: str) -> bool:
        last = self.positions.get(shard_id)
        return last is not None and sequence_key(sequence_number) <= sequence_key(last)

    def pending(self, shard_id: str, records: Iterable[R]) -> list[R]:
        """The records (one shard's) still to send: those after the shard's acknowledged position."""
        return [r for r in records if not self.acknowledged(shard_id, _sequence_number(r))]

    def advance(self, shard_id: str, sequence_number: str) -> Checkpoint:
        """The checkpoint with ``shard_id`` acknowledged through ``sequence_number`` (never backwards)."""
        if self.acknowledged(shard_id, sequence_number):
            return self
        return replace(self, positions={**self.positions, shard_id: sequence_number})

    def as_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            **self.identity.as_json(),
            "positions": dict(sorted(self.positions.items())),
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """A checkpoint from its JSON document; ``CheckpointError`` says what is wrong with it."""
        if not isinstance(data, Mapping) or data.get("version") != VERSION:
            raise CheckpointError(f"not a ddbtrigger replay checkpoint (version {VERSION})")
        positions = data.get("positions")
        if not isinstance(positions, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v.isdigit() for k, v in positions.items()
        ):
            raise CheckpointError("the checkpoint's positions must map shard ids to sequence numbers")
        stream, target, selection = data.get("stream_arn"), data.get("target", ""), data.get("selection", {})
        if not isinstance(stream, str) or not isinstance(target, str) or not isinstance(selection, Mapping):
            raise CheckpointError("the checkpoint's stream_arn, target or selection is malformed")
        try:
            window = TimeWindow.from_json(data.get("window"))
        except WindowError as e:
            raise CheckpointError(f"the checkpoint's window is malformed: {e}") from None
        return cls(ReplayIdentity(stream, window, target, dict(selection)), dict(positions))


def acknowledged_through(
    sequence_numbers: Sequence[str], *, delivered: bool, failed_items: Collection[str] = ()
) -> str | None:
    """The last sequence number of a sent batch that the function acknowledged, as Lambda checkpoints.

    Delivered: the batch's last. A partial batch response: the record before the lowest reported
    failure (Lambda retries from there). A failed batch, or a failure at the first record: ``None``.
    Failed items that are not in the batch acknowledge nothing (a malformed response).
    """
    if delivered:
        return sequence_numbers[-1] if sequence_numbers else None
    known = [s for s in failed_items if s in sequence_numbers]
    if not known or len(known) != len(failed_items):
        return None
    first_failed = sequence_numbers.index(min(known, key=sequence_key))
    return sequence_numbers[first_failed - 1] if first_failed > 0 else None


def _sequence_number(record: Mapping[str, Any]) -> str:
    return str((record.get("dynamodb") or {})["SequenceNumber"])

"""Which stream ``tail`` and ``replay`` work on, and which function and batch size a replay uses.

A ``StreamTarget`` is all the two commands need from a trigger. Today it is built from one spec trigger
(``from_spec``); ``--mapping UUID`` / ``--table T`` (spec-less targeting, built from the live mapping as
``export`` does) only needs another builder returning the same value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ddbtrigger.errors import UsageError

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.spec import TriggerSpec


@dataclass(frozen=True)
class StreamTarget:
    """One trigger's stream: its name (for messages and file names), table, the table's current stream,
    the trigger's function and the batch size its mapping uses."""

    name: str
    table: str
    stream_arn: str
    function: str
    batch_size: int
    mapping_uuid: str | None = None


def one_trigger(triggers: Sequence[TriggerSpec], command: str) -> TriggerSpec:
    """tail and replay work on one stream: the spec's only trigger, or the one ``--trigger`` names."""
    if len(triggers) != 1:
        names = ", ".join(t.name for t in triggers) or "none"
        raise UsageError(f"{command} works on one trigger: pick it with --trigger (the spec selects {names})")
    return triggers[0]


def from_spec(factory: ClientFactory, trigger: TriggerSpec) -> StreamTarget:
    """The trigger's table stream (it must exist and be enabled) and its live mapping's batch size (the
    spec's when the mapping is not there)."""
    from ddbtrigger.aws.live import read_trigger

    live = read_trigger(factory, trigger)
    if live.table is None:
        raise UsageError(f"trigger {trigger.name}: table {trigger.table_name} does not exist")
    if not live.table.stream_enabled or not live.table.latest_stream_arn:
        raise UsageError(f"trigger {trigger.name}: table {trigger.table_name} has no enabled stream")
    batch_size = (live.mapping.batch_size if live.mapping else None) or trigger.mapping.batch_size
    return StreamTarget(
        name=trigger.name,
        table=trigger.table_name,
        stream_arn=live.table.latest_stream_arn,
        function=trigger.function,
        batch_size=batch_size,
        mapping_uuid=live.mapping.uuid if live.mapping else None,
    )

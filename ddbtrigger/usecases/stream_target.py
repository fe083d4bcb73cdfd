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
    from ddbtrigger.aws.live import list_mappings, read_table
    from ddbtrigger.core.live import same_function

    table = read_table(factory, trigger.table_name)
    if table is None:
        raise UsageError(f"trigger {trigger.name}: table {trigger.table_name} does not exist")
    stream = table.latest_stream_arn
    if not table.stream_enabled or not stream:
        raise UsageError(f"trigger {trigger.name}: table {trigger.table_name} has no enabled stream")
    mapping = next(
        (m for m in list_mappings(factory, source=stream) if same_function(trigger.function, m.function_arn)),
        None,
    )
    return StreamTarget(
        name=trigger.name,
        table=trigger.table_name,
        stream_arn=stream,
        function=trigger.function,
        batch_size=(mapping.batch_size if mapping else None) or trigger.mapping.batch_size,
        mapping_uuid=mapping.uuid if mapping else None,
    )

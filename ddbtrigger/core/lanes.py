"""Which of a plan's changes may run at the same time: lanes of changes that share nothing.

``apply`` runs each lane's changes one after another, in the plan's order, and different lanes side
by side. Two changes share a lane when they belong to the same trigger (a trigger's order is the
plan's: destination, stream, mapping, alarms) or when their steps touch the same AWS resource (a
table, a function, a mapping, a destination, an alarm): e.g. two triggers on one table, where the
second's mapping needs the stream the first's change enables, stay in the plan's order. Everything
else is independent: each trigger's table, queue and mapping are its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from ddbtrigger.core.plan import (
    Change,
    CreateMapping,
    DeleteAlarms,
    DestinationStep,
    PutAlarm,
    Step,
    UpdateStream,
    WaitTable,
)


def touches(step: Step) -> set[str]:
    """The AWS resources a step reads or writes, as ``kind:name`` keys."""
    match step:
        case WaitTable(table=table) | UpdateStream(table=table):
            return {f"table:{table}"}
        case CreateMapping(table=table, function=function):
            return {f"table:{table}", f"function:{function}"}
        case DestinationStep(destination=where):
            keys = {f"{where.type}:{where.name}"}
            if where.inspect_queue:
                keys.add(f"sqs:{where.inspect_queue}")
            return keys
        case PutAlarm(name=name):
            return {f"alarm:{name}"}
        case DeleteAlarms(names=names):
            return {f"alarm:{name}" for name in names}
    uuid = getattr(step, "uuid", None)  # the mapping steps: a UUID known now (an Output is this change's)
    return {f"mapping:{uuid}"} if isinstance(uuid, str) else set()


def change_keys(change: Change) -> set[str]:
    """Its trigger and every resource its steps touch."""
    keys = {f"trigger:{change.trigger}"}
    for step in change.steps:
        keys |= touches(step)
    return keys


def lanes(changes: Sequence[Change]) -> list[list[Change]]:
    """``changes`` split into lanes that share no key, each in the order given; lanes are ordered by
    their first change (so one lane per trigger, in the plan's order, when triggers share nothing)."""
    parent = list(range(len(changes)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}  # key -> the first change that touched it
    for index, change in enumerate(changes):
        for key in change_keys(change):
            first = owner.setdefault(key, index)
            a, b = root(first), root(index)
            parent[max(a, b)] = min(a, b)
    grouped: dict[int, list[Change]] = {}
    for index, change in enumerate(changes):
        grouped.setdefault(root(index), []).append(change)
    return list(grouped.values())

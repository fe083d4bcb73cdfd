"""Which trigger a failure belongs to, when several triggers share one destination.

``inspect-dlq`` (to label a failure) and ``redrive`` (to choose what each trigger redelivers) ask the
same question and must give the same answer, or a failure listed under one trigger would be redriven by
another. The rule: the failure's table (from its stream ARN), then its function, alias included
(``fn:blue`` and ``fn:green`` are different triggers of the same function).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from ddbtrigger.core.live import same_function


class Owner(Protocol):
    @property
    def table_name(self) -> str: ...
    @property
    def function(self) -> str: ...


T = TypeVar("T", bound=Owner)


def table_of(stream_arn: str) -> str:
    """``arn:aws:dynamodb:r:a:table/NAME/stream/LABEL`` -> NAME (``""`` when it is no stream ARN)."""
    parts = stream_arn.split("/")
    return parts[1] if len(parts) > 2 else ""


def owning_trigger(stream_arn: str, function_arn: str, triggers: Sequence[T]) -> T | None:
    """The trigger whose table and function wrote this failure; ``None`` when none of ``triggers`` did.

    Among the triggers of the failure's table: the only one; else the one whose function (alias-aware)
    is the failed function; a failure that names no function goes to the first of them.
    """
    of_table = [t for t in triggers if t.table_name == table_of(stream_arn)]
    if len(of_table) <= 1 or not function_arn:
        return of_table[0] if of_table else None
    return next((t for t in of_table if same_function(t.function, function_arn)), None)

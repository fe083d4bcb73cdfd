"""``--env all``: run one read-only use case in every environment at once, each with its own factory.

Environments usually live in different accounts, so one that cannot be read (expired credentials, a
missing table) is reported next to the others' results instead of stopping them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ddbtrigger.errors import DdbtError

if TYPE_CHECKING:
    from ddbtrigger.usecases.spec_file import Workspace

T = TypeVar("T")
MAX_PARALLEL = 8


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """One environment's result, or the error that stopped it."""

    env: str
    value: T | None = None
    error: DdbtError | None = None

    def error_json(self) -> dict[str, Any]:
        """The usual JSON error object, for this environment's entry."""
        assert self.error is not None
        return {
            "error": {"code": self.error.code, "message": self.error.message, "details": self.error.details}
        }


def for_each(workspaces: list[Workspace], work: Callable[[Workspace], T]) -> dict[str, Outcome[T]]:
    """``work`` in every workspace, in parallel; the outcomes keyed by environment, in the file's order."""

    def one(ws: Workspace) -> Outcome[T]:
        name = ws.env or "default"
        try:
            return Outcome(name, value=work(ws))
        except DdbtError as e:
            return Outcome(name, error=e)
        except Exception as e:  # one environment's surprise must not hide the others' results
            text = " ".join(str(e).split())
            return Outcome(name, error=DdbtError(f"unexpected {type(e).__name__}: {text}"))

    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(workspaces)))) as pool:
        outcomes = list(pool.map(one, workspaces))
    return {o.env: o for o in outcomes}

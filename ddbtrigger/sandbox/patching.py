"""Scoped monkeypatching: every change to moto's classes is undone when the sandbox stops.

Tests run the sandbox in-process next to plain moto fixtures, so the sandbox must leave moto exactly as
it found it.
"""

from __future__ import annotations

from typing import Any


class Patcher:
    """Set attributes and remember the old values; ``restore`` puts them back in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any, bool]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        had = name in vars(owner) if isinstance(owner, type) else hasattr(owner, name)
        self._saved.append(
            (
                owner,
                name,
                vars(owner).get(name) if isinstance(owner, type) else getattr(owner, name, None),
                had,
            )
        )
        setattr(owner, name, value)

    def restore(self) -> None:
        while self._saved:
            owner, name, old, had = self._saved.pop()
            if had:
                setattr(owner, name, old)
            else:
                delattr(owner, name)

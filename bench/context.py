"""What every benchmark receives: sizes, repeats, and the shared local AWS."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ctx:
    quick: bool = False
    repeats: int = 3
    server: str = "auto"
    latencies: tuple[int, ...] = (0, 20)
    log: Any = None
    notes: list[str] = field(default_factory=list)

    def say(self, message: str) -> None:
        """Progress on stderr, so stdout holds only the table."""
        import sys

        print(f"[bench] {message}", file=sys.stderr, flush=True)

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

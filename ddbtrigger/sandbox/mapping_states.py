"""The life cycle of an event source mapping as Lambda runs it: transitional states, then the end state.

AWS answers Create/Update/Delete with 202 and a transitional state (``Creating``, ``Enabling``,
``Disabling``, ``Updating``, ``Deleting``); the end state (``Enabled``/``Disabled``, or gone) comes
seconds to minutes later, and an update or delete meanwhile is refused with ``ResourceInUseException``.
The sandbox reproduces that with a configurable dwell (``--state-seconds``) so the product's waits are
exercised; a dwell of 0 settles at once (the response still shows the transitional state, as AWS's does).

The state lives on the mapping's ``MappingRuntime`` and is resolved lazily against the sandbox's clock:
nothing needs a timer thread, and a test that drives a fake clock drives the transitions too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Clock = Callable[[], float]

TRANSITIONAL = frozenset({"Creating", "Enabling", "Disabling", "Updating", "Deleting"})
POLLING = frozenset({"Enabled", "Updating"})  # Updating keeps reading; Creating/Enabling not yet


@dataclass
class Lifecycle:
    """Where one mapping is: a transition (until ``settles_at``) or settled; ``deleting`` ends in gone."""

    transition: str | None = None
    settles_at: float = 0.0
    deleting: bool = False
    clock: Clock = time.time

    def state(self, enabled: bool) -> str:
        if self.deleting:
            return "Deleting"
        if self.transition is not None and self.clock() < self.settles_at:
            return self.transition
        self.transition = None
        return "Enabled" if enabled else "Disabled"

    def gone(self) -> bool:
        """A deletion whose dwell is over: the mapping is to be removed."""
        return self.deleting and self.clock() >= self.settles_at


@dataclass(frozen=True)
class Dwell:
    """How long transitions last in this sandbox, on which clock."""

    seconds: float = 0.0
    clock: Clock = time.time

    def begin(self, life: Lifecycle, transition: str) -> str:
        """Start ``transition``; returns the state the mutating call answers with."""
        life.clock = self.clock
        life.transition = transition
        life.settles_at = self.clock() + self.seconds
        life.deleting = transition == "Deleting"
        return transition


def update_transition(spec: dict[str, Any], enabled: bool) -> str:
    """The state an UpdateEventSourceMapping puts the mapping in."""
    if "Enabled" in spec and bool(spec["Enabled"]) != enabled:
        return "Enabling" if spec["Enabled"] else "Disabling"
    return "Updating"

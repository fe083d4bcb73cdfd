"""``replay --engine lambda``: wired in ``usecases.replay_lambda``."""

from __future__ import annotations

from typing import Any

from ddbtrigger.cli.render import Output


def run_lambda(
    ws: Any, selection: Any, out: Output, *, to_function: str | None, dry_run: bool, yes: bool, timeout: float
) -> None:
    from ddbtrigger.errors import UsageError

    raise UsageError("--engine lambda is not available yet")

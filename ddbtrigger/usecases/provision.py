"""plan / apply / destroy: read live state, plan with the pure planner, check, then execute.

The use cases receive the ``ClientFactory`` (and ``sleep``/``clock``/``progress`` for the executor) so
tests can observe every call; nothing here prints. ``apply`` checks everything that can refuse the plan
(lint errors, a replace without ``--allow-replace``) before the first change is made.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddbtrigger.core.desired import filled_defaults
from ddbtrigger.core.lint import Finding, blocking, lint
from ddbtrigger.core.plan import (
    REPLAY_WARNING,
    Change,
    Plan,
    plan,
    plan_destroy,
    replay_probes,
    with_replay_warnings,
)
from ddbtrigger.errors import DdbtError, LintError, NotFound, PlanRefused

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.executor import Progress
    from ddbtrigger.aws.waiters import Clock, Sleep
    from ddbtrigger.core.live import LiveTrigger
    from ddbtrigger.core.spec import Spec, TriggerSpec


@dataclass(frozen=True)
class PlanResult:
    """A plan with what ``plan`` shows next to it: the defaults filled in and the lint findings."""

    plan: Plan
    triggers: list[TriggerSpec]
    live: list[LiveTrigger]
    findings: list[Finding] = field(default_factory=list)
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """Exactly PRODUCT.md's ``{"changes": [...], "summary": {...}}``."""
        return self.plan.as_json()


def check_live(triggers: Sequence[TriggerSpec], live: Sequence[LiveTrigger]) -> None:
    """Refuse to plan against a table or function that does not exist (one clear line)."""
    for trigger, found in zip(triggers, live, strict=True):
        if found.table is None:
            raise NotFound(f"table {trigger.table_name} does not exist (trigger {trigger.name})")
        if found.function_arn is None:
            raise NotFound(
                f"function {trigger.function} does not exist: deploy it first (trigger {trigger.name})"
            )


def make_plan(factory: ClientFactory, spec: Spec, triggers: list[TriggerSpec]) -> PlanResult:
    """Read what is live and plan the changes that make it match the spec."""
    from ddbtrigger.aws.live import read_live

    live = read_live(factory, triggers)
    check_live(triggers, live)
    the_plan = plan(triggers, live, region=factory.region)
    return PlanResult(
        plan=with_replay_warnings(the_plan, replaying(factory, replay_probes(the_plan, triggers, live))),
        triggers=triggers,
        live=live,
        findings=lint(spec, triggers),
        defaults={t.name: filled_defaults(t) for t in triggers},
    )


def replaying(factory: ClientFactory, probes: dict[str, str]) -> dict[str, str]:
    """Trigger name -> the replay warning, for each probed stream that holds records (one read per
    stream; a stream that cannot be read is warned about too: the replay cannot be ruled out)."""
    if not probes:
        return {}
    from ddbtrigger.aws.stream_probe import stream_holds_records

    found: dict[str, str | None] = {}
    for arn in dict.fromkeys(probes.values()):
        try:
            found[arn] = REPLAY_WARNING if stream_holds_records(factory, arn) else None
        except DdbtError as e:
            found[arn] = f"starts at TRIM_HORIZON; could not check the stream for records ({e.message})"
    return {name: text for name, arn in probes.items() if (text := found[arn]) is not None}


def refuse_lint(findings: list[Finding], *, strict: bool) -> None:
    refused = blocking(findings, strict=strict)
    if refused:
        lines = [f"{f.trigger}: {f.code}: {f.message}" for f in refused]
        raise LintError(f"{len(refused)} lint finding(s) refuse the spec; nothing was changed", details=lines)


def refuse_replace(result: PlanResult, *, allow_replace: bool) -> None:
    """A replace loses the mapping's read position: it needs ``--allow-replace``, asked before anything."""
    if result.plan.replaces and not allow_replace:
        lines = [f"{c.trigger}: replace {c.resource}: {c.reason}" for c in result.plan.replaces]
        raise PlanRefused(
            f"the plan replaces {len(lines)} resource(s); pass --allow-replace to accept "
            "(a new mapping loses the old read position). Nothing was changed",
            details=lines,
        )


def execute(
    factory: ClientFactory,
    the_plan: Plan,
    *,
    timeout: float = 600.0,
    sleep: Sleep = time.sleep,
    clock: Clock = time.monotonic,
    progress: Progress | None = None,
    concurrency: int | None = None,
) -> list[Change]:
    """Run the plan's pending changes, each trigger's in order and independent triggers side by side
    (``concurrency`` at most, ``MAX_IN_FLIGHT`` by default; 1: one at a time, in the plan's order);
    returns those done (raises the first hard error, once the changes running then have finished)."""
    from ddbtrigger.aws.clients import MAX_IN_FLIGHT
    from ddbtrigger.aws.executor import Executor

    executor = Executor(
        factory, timeout=timeout, sleep=sleep, clock=clock, concurrency=concurrency or MAX_IN_FLIGHT
    )
    if progress is not None:
        executor.progress = progress
    return executor.run(the_plan)


def change_label(change: Change) -> str:
    """How the executor names a change in its progress and its summary (``trigger: action resource``)."""
    from ddbtrigger.aws.executor import describe

    return describe(change)


def make_destroy_plan(
    factory: ClientFactory, triggers: list[TriggerSpec], *, force: bool, disable_stream: bool
) -> tuple[Plan, list[LiveTrigger]]:
    """What ``destroy`` would delete; managed destinations are counted so a full one is kept."""
    from ddbtrigger.aws.destinations import depth_of
    from ddbtrigger.aws.live import read_live

    live = read_live(factory, triggers)
    depths: dict[str, int | None] = {}
    for trigger, found in zip(triggers, live, strict=True):
        if (
            trigger.on_failure
            and trigger.on_failure.managed
            and found.destination
            and found.destination.exists
        ):
            depth = depth_of(factory, found.destination, trigger.on_failure)
            depths[trigger.name] = depth.total if depth else 0
    return plan_destroy(triggers, live, depths=depths, force=force, disable_stream=disable_stream), live

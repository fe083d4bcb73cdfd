"""The pure planner: desired spec + live state -> an ordered list of changes (data, not calls).

Each ``Change`` names its trigger, resource, action, field diff and reason, plus the concrete ``Step``s
the executor runs. ``plan`` and ``apply`` share one plan, so what is shown is what is done. Order per
trigger: failure destination (a mapping must point at something that exists), then the stream, then the
mapping, then its CloudWatch alarms (``core.alarms``); a replace is delete, wait until gone, then create (never create-first: that 409s).

Steps are typed values, one frozen dataclass per kind (chalice's ``APICall``, but typed), checked when
the plan is built. What does not exist yet is referred to by name: a create step names its result
(``CreateMapping.output``) and the later steps of its change read it through ``Output(name)``; the table's
latest stream ARN after a re-enable is read when the mapping is created. ``aws.executor`` runs them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal

from ddbtrigger.core.alarms import METRICS, alarm_diff, desired_alarms, put_params
from ddbtrigger.core.desired import (
    UPDATABLE,
    ArnContext,
    aws_params,
    create_params,
    desired_destination_attributes,
    desired_mapping,
    observed_mapping,
)
from ddbtrigger.core.live import (
    MANAGED_TAG,
    DestinationKind,
    LiveAlarm,
    LiveDestination,
    LiveMapping,
    LiveTrigger,
)
from ddbtrigger.core.spec import TriggerSpec, ViewType
from ddbtrigger.errors import Conflict, NotFound, SpecError

Resource = Literal["stream", "mapping", "on_failure", "alarm"]
Action = Literal["create", "update", "replace", "delete", "no-op"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete", "no-op")


# --- steps: what ``apply`` does, as plain typed data --------------------------------------------------


@dataclass(frozen=True)
class Output:
    """The result an earlier step of the same change named (e.g. the UUID ``CreateMapping`` made)."""

    name: str


MappingId = str | Output  # a mapping's UUID, known now or made by an earlier step


class _Step:
    """What every step kind shares: its ``op``, the class name in snake case (``CreateMapping`` is
    ``create_mapping``), used in messages and tests; derived here so no step spells it twice."""

    op: ClassVar[str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.op = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


@dataclass(frozen=True)
class WaitTable(_Step):
    """Wait until the table is ACTIVE (a stream change is refused while it is UPDATING)."""

    table: str


@dataclass(frozen=True)
class UpdateStream(_Step):
    """Enable the table's stream with ``view_type``, or disable it (``view_type`` None)."""

    table: str
    enabled: bool
    view_type: ViewType | None = None

    def __post_init__(self) -> None:
        if self.enabled != (self.view_type is not None):
            raise ValueError("a stream is enabled with a view type, or disabled without one")


@dataclass(frozen=True)
class CreateMapping(_Step):
    """Create the mapping on the table's latest stream (read when it runs); its UUID is ``output``.

    ``after_delete``: a mapping on this stream was just deleted, so a conflict means "not gone yet".
    """

    table: str
    function: str
    params: Mapping[str, Any]  # CreateEventSourceMapping parameters, from ``core.desired.create_params``
    after_delete: bool = False
    output: str = "mapping"


@dataclass(frozen=True)
class _MappingStep(_Step):
    """A step on a mapping that may not exist yet when the plan is built: its UUID, or the ``Output``
    of the step of the same change that creates it."""

    uuid: MappingId


@dataclass(frozen=True)
class _LiveMappingStep(_Step):
    """A step on a mapping that is live when the plan is built: its UUID is known."""

    uuid: str


@dataclass(frozen=True)
class UpdateMapping(_LiveMappingStep):
    params: Mapping[str, Any]  # UpdateEventSourceMapping parameters, from ``core.desired.aws_params``


@dataclass(frozen=True)
class DeleteMapping(_LiveMappingStep):
    """Delete the mapping (AWS deletes asynchronously: ``WaitMappingGone`` waits for it)."""


@dataclass(frozen=True)
class WaitMapping(_MappingStep):
    """Wait until the mapping is Enabled or Disabled (Create/Update act asynchronously)."""


@dataclass(frozen=True)
class WaitMappingGone(_LiveMappingStep):
    """Wait until a deleted mapping is gone (a create on the same stream conflicts until then)."""


@dataclass(frozen=True)
class TagMapping(_MappingStep):
    """Set ``tags`` on the mapping (its ARN; read from its UUID when the ARN was not known)."""

    arn: str | None
    tags: Mapping[str, str]


@dataclass(frozen=True)
class UntagMapping(_MappingStep):
    arn: str | None
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Destination:
    """Where a failure destination is and what ``apply`` wants of it (kind-specific parts as strings).

    One value for every kind: the executor hands it to the destination adapter of ``type``.
    """

    type: DestinationKind
    name: str
    trigger: str
    arn: str | None = None
    url: str | None = None
    inspect_queue: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PutAlarm(_Step):
    """Create or overwrite one CloudWatch metric alarm (PutMetricAlarm is a full definition)."""

    name: str
    params: Mapping[str, Any]  # PutMetricAlarm parameters, from ``core.alarms.put_params``


@dataclass(frozen=True)
class DeleteAlarms(_Step):
    names: tuple[str, ...]


DestinationAction = Literal["create", "update", "tag", "delete"]


@dataclass(frozen=True)
class DestinationStep:
    """Create, update (``attributes``), tag (``tags``) or delete a managed failure destination."""

    action: DestinationAction
    destination: Destination

    @property
    def op(self) -> str:
        return f"{self.action}_destination"


Step = (
    WaitTable
    | UpdateStream
    | CreateMapping
    | UpdateMapping
    | DeleteMapping
    | WaitMapping
    | WaitMappingGone
    | TagMapping
    | UntagMapping
    | DestinationStep
    | PutAlarm
    | DeleteAlarms
)


def _reads(step: Step) -> str | None:
    """The name of the earlier output ``step`` reads, if any."""
    if isinstance(step, _MappingStep) and isinstance(step.uuid, Output):
        return step.uuid.name
    return None


def check_steps(steps: Sequence[Step]) -> None:
    """Every ``Output`` a step reads is named by an earlier step of the same change (checked when the
    plan is built, so the executor never meets a name it cannot resolve)."""
    named: set[str] = set()
    for step in steps:
        wanted = _reads(step)
        if wanted is not None and wanted not in named:
            raise ValueError(f"step {step.op} reads output {wanted!r} that no earlier step makes")
        if isinstance(step, CreateMapping):
            named.add(step.output)


# --- changes and plans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    trigger: str
    resource: Resource
    action: Action
    reason: str
    diff: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    warnings: tuple[str, ...] = ()
    name: str | None = None  # which one, for a resource a trigger has several of (an alarm's name)

    def __post_init__(self) -> None:
        check_steps(self.steps)

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "trigger": self.trigger,
            "resource": self.resource,
            "action": self.action,
            "diff": {k: [old, new] for k, (old, new) in self.diff.items()},
            "reason": self.reason,
        }
        if self.name is not None:
            doc["name"] = self.name
        if self.warnings:
            doc["warnings"] = list(self.warnings)
        return doc


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action != "no-op")

    @property
    def replaces(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action == "replace")

    @property
    def warnings(self) -> tuple[str, ...]:
        """Every change's warnings, as ``trigger: resource: text`` lines."""
        return tuple(f"{c.trigger}: {c.resource}: {w}" for c in self.changes for w in c.warnings)

    def summary(self) -> dict[str, int]:
        return {a: sum(1 for c in self.changes if c.action == a) for a in ACTIONS}

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"changes": [c.as_json() for c in self.changes], "summary": self.summary()}
        if self.warnings:
            doc["warnings"] = list(self.warnings)
        return doc


def plan(triggers: Sequence[TriggerSpec], live: Sequence[LiveTrigger], *, region: str) -> Plan:
    """The changes that make ``live`` match ``triggers`` (paired by name), in execution order."""
    by_name = {lt.trigger: lt for lt in live}
    changes: list[Change] = []
    streams: dict[str, Change] = {}  # table -> the first trigger's stream change
    for trigger in triggers:
        planned = plan_trigger(trigger, by_name[trigger.name], region=region)
        changes.extend(_once_per_table(planned, streams, trigger))
    return Plan(tuple(changes))


def _once_per_table(planned: list[Change], streams: dict[str, Change], trigger: TriggerSpec) -> list[Change]:
    """Triggers sharing a table share its stream: change it once; a conflicting view type is an error."""
    out = []
    for change in planned:
        first = streams.get(trigger.table_name) if change.resource == "stream" else None
        if change.resource == "stream" and first is None:
            streams[trigger.table_name] = change
        elif first is not None and change.action != "no-op":
            if first.diff.get("view_type", (None, None))[1] != change.diff["view_type"][1]:
                raise SpecError(
                    f"triggers {first.trigger} and {trigger.name} ask for different view types on table "
                    f"{trigger.table_name}: a table has one stream"
                )
            change = Change(trigger.name, "stream", "no-op", f"changed with trigger {first.trigger}")
        out.append(change)
    return out


def plan_trigger(trigger: TriggerSpec, live: LiveTrigger, *, region: str) -> list[Change]:
    """Destination, stream, mapping changes of one trigger (the table must exist)."""
    if live.table is None:
        raise NotFound(f"table {trigger.table_name} does not exist (trigger {trigger.name})")
    if live.table.latest_stream_arn is None and (live.mapping or live.stale_mappings):
        # The table was read before any stream existed, the mappings after one did: someone (another
        # apply) is changing this trigger right now. Planning on that torn read would "replace" a
        # mapping that is fine, so stop and let the rerun read a settled state.
        raise Conflict(
            f"changed underneath us: table {trigger.table_name} had no stream when read, but a "
            f"mapping on its stream exists now (another apply running?); rerun to plan again"
        )
    ctx = ArnContext.from_arn(live.table.arn, region=region)
    changes = []
    if trigger.on_failure is not None:
        changes.append(plan_destination(trigger, live.destination))
    stream = plan_stream(trigger, live)
    changes.append(stream)
    changes.extend(plan_mappings(trigger, live, ctx, stream_recreated=stream.action in ("create", "replace")))
    changes.extend(plan_alarms(trigger, live.alarms))
    return changes


# --- replay warning ---------------------------------------------------------------------------------

REPLAY_WARNING = (
    "starts at TRIM_HORIZON on a stream that already holds records: up to 24 h of records will be "
    "delivered again"
)


def replay_probes(
    the_plan: Plan, triggers: Sequence[TriggerSpec], live: Sequence[LiveTrigger]
) -> dict[str, str]:
    """Trigger name -> stream ARN to read, for each mapping about to be created (or replaced) at
    ``TRIM_HORIZON`` on a stream that is kept: it would deliver whatever that stream still holds.

    A stream created or re-created by this plan starts empty, so it is never probed.
    """
    by_name = {lt.trigger: lt for lt in live}
    fresh = {
        t.table_name
        for t in triggers
        for c in the_plan.changes
        if c.trigger == t.name and c.resource == "stream" and c.action in ("create", "replace")
    }
    probes = {}
    for trigger in triggers:
        table = by_name[trigger.name].table
        creates = any(
            c.trigger == trigger.name and c.resource == "mapping" and c.action in ("create", "replace")
            for c in the_plan.changes
        )
        if (
            creates
            and trigger.mapping.starting_position == "TRIM_HORIZON"
            and trigger.table_name not in fresh
            and table is not None
            and table.latest_stream_arn
        ):
            probes[trigger.name] = table.latest_stream_arn
    return probes


def with_replay_warnings(the_plan: Plan, holding: Mapping[str, str]) -> Plan:
    """The plan with ``holding`` (trigger name -> why) warned on each trigger's created mapping."""

    def warned(c: Change) -> Change:
        if c.trigger in holding and c.resource == "mapping" and c.action in ("create", "replace"):
            return replace(c, warnings=(*c.warnings, holding[c.trigger]))
        return c

    return Plan(tuple(warned(c) for c in the_plan.changes))


# --- stream -----------------------------------------------------------------------------------------


def plan_stream(trigger: TriggerSpec, live: LiveTrigger) -> Change:
    assert live.table is not None
    table, want = live.table, trigger.stream.view_type
    name = trigger.table_name
    enable = UpdateStream(name, enabled=True, view_type=want)
    wait = WaitTable(name)
    if not table.stream_enabled:
        return Change(
            trigger.name,
            "stream",
            "create",
            "the table's stream is disabled",
            {"view_type": (None, want)},
            (wait, enable, wait),
        )
    if table.view_type != want:
        disable = UpdateStream(name, enabled=False)
        return Change(
            trigger.name,
            "stream",
            "replace",
            "a stream's view type cannot change in place: disable, then enable (a new stream ARN)",
            {"view_type": (table.view_type, want)},
            (wait, disable, wait, enable, wait),
        )
    return Change(trigger.name, "stream", "no-op", "stream enabled with the view type asked")


# --- mapping ----------------------------------------------------------------------------------------


def plan_mappings(
    trigger: TriggerSpec, live: LiveTrigger, ctx: ArnContext, *, stream_recreated: bool
) -> list[Change]:
    """The mapping change, then the removal of extra mappings left on older stream ARNs."""
    want = desired_mapping(trigger, ctx)
    current, stale = live.mapping, list(live.stale_mappings)
    if stream_recreated and current is not None:
        stale.insert(0, current)
        current = None
    if current is None and stale:
        old = stale.pop(0)
        reason = (
            "the stream is re-created, so the mapping must move to the new stream ARN"
            if stream_recreated
            else f"the mapping is bound to an old stream ARN of the table ({old.event_source_arn})"
        )
        changes = [_replace(trigger, old, want, reason)]
    elif current is None:
        changes = [_create(trigger, want)]
    elif current.state == "Deleting":  # e.g. a destroy that was stopped: let it go, then create
        changes = [_create(trigger, want, after=current)]
    else:
        changes = [_update_or_replace(trigger, current, want)]
    for old in stale:
        changes.append(
            _delete(trigger, old, f"left on an old stream ARN of the table ({old.event_source_arn})")
        )
    return changes


def _create_steps(
    trigger: TriggerSpec, want: Mapping[str, Any], *, after_delete: bool = False
) -> tuple[Step, ...]:
    """Create on the table's latest stream (resolved at run time), then wait for it to settle.

    ``after_delete``: a mapping on this stream was just deleted, so a conflict means "not gone yet".
    """
    create = CreateMapping(
        trigger.table_name, trigger.function, create_params(want), after_delete=after_delete
    )
    return (create, WaitMapping(Output(create.output)))


def _create(trigger: TriggerSpec, want: Mapping[str, Any], *, after: LiveMapping | None = None) -> Change:
    diff = {k: (None, v) for k, v in want.items() if v not in (None, [], {})}
    if after is None:
        return Change(
            trigger.name,
            "mapping",
            "create",
            "no mapping of the function on the table's stream",
            diff,
            _create_steps(trigger, want),
        )
    wait = WaitMappingGone(after.uuid)
    reason = f"the mapping {after.uuid} is being deleted: wait until it is gone, then create it again"
    return Change(
        trigger.name,
        "mapping",
        "create",
        reason,
        diff,
        (wait, *_create_steps(trigger, want, after_delete=True)),
    )


def _delete_steps(old: LiveMapping) -> tuple[Step, ...]:
    return (DeleteMapping(old.uuid), WaitMappingGone(old.uuid))


def _delete(trigger: TriggerSpec, old: LiveMapping, reason: str) -> Change:
    diff = {"uuid": (old.uuid, None), "event_source_arn": (old.event_source_arn, None)}
    return Change(trigger.name, "mapping", "delete", reason, diff, _delete_steps(old))


def _replace(
    trigger: TriggerSpec, old: LiveMapping, want: Mapping[str, Any], reason: str, *, moves: bool = True
) -> Change:
    """Delete ``old``, wait until gone, create; ``moves``: onto another (the latest) stream ARN."""
    have = observed_mapping(old)
    diff: dict[str, tuple[Any, Any]] = {}
    if moves:
        diff["event_source_arn"] = (old.event_source_arn, "(latest stream ARN)")
    diff.update({k: (have.get(k), v) for k, v in want.items() if v is not None and have.get(k) != v})
    steps = _delete_steps(old) + _create_steps(trigger, want, after_delete=True)
    return Change(trigger.name, "mapping", "replace", reason, diff, steps)


def _update_or_replace(trigger: TriggerSpec, current: LiveMapping, want: Mapping[str, Any]) -> Change:
    have = observed_mapping(current)
    if current.starting_position and current.starting_position != want["starting_position"]:
        reason = "starting_position is create-only: the mapping is re-created and loses its read position"
        return _replace(trigger, current, want, reason, moves=False)
    changed = {k: (have[k], want[k]) for k in UPDATABLE if have[k] != want[k]}
    steps: list[Step] = []
    if changed:
        params = aws_params({k: want[k] for k in changed})
        steps += [UpdateMapping(current.uuid, params), WaitMapping(current.uuid)]
    if want["tags"] is not None:  # None: the spec does not manage the mapping's tags
        steps += _tag_steps(current, want["tags"])
        if have["tags"] != want["tags"]:
            changed["tags"] = (have["tags"], want["tags"])
    if not changed:
        return Change(trigger.name, "mapping", "no-op", "the mapping matches the spec")
    reason = "settings differ from the spec: " + ", ".join(changed)
    return Change(trigger.name, "mapping", "update", reason, changed, tuple(steps))


def _tag_steps(current: LiveMapping, tags: Mapping[str, str]) -> list[Step]:
    steps: list[Step] = []
    extra = tuple(sorted(k for k in current.tags if k not in tags))
    if extra:
        steps.append(UntagMapping(current.uuid, current.arn, extra))
    differ = {k: v for k, v in tags.items() if current.tags.get(k) != v}
    if differ:
        steps.append(TagMapping(current.uuid, current.arn, differ))
    return steps


# --- failure destination ----------------------------------------------------------------------------


def plan_destination(trigger: TriggerSpec, live: LiveDestination | None) -> Change:
    """A managed destination is created or kept in shape; an ``arn:`` one is only checked to exist."""
    on_failure = trigger.on_failure
    assert on_failure is not None
    if not on_failure.managed:
        if live is not None and not live.exists:
            raise NotFound(
                f"the failure destination {on_failure.arn} of trigger {trigger.name} does not exist"
            )
        return Change(trigger.name, "on_failure", "no-op", "an existing destination (arn:), used as is")
    assert on_failure.name is not None  # a managed destination is named (the spec checks it)
    want = desired_destination_attributes(on_failure)
    base = Destination(on_failure.type, on_failure.name, trigger.name)
    if live is None or not live.exists:
        diff = {"name": (None, on_failure.name), **{k: (None, v) for k, v in want.items()}}
        new = replace(
            base, inspect_queue=on_failure.inspect_queue, attributes=want, tags={MANAGED_TAG: trigger.name}
        )
        reason = f"no {on_failure.type} {on_failure.name}"
        return Change(trigger.name, "on_failure", "create", reason, diff, (DestinationStep("create", new),))
    return _update_destination(trigger, live, want, base)


def _update_destination(
    trigger: TriggerSpec, live: LiveDestination, want: Mapping[str, str], base: Destination
) -> Change:
    changed = {k: (live.attributes.get(k), v) for k, v in want.items() if live.attributes.get(k) != v}
    where = replace(base, arn=live.arn, url=live.url)
    steps = []
    if changed:
        attributes = {k: want[k] for k in changed}
        steps.append(DestinationStep("update", replace(where, attributes=attributes)))
    if live.managed_tag != trigger.name:
        changed[f"tag {MANAGED_TAG}"] = (live.managed_tag, trigger.name)
        steps.append(DestinationStep("tag", replace(where, tags={MANAGED_TAG: trigger.name})))
    if not changed:
        return Change(trigger.name, "on_failure", "no-op", "the destination matches the spec")
    reason = "settings differ from the spec: " + ", ".join(changed)
    return Change(trigger.name, "on_failure", "update", reason, changed, tuple(steps))


# --- alarms ---------------------------------------------------------------------------------------


def plan_alarms(trigger: TriggerSpec, live: Sequence[LiveAlarm]) -> list[Change]:
    """Each alarm the spec asks for created, updated (any field out of shape: PutMetricAlarm again) or
    kept; each managed alarm of the trigger the spec no longer asks for deleted."""
    wants = desired_alarms(trigger)
    by_name = {a.name: a for a in live}
    changes = []
    for name, want in wants.items():
        key, have = _alarm_key(name), by_name.get(name)
        put = (PutAlarm(name, put_params(trigger, name, key, want)),)
        if have is None:
            diff = {f: (None, v) for f, v in want.items() if v not in (None, [])}
            changes.append(Change(trigger.name, "alarm", "create", f"no alarm {name}", diff, put, name=name))
            continue
        diff = alarm_diff(want, have)
        if diff:
            reason = "settings differ from the spec: " + ", ".join(diff)
            changes.append(Change(trigger.name, "alarm", "update", reason, diff, put, name=name))
        else:
            changes.append(Change(trigger.name, "alarm", "no-op", "the alarm matches the spec", name=name))
    for have in live:
        if have.name not in wants:
            reason = f"the spec no longer asks for {have.key or 'this alarm'}"
            changes.append(_delete_alarm(trigger, have, reason))
    return changes


def _alarm_key(name: str) -> str:
    return next(key for key, m in METRICS.items() if name.endswith(f"-{m.suffix}"))


def _delete_alarm(trigger: TriggerSpec, have: LiveAlarm, reason: str) -> Change:
    diff = {"name": (have.name, None)}
    step = (DeleteAlarms((have.name,)),)
    return Change(trigger.name, "alarm", "delete", reason, diff, step, name=have.name)


# --- destroy ----------------------------------------------------------------------------------------


def plan_destroy(
    triggers: Sequence[TriggerSpec],
    live: Sequence[LiveTrigger],
    *,
    depths: Mapping[str, int | None],
    force: bool = False,
    disable_stream: bool = False,
) -> Plan:
    """Mappings first, then managed destinations (only empty ones unless ``force``), then the stream.

    ``depths`` maps trigger name -> messages/objects left in its destination (None: unknown).
    """
    by_name = {lt.trigger: lt for lt in live}
    changes: list[Change] = []
    disabled: dict[str, str] = {}  # table -> the trigger whose change disables its stream
    for trigger in triggers:
        lt = by_name[trigger.name]
        changes += [_delete_alarm(trigger, a, "destroy: the trigger's alarm") for a in lt.alarms]
        changes += [_delete(trigger, m, "destroy: the trigger's mapping") for m in lt.all_mappings]
        if not lt.all_mappings:
            changes.append(Change(trigger.name, "mapping", "no-op", "no mapping to delete"))
        if trigger.on_failure is not None:
            changes.append(
                _destroy_destination(trigger, lt.destination, depths.get(trigger.name), force=force)
            )
        stream = _destroy_stream(trigger, lt, disable_stream=disable_stream)
        first = disabled.setdefault(trigger.table_name, trigger.name) if stream.action == "delete" else None
        if first not in (None, trigger.name):  # one table, one stream: disabled once, with the first
            stream = Change(trigger.name, "stream", "no-op", f"disabled with trigger {first}")
        changes.append(stream)
    return Plan(tuple(changes))


def _destroy_destination(
    trigger: TriggerSpec, live: LiveDestination | None, depth: int | None, *, force: bool
) -> Change:
    def keep(reason: str) -> Change:
        return Change(trigger.name, "on_failure", "no-op", reason)

    if trigger.on_failure is None or not trigger.on_failure.managed:
        return keep("an existing destination (arn:) is never deleted")
    if live is None or not live.exists:
        return keep("the destination does not exist")
    if live.managed_tag != trigger.name:
        return keep(f"not tagged {MANAGED_TAG}={trigger.name}: not ours to delete")
    if depth and not force:
        return keep(f"kept: it still holds {depth} failure(s) (redrive them, or pass --force)")
    diff = {"name": (live.name, None), **({"depth": (depth, None)} if depth else {})}
    where = Destination(
        live.type,
        live.name,
        trigger.name,
        arn=live.arn,
        url=live.url,
        inspect_queue=trigger.on_failure.inspect_queue,
    )
    step = DestinationStep("delete", where)
    return Change(
        trigger.name, "on_failure", "delete", "destroy: the managed failure destination", diff, (step,)
    )


def _destroy_stream(trigger: TriggerSpec, live: LiveTrigger, *, disable_stream: bool) -> Change:
    if live.table is None or not live.table.stream_enabled:
        return Change(trigger.name, "stream", "no-op", "no stream enabled")
    if not disable_stream:
        return Change(
            trigger.name, "stream", "no-op", "the table's stream is kept (--disable-stream disables it)"
        )
    name = trigger.table_name
    steps = (WaitTable(name), UpdateStream(name, enabled=False), WaitTable(name))
    return Change(
        trigger.name,
        "stream",
        "delete",
        "destroy --disable-stream",
        {"view_type": (live.table.view_type, None)},
        steps,
    )


def failures_deleted(the_plan: Plan) -> dict[str, int]:
    """``type name`` of each destination the plan deletes while it still holds failures -> how many
    (a ``destroy --force``): the number the operator is asked to type back."""
    doomed: dict[str, int] = {}
    for change in the_plan.pending:
        depth = change.diff.get("depth", (None, None))[0]
        if change.resource == "on_failure" and change.action == "delete" and depth:
            step = change.steps[0]
            assert isinstance(step, DestinationStep)
            doomed[f"{step.destination.type} {step.destination.name}"] = int(depth)
    return doomed

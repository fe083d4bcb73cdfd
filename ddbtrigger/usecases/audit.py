"""``audit``: every DynamoDB-stream mapping in the given accounts and regions, with its risks and health.

Each (profile, region) is read in its own worker. In a region: one paginated ListEventSourceMappings
(every mapping, 100 a page), then concurrently one DescribeTable per table, one paginated ListFunctions
(timeouts, and which functions still exist), and the reads of each distinct failure destination
(located as ``status`` locates it, counted by ``status``'s depth code); then one GetMetricData for the
iterator age of every mapping of the region (up to 250 mappings a call). The live configuration becomes a
``TriggerSpec`` through ``export``'s own mapper, so lint sees exactly what ``export`` would write.

A region or profile that cannot be read at all (no permission, an opt-in region, no credentials) is
reported in ``unreadable`` and the rest completes; a part that cannot be read (one table, one
destination) leaves its facts unknown and is reported the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ddbtrigger.core.audit import (
    AuditFinding,
    AuditReport,
    MappingAudit,
    ObservedMapping,
    Unreadable,
    destination_key,
    health_findings,
    is_dynamodb_stream,
    ordered_findings,
    sort_audits,
    stream_table_name,
)
from ddbtrigger.core.live import LiveMapping, LiveTable, function_ref, stream_table_arn
from ddbtrigger.errors import AwsError, DdbtError, NotFound

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.aws.destinations import Depth
    from ddbtrigger.core.spec import TriggerSpec
    from ddbtrigger.usecases.spec_file import Workspace

FactoryFor = Callable[[str | None, str | None], "ClientFactory"]
MAX_REGION_WORKERS = 8
MAX_READ_WORKERS = 16


@dataclass(frozen=True)
class _Destination:
    present: bool | None
    depth: int | None


@dataclass
class _RegionReads:
    """What one region's reads found, keyed for the mappings to pick from."""

    tables: dict[str, LiveTable | bool | None] = field(default_factory=dict)
    timeouts: dict[str, int] | None = None
    destinations: dict[tuple[str, str], _Destination] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def run_audit(
    factory_for: FactoryFor,
    *,
    profiles: Sequence[str | None],
    regions: Sequence[str],
    all_regions: bool,
) -> AuditReport:
    """Audit every (profile, region); ``factory_for(profile, region)`` builds the clients."""
    targets, unreadable = _targets(factory_for, profiles or [None], regions, all_regions=all_regions)
    audits: list[MappingAudit] = []
    workers = max(1, min(MAX_REGION_WORKERS, len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda t: _audit_region(factory_for(*t), t[0]), targets))
    read: set[str] = set()
    for (_, region), (found, problems, listed) in zip(targets, results, strict=True):
        audits.extend(found)
        unreadable.extend(problems)
        if listed:
            read.add(region)
    return AuditReport(tuple(sort_audits(audits)), tuple(sorted(read)), tuple(unreadable))


def audit_environment(ws: Workspace, *, regions: Sequence[str], all_regions: bool) -> AuditReport:
    """``audit --env``: one environment of a spec audited on its own connection (its profile, region
    and role; ``regions`` instead of its region when given). Only the connection is taken from the
    spec: every mapping there is audited, declared or not. Read-only, so the account guard never has
    a call to stop."""
    from ddbtrigger.aws.clients import ClientFactory

    target = ws.factory.target

    def factory_for(profile: str | None, region: str | None) -> ClientFactory:
        return ClientFactory(
            replace(target, profile=profile or target.profile, region=region or target.region)
        )

    return require_some(
        run_audit(factory_for, profiles=[target.profile], regions=regions, all_regions=all_regions)
    )


def require_some(report: AuditReport) -> AuditReport:
    """The report, unless nothing at all could be read: then an ``AwsError`` listing why."""
    if not report.regions and report.unreadable:
        raise AwsError(
            "nothing could be audited: no region could be read",
            details=[unreadable_line(u) for u in report.unreadable],
        )
    return report


def unreadable_line(u: Unreadable) -> str:
    where = f"profile {u.profile}" if u.profile else "the default credentials"
    return f"not audited ({where}, region {u.region}): {u.reason}"


def _targets(
    factory_for: FactoryFor, profiles: Sequence[str | None], regions: Sequence[str], *, all_regions: bool
) -> tuple[list[tuple[str | None, str]], list[Unreadable]]:
    """Every (profile, region) to read; a profile whose regions cannot be listed is unreadable."""
    from ddbtrigger.aws.audit_reads import enabled_regions

    targets: list[tuple[str | None, str]] = []
    unreadable: list[Unreadable] = []
    for profile in dict.fromkeys(profiles):
        try:
            if all_regions:
                found = enabled_regions(factory_for(profile, regions[0] if regions else None))
            else:
                found = list(regions) or [factory_for(profile, None).region]
        except DdbtError as e:
            unreadable.append(Unreadable(profile, "*", e.message))
            continue
        targets.extend((profile, region) for region in dict.fromkeys(found))
    return targets, unreadable


def _audit_region(
    factory: ClientFactory, profile: str | None
) -> tuple[list[MappingAudit], list[Unreadable], bool]:
    """The region's audits, what could not be read, and whether its mappings could be listed at all."""
    from ddbtrigger.aws.live import list_mappings

    region = factory.target.region or ""
    try:
        region = factory.region
        live = [m for m in list_mappings(factory) if is_dynamodb_stream(m.event_source_arn)]
    except DdbtError as e:
        return [], [Unreadable(profile, region, e.message)], False
    if not live:
        return [], [], True
    triggers = _live_triggers(live)
    reads = _read_region(factory, live, triggers)
    audits = _assemble(factory.region, live, triggers, reads)
    account = audits[0].observed.account if audits else None
    return audits, [Unreadable(profile, region, p, account) for p in reads.problems], True


def _live_triggers(live: Sequence[LiveMapping]) -> list[TriggerSpec | None]:
    """Each mapping as the trigger ``export`` would write (lint silences dropped), or None if invalid."""
    from pydantic import ValidationError

    from ddbtrigger.core.spec import TriggerSpec
    from ddbtrigger.usecases.export import trigger_document

    taken: set[str] = set()
    out: list[TriggerSpec | None] = []
    for mapping in live:
        name = stream_table_name(mapping.event_source_arn)
        table = LiveTable(name, stream_table_arn(mapping.event_source_arn), "", True, None, None)
        doc = trigger_document(table, mapping, taken, [])
        doc.pop("lint_ignore", None)  # export silences DDBT001 so its spec plans; audit reports it
        try:
            out.append(TriggerSpec.model_validate(doc))
        except ValidationError:
            out.append(None)
    return out


def _read_region(
    factory: ClientFactory, live: Sequence[LiveMapping], triggers: Sequence[TriggerSpec | None]
) -> _RegionReads:
    """Tables, function timeouts and destinations concurrently, then one batch of metrics."""
    reads = _RegionReads()
    for service in ("dynamodb", "lambda", "sqs", "sns", "s3", "cloudwatch"):
        factory.client(service)  # build shared clients before the threads
    tables = sorted({stream_table_name(m.event_source_arn) for m in live})
    destinations = {_destination_key(m): t for m, t in zip(live, triggers, strict=True) if m.destination_arn}
    with ThreadPoolExecutor(max_workers=MAX_READ_WORKERS) as pool:
        timeouts = pool.submit(_guard, reads, _function_timeouts, factory)
        found_tables = pool.map(lambda t: (t, _guard(reads, _table, factory, t)), tables)
        found_dests = pool.map(
            lambda kv: (kv[0], _guard(reads, _destination, factory, *kv)), destinations.items()
        )
        reads.tables = dict(found_tables)
        reads.destinations = {k: v or _Destination(None, None) for k, v in found_dests}
        reads.timeouts = timeouts.result()
    reads.metrics = _iterator_ages(factory, live)
    return reads


def _guard(reads: _RegionReads, fn: Callable[..., Any], *args: Any) -> Any:
    """Run one read; a failure leaves its facts unknown (None) and is reported, never raised."""
    try:
        return fn(*args)
    except DdbtError as e:
        reads.problems.append(e.message)
        return None


def _function_timeouts(factory: ClientFactory) -> dict[str, int]:
    from ddbtrigger.aws.audit_reads import function_timeouts

    return function_timeouts(factory)


def _table(factory: ClientFactory, name: str) -> LiveTable | bool:
    """The table, or False when it does not exist (None is kept for "could not read")."""
    from ddbtrigger.aws.live import read_table

    return read_table(factory, name) or False


def _destination_key(mapping: LiveMapping) -> tuple[str, str]:
    """Destinations are read once each; an S3 bucket once per mapping (its failures sit under its UUID)."""
    return destination_key(mapping.destination_arn or "", mapping.uuid)


def _destination(factory: ClientFactory, key: tuple[str, str], trigger: TriggerSpec | None) -> _Destination:
    from ddbtrigger.aws.destinations import adapter_for, locate
    from ddbtrigger.core.spec import LAMBDA_S3_PREFIX

    if trigger is None or trigger.on_failure is None:
        return _Destination(None, None)
    try:
        ref = locate(factory, trigger.on_failure)
    except NotFound:
        return _Destination(False, None)
    adapter = adapter_for(ref, factory)
    if not adapter.kind.holds_pointers:  # a bucket: this mapping's failures sit under its UUID
        ref = replace(ref, prefix=f"{LAMBDA_S3_PREFIX}{key[1]}/")
    depth: Depth | None = adapter.depth(ref)
    return _Destination(True, depth.total if depth else None)


def _iterator_ages(factory: ClientFactory, live: Sequence[LiveMapping]) -> dict[str, float | None]:
    """IteratorAge of every mapping of the region, in as few GetMetricData calls as there can be."""
    from ddbtrigger.aws.status_reads import iterator_age_queries, read_metrics

    queries = [q for m in live for q in iterator_age_queries(m.uuid, m.function_arn, m.uuid)]
    return read_metrics(factory, queries) if queries else {}


def _assemble(
    region: str, live: Sequence[LiveMapping], triggers: Sequence[TriggerSpec | None], reads: _RegionReads
) -> list[MappingAudit]:
    from ddbtrigger.core.impact import trigger_impact
    from ddbtrigger.core.lint import SPEC_ONLY, lint
    from ddbtrigger.core.spec import Spec

    valid = [t for t in triggers if t is not None]
    spec = Spec(version=1, triggers=valid) if valid else None
    audits = []
    for mapping, trigger in zip(live, triggers, strict=True):
        observed = _observed(region, mapping, reads)
        found = health_findings(observed)
        impact = None
        if trigger is None or spec is None:
            found.append(AuditFinding("DDBT110", "info", "the live settings could not be read as a trigger"))
        else:
            found.extend(
                AuditFinding(f.code, f.level, f.message)
                for f in lint(spec, [trigger])
                if f.code not in SPEC_ONLY
            )
            timeout = (reads.timeouts or {}).get(function_ref(mapping.function_arn)[0])
            impact = trigger_impact(trigger, function_timeout_seconds=timeout)
        audits.append(MappingAudit(observed, ordered_findings(found), impact))
    return audits


def _observed(region: str, mapping: LiveMapping, reads: _RegionReads) -> ObservedMapping:
    name = stream_table_name(mapping.event_source_arn)
    table = reads.tables.get(name)
    fn_name, qualifier = function_ref(mapping.function_arn)
    dest = reads.destinations.get(_destination_key(mapping)) if mapping.destination_arn else None
    age = next(
        (
            v
            for v in (reads.metrics.get(f"{mapping.uuid}/esm"), reads.metrics.get(f"{mapping.uuid}/fn"))
            if v is not None
        ),
        None,
    )
    return ObservedMapping(
        account=mapping.function_arn.split(":")[4] if mapping.function_arn.count(":") >= 6 else "",
        region=region,
        uuid=mapping.uuid,
        table=name,
        function=f"{fn_name}:{qualifier}" if qualifier else fn_name,
        state=mapping.state,
        event_source_arn=mapping.event_source_arn,
        state_transition_reason=mapping.state_transition_reason,
        last_processing_result=mapping.last_processing_result,
        table_present=None if table is None else table is not False,
        stream_enabled=table.stream_enabled if isinstance(table, LiveTable) else None,
        latest_stream_arn=table.latest_stream_arn if isinstance(table, LiveTable) else None,
        function_present=None if reads.timeouts is None else fn_name in reads.timeouts,
        destination_arn=mapping.destination_arn,
        destination_present=dest.present if dest else None,
        failures_waiting=dest.depth if dest else None,
        iterator_age_ms=age,
    )

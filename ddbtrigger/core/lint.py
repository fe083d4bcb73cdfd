"""Lint rules: settings that are valid for AWS but dangerous for an on-call engineer.

Each rule has a stable code and a level. A trigger (or ``defaults``) may silence a code with
``lint_ignore``; silenced findings are still returned, marked, so ``plan`` can list them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.filters import INVALID_PATTERN, format_path, never_matching, pattern_problems
from ddbtrigger.core.spec import LAMBDA_S3_PREFIX, Spec, TriggerSpec

Level = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Finding:
    code: str
    level: Level
    trigger: str
    message: str
    silenced: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "level": self.level,
            "trigger": self.trigger,
            "message": self.message,
            "silenced": self.silenced,
        }


Rule = Callable[[TriggerSpec, Spec], Iterator[tuple[str, Level, str]]]
Text = str | Callable[[TriggerSpec, Spec], str]


@dataclass(frozen=True)
class Check:
    """A rule that finds one problem or none: ``code`` at ``level`` saying ``text`` when ``when`` holds
    (``text`` a function when the message names parts of the trigger). Most rules are one of these,
    so the table below reads as the list of rules."""

    code: str
    level: Level
    when: Callable[[TriggerSpec, Spec], bool]
    text: Text

    def __call__(self, t: TriggerSpec, spec: Spec) -> Iterator[tuple[str, Level, str]]:
        if self.when(t, spec):
            yield self.code, self.level, self.text if isinstance(self.text, str) else self.text(t, spec)


def _unbounded(t: TriggerSpec) -> bool:
    return t.mapping.maximum_retry_attempts == -1 and t.mapping.maximum_record_age_in_seconds == -1


def _readers(t: TriggerSpec, spec: Spec) -> int:
    """How many of the spec's triggers read ``t``'s table's stream (``t`` among them)."""
    return Counter(x.table_name for x in spec.triggers)[t.table_name]


def _prefix(t: TriggerSpec) -> str | None:
    return t.on_failure.prefix if t.on_failure is not None else None


def _prefix_misses(t: TriggerSpec, _: Spec) -> bool:
    """An S3 prefix Lambda never writes under (it writes under ``LAMBDA_S3_PREFIX`` at the root)."""
    prefix = _prefix(t)
    if not prefix:
        return False
    return not (prefix.startswith(LAMBDA_S3_PREFIX) or LAMBDA_S3_PREFIX.startswith(prefix))


def _at(t: TriggerSpec, spec: Spec, index: int, path: tuple[str | int, ...]) -> str:
    """``FILE:LINE:COL: mapping.filters[i].<path>`` (the position only when the spec came from a file)."""
    trigger = next((i for i, x in enumerate(spec.triggers) if x is t), None)
    full = ("triggers", trigger, "mapping", "filters", index, *path) if trigger is not None else None
    where = spec.where(full) if full is not None else None
    inner = format_path(path) if path else ""
    text = f"mapping.filters[{index}]" + (f".{inner}" if inner and not inner.startswith("$") else inner)
    return f"{where}: {text}" if where else text


def _ddbt009(t: TriggerSpec, spec: Spec) -> Iterator[tuple[str, Level, str]]:
    for index, pattern in enumerate(t.mapping.filters):
        for path, why in pattern_problems(pattern):
            yield (
                "DDBT009",
                "error",
                f"{_at(t, spec, index, path)}: {why} (Lambda refuses it: {INVALID_PATTERN})",
            )


def _ddbt010(t: TriggerSpec, spec: Spec) -> Iterator[tuple[str, Level, str]]:
    for index, pattern in enumerate(t.mapping.filters):
        if pattern_problems(pattern):
            continue  # DDBT009 already refuses it
        for path, why in never_matching(pattern):
            yield "DDBT010", "warning", f"{_at(t, spec, index, path)}: never matches a DynamoDB record: {why}"


RULES: tuple[Rule, ...] = (
    Check(
        "DDBT001",
        "error",
        lambda t, _: _unbounded(t) and t.on_failure is None,
        "retries are unbounded and there is no failure destination: one bad "
        "record blocks its shard until the stream trims it (24 h)",
    ),
    Check(
        "DDBT002",
        "warning",
        lambda t, _: _unbounded(t) and t.on_failure is not None,
        "retries are unbounded: a poison pill still blocks its shard for up "
        "to 24 h before it reaches the failure destination",
    ),
    Check(
        "DDBT003",
        "warning",
        lambda t, _: t.on_failure is None and not _unbounded(t),
        "no failure destination: failed batches are dropped without a trace",
    ),
    Check(
        "DDBT004",
        "warning",
        lambda t, _: not t.mapping.bisect_batch_on_function_error and t.mapping.batch_size > 1,
        "bisect_batch_on_function_error is false with batch_size > 1: one "
        "bad record sends its whole batch to the failure destination",
    ),
    Check(
        "DDBT005",
        "info",
        lambda t, _: not t.mapping.report_batch_item_failures,
        "report_batch_item_failures is false: a failure retries the whole batch",
    ),
    Check(
        "DDBT006",
        "info",
        lambda t, _: t.on_failure is not None and destination_kind(t.on_failure.type).holds_pointers,
        lambda t, _: (
            f"an {t.on_failure.type.upper() if t.on_failure else ''} destination holds only "
            "pointers: redrive the records within 24 h of their arrival, or they are gone (S3 keeps the records)"
        ),
    ),
    Check(
        "DDBT007",
        "warning",
        lambda t, spec: _readers(t, spec) > 2,
        lambda t, spec: (
            f"{_readers(t, spec)} mappings read the stream of table {t.table_name}: AWS "
            "throttles above two readers per shard"
        ),
    ),
    Check(
        "DDBT008",
        "warning",
        _prefix_misses,
        lambda t, _: (
            f"prefix {_prefix(t)!r} holds no failures: Lambda takes only the bucket "
            f"and writes under {LAMBDA_S3_PREFIX}<mapping uuid>/ at its root"
        ),
    ),
    _ddbt009,
    _ddbt010,
    Check(
        "DDBT011",
        "info",
        lambda t, _: t.alarms.iterator_age_seconds is None,
        "no iterator-age alarm: a blocked shard goes unnoticed until someone looks "
        "(alarms: {iterator_age_seconds: 300, notify: <SNS topic ARN>})",
    ),
)
CODES = tuple(f"DDBT{n:03d}" for n in range(1, 12))
UNSILENCED = frozenset({"DDBT009"})
# Rules about what only a spec declares (its alarms): not judged on a live mapping (``audit``).
SPEC_ONLY = frozenset({"DDBT011"})  # AWS refuses the mapping: lint_ignore cannot wave it through


def lint(spec: Spec, triggers: list[TriggerSpec] | None = None) -> list[Finding]:
    """Findings for the given triggers (all by default), in trigger then code order."""
    findings = []
    for trigger in triggers if triggers is not None else spec.triggers:
        ignored = set(trigger.lint_ignore)
        for rule in RULES:
            for code, level, message in rule(trigger, spec):
                findings.append(
                    Finding(
                        code,
                        level,
                        trigger.name,
                        message,
                        silenced=code in ignored and code not in UNSILENCED,
                    )
                )
    return findings


def blocking(findings: list[Finding], *, strict: bool) -> list[Finding]:
    """The findings that refuse the spec: errors, and warnings too under ``--strict``."""
    levels = {"error", "warning"} if strict else {"error"}
    return [f for f in findings if f.level in levels and not f.silenced]

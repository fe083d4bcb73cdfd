"""Comparing two benchmark results (``python -m bench ... --json``) case by case: pure, no I/O.

Only ratios to the floor and API calls are compared, never raw seconds: the tool and its floor run
alternately in one loop, so a busy moment of the machine slows both and the ratio survives it, while
seconds taken minutes apart do not. Calls are compared as totals of the median run: a case's name holds
its size (``N=3``, ``40 failures``), so equal totals mean equal calls per operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

THRESHOLD = 0.20

WORSE = "worse > {pct} %"
BETTER = "better"
MORE_CALLS = "more calls > {pct} %"
FEWER_CALLS = "fewer calls"
ERROR_IN_HEAD = "ERROR in HEAD"


@dataclass
class Change:
    """One case of the comparison; ``flags`` name what moved beyond the threshold."""

    bench: str
    case: str
    base_ratio: float | None = None
    head_ratio: float | None = None
    base_calls: int | None = None
    head_calls: int | None = None
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        """HEAD's ratio relative to BASE's: +0.25 is 25 % slower against the floor."""
        if self.base_ratio and self.head_ratio is not None:
            return self.head_ratio / self.base_ratio - 1
        return None

    @property
    def calls_change(self) -> float | None:
        if self.base_calls and self.head_calls is not None:
            return self.head_calls / self.base_calls - 1
        return None

    @property
    def regression(self) -> bool:
        """What ``--fail-on-regression`` fails on: slower or chattier beyond the threshold, or broken."""
        return any(f.startswith(("worse", "more calls", "ERROR")) for f in self.flags)

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "change": self.change, "calls_change": self.calls_change}


def _key(row: dict[str, Any]) -> tuple[str, str]:
    return str(row["bench"]), str(row["case"])


def _calls(row: dict[str, Any]) -> int | None:
    tool = row.get("tool") or {}
    calls = tool.get("calls") or {}
    return sum(int(n) for n in calls.values()) if calls else None


def _broken(row: dict[str, Any]) -> str | None:
    if row.get("error"):
        return f"error: {row['error']}"
    if row.get("skipped"):
        return f"skipped: {row['skipped']}"
    return None


def compare_rows(
    base: Iterable[dict[str, Any]], head: Iterable[dict[str, Any]], threshold: float = THRESHOLD
) -> list[Change]:
    """Every case of either side, in HEAD's order then BASE-only cases, with its flags."""
    base_rows = {_key(r): r for r in base}
    head_rows = {_key(r): r for r in head}
    keys = list(head_rows) + [k for k in base_rows if k not in head_rows]
    return [_compare_one(k, base_rows.get(k), head_rows.get(k), threshold) for k in keys]


def _compare_one(
    key: tuple[str, str], base: dict[str, Any] | None, head: dict[str, Any] | None, threshold: float
) -> Change:
    change = Change(*key)
    if base is None or head is None:
        change.notes.append("only in HEAD" if base is None else "only in BASE")
    for side, row in (("BASE", base), ("HEAD", head)):
        if row is None:
            continue
        setattr(change, f"{side.lower()}_ratio", row.get("ratio"))
        setattr(change, f"{side.lower()}_calls", _calls(row))
        if broken := _broken(row):
            change.notes.append(f"{side} {broken}")
    if base is None or head is None:
        return change
    if head.get("error") and not base.get("error"):
        change.flags.append(ERROR_IN_HEAD)
    if change.base_ratio is None and change.head_ratio is None and not (_broken(base) or _broken(head)):
        change.notes.append("no floor: calls only")
    change.flags += _flags(change, threshold)
    return change


def _flags(change: Change, threshold: float) -> list[str]:
    pct = f"{threshold * 100:g}"
    flags = []
    if (moved := change.change) is not None:
        if moved > threshold:
            flags.append(WORSE.format(pct=pct))
        elif moved < -threshold:
            flags.append(BETTER)
    if (calls := change.calls_change) is not None:
        if calls > threshold:
            flags.append(MORE_CALLS.format(pct=pct))
        elif calls < -threshold:
            flags.append(FEWER_CALLS)
    return flags


def _ratio(value: float | None) -> str:
    return f"{value:.2f}×" if value is not None else "–"


def _pct(value: float | None) -> str:
    return f"{value * 100:+.0f} %" if value is not None else "–"


def _calls_text(change: Change) -> str:
    if change.base_calls is None and change.head_calls is None:
        return "–"
    text = f"{change.base_calls if change.base_calls is not None else '–'} → "
    text += str(change.head_calls) if change.head_calls is not None else "–"
    return text + (f" ({_pct(change.calls_change)})" if change.calls_change else "")


def render(changes: Sequence[Change]) -> str:
    """The comparison as a Markdown table (BENCHMARKS.md holds it as printed)."""
    lines = [
        "| bench | case | BASE ratio | HEAD ratio | change | calls BASE → HEAD | flag | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in changes:
        lines.append(
            f"| {c.bench} | {c.case} | {_ratio(c.base_ratio)} | {_ratio(c.head_ratio)} | "
            f"{_pct(c.change)} | {_calls_text(c)} | {'; '.join(c.flags) or '–'} | "
            f"{'; '.join(n[:120] for n in c.notes) or '–'} |"
        )
    return "\n".join(lines)


def summary(changes: Sequence[Change], threshold: float = THRESHOLD) -> str:
    """One line: how many cases got worse, better, or exist on one side only."""
    worse = [c for c in changes if c.regression]
    better = [c for c in changes if BETTER in c.flags or FEWER_CALLS in c.flags]
    one_side = [c for c in changes if c.notes and c.notes[0].startswith("only in")]
    text = (
        f"{len(changes)} case(s): {len(worse)} worse by more than {threshold * 100:g} % (or broken), "
        f"{len(better)} better, {len(one_side)} on one side only"
    )
    if worse:
        text += ": " + ", ".join(f"{c.bench} {c.case}" for c in worse)
    return text

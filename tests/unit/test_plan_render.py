"""``plan`` drawn for people at 80 and 120 columns, against golden files (issue 13): creates (with the
TRIM_HORIZON replay warning), an update with its field diff, a replace, the unchanged triggers in one
line, and a no-op plan as one line. No word of a reason, warning, field or value is broken.

Regenerate after an intended change: ``DDBT_UPDATE_GOLDEN=1 python -m pytest tests/unit/test_plan_render.py``.
"""

from __future__ import annotations

import pytest

from ddbtrigger.cli.provision import _value, draw_plan
from ddbtrigger.core.plan import REPLAY_WARNING, Plan, plan, with_replay_warnings
from ddbtrigger.core.spec import TriggerSpec
from tests.helpers import check_golden, drawn_text
from tests.unit.test_plan import live_for, mapping_for, queue, spec_trigger

BOX = "│┃┆┊╎─━┌┐└┘├┤┬┴┼╭╮╰╯┏┓┗┛┡┩╇┣┫╋"


def four_triggers() -> Plan:
    """A create (nothing live), an update, a replace and a no-op."""
    new = spec_trigger(name="orders-audit", function="audit-fn")

    def bare(name: str, function: str, **mapping: object) -> TriggerSpec:
        return spec_trigger(name=name, function=function, on_failure=None, mapping=mapping)

    updated = bare("orders-archive", "archive-fn", batch_size=10, maximum_retry_attempts=5)
    replaced = bare("orders-index", "index-fn", starting_position="LATEST")
    same = bare("orders-search", "search-fn")
    live = [
        live_for(new, mapping=None, destination=queue(exists=False, managed_tag=None, attributes={})),
        live_for(updated, mapping=mapping_for(bare("orders-archive", "archive-fn")), destination=None),
        live_for(replaced, mapping=mapping_for(bare("orders-index", "index-fn")), destination=None),
        live_for(same, destination=None),
    ]
    the_plan = plan([new, updated, replaced, same], live, region="us-east-1")
    return with_replay_warnings(the_plan, {"orders-audit": REPLAY_WARNING})


def no_op() -> Plan:
    same = spec_trigger(name="orders-search", function="search-fn", on_failure=None)
    return plan([same], [live_for(same, destination=None)], region="us-east-1")


def render(the_plan: Plan, width: int) -> str:
    return drawn_text(lambda console: draw_plan(console, None, the_plan), width)


def words_shown_whole(the_plan: Plan, text: str, *, longest: int) -> list[str]:
    """Words of the plan's reasons, warnings, fields and values missing whole from ``text``
    (values longer than ``longest``, e.g. ARNs, may fold at narrow widths)."""
    tokens = set(text.translate({ord(c): " " for c in BOX}).split())
    words = set()
    for change in the_plan.pending:
        words.update(change.reason.split())
        for warning in change.warnings:
            words.update(warning.split())
        for name, (old, new) in change.diff.items():
            words.add(f"{name}:")
            values = (new,) if change.action == "create" else (old, new)
            words.update(w for v in values for w in _value(v).split() if len(w) <= longest)
    return sorted(w for w in words if not any(w in t for t in tokens))


@pytest.mark.parametrize("width", [80, 120])
def test_plan_matches_golden_and_breaks_no_word(width: int) -> None:
    the_plan = four_triggers()
    text = render(the_plan, width) + "\n" + render(no_op(), width)
    check_golden(f"plan_{width}.txt", text)
    assert max(len(line) for line in text.splitlines()) <= width
    assert words_shown_whole(the_plan, text, longest=40) == []
    for shown in ("trigger orders-audit", "trigger orders-archive", "trigger orders-index"):
        assert shown in text
    assert "orders-search" not in text.split("Plan:")[0], "an unchanged trigger is only counted"
    assert "1 trigger up to date." in text
    assert text.rstrip().endswith("No changes. 1 trigger up to date.")

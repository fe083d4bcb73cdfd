"""Fuzz: ``matches`` judges any JSON-ish pattern against any JSON-ish record without raising, and
``check_patterns`` either accepts a pattern or refuses it with a ``PatternError`` that says where."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ddbtrigger.core.filters import OPERATORS, PatternError, check_patterns, matches, never_matching

KEYS = st.sampled_from(["eventName", "dynamodb", "NewImage", "S", "N", "x", "$or", *OPERATORS])
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)
PATTERNS = st.dictionaries(KEYS, JSON, max_size=4)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS, event=JSON)
def test_matches_never_raises(pattern: dict[str, Any], event: Any) -> None:
    assert matches(pattern, event) in (True, False)


@settings(max_examples=400, deadline=None)
@given(pattern=PATTERNS)
def test_validation_accepts_or_refuses_with_a_message(pattern: dict[str, Any]) -> None:
    try:
        check_patterns([pattern])
    except PatternError as e:
        assert ": " in str(e)  # "<where in the pattern>: <why>"
    else:
        assert isinstance(never_matching(pattern), list)

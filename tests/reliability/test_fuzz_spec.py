"""Fuzzing the spec loader: well over 1,000 generated specs, valid ones and hostile ones.

Properties: a valid spec loads; anything else raises ``SpecError`` and nothing else, with every problem
on one ``FILE:LINE:COL: path: message`` line; every load stays under a time bound; ``validate`` exits 0
or 2 and its JSON parses; alias bombs are refused without being expanded (time and memory bounded).
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.spec import Spec
from ddbtrigger.errors import SpecError

pytestmark = pytest.mark.slow

LINE = re.compile(r"^spec\.yaml:\d+:\d+: [^\n]+: [^\n]+$")
TIME_BOUND = 2.0  # seconds of CPU (process_time), so a loaded CI machine does not fail it
NOT_ROUND_TRIPPED = "\x85\u2028\u2029"  # PyYAML's dumper folds these line breaks into spaces
SAFE_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters=NOT_ROUND_TRIPPED), max_size=12
)

# --- valid specs --------------------------------------------------------------------------------------

LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
WORD = LOWER + "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
NAMES = st.builds(str.__add__, st.sampled_from(LOWER), st.text(LOWER + "-", max_size=12))
TABLES = st.text(WORD + ".", min_size=3, max_size=20)
FUNCTIONS = st.builds(
    str.__add__, st.text(WORD, min_size=1, max_size=20), st.sampled_from(["", ":live", ":v1", ":$LATEST"])
)
QUEUES = st.text(WORD, min_size=1, max_size=20)
ARN_ACCOUNT = "123456789012"

MAPPINGS = st.fixed_dictionaries(
    {},
    optional={
        "enabled": st.booleans(),
        "starting_position": st.sampled_from(["TRIM_HORIZON", "LATEST"]),
        "batch_size": st.integers(1, 10000),
        "maximum_batching_window_in_seconds": st.integers(0, 300),
        "parallelization_factor": st.integers(1, 10),
        "bisect_batch_on_function_error": st.booleans(),
        "maximum_retry_attempts": st.integers(-1, 10000),
        "maximum_record_age_in_seconds": st.one_of(st.just(-1), st.integers(60, 604800)),
        "report_batch_item_failures": st.booleans(),
        "tumbling_window_in_seconds": st.integers(0, 900),
        "filters": st.lists(
            st.fixed_dictionaries({"eventName": st.lists(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]))}),
            max_size=5,
        ),
        "tags": st.dictionaries(SAFE_TEXT, SAFE_TEXT, max_size=3),
    },
)


@st.composite
def on_failures(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["sqs", "sns", "s3"]))
    name = draw(QUEUES)
    out: dict[str, Any] = (
        {"type": kind, "arn": f"arn:aws:{kind}:us-east-1:{ARN_ACCOUNT}:{name}"}
        if draw(st.booleans())
        else {"type": kind, "name": name}
    )
    if kind == "sqs" and draw(st.booleans()):
        out["message_retention_seconds"] = draw(st.integers(60, 1_209_600))
    if kind == "sns" and draw(st.booleans()):
        out["inspect_queue"] = draw(QUEUES)
    if kind == "s3" and draw(st.booleans()):
        out["prefix"] = draw(st.text(LOWER + "/", max_size=20))
    return out


TRIGGERS = st.fixed_dictionaries(
    {"name": NAMES, "table": TABLES, "function": FUNCTIONS},
    optional={
        "stream": st.fixed_dictionaries(
            {"view_type": st.sampled_from(["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"])}
        ),
        "mapping": MAPPINGS,
        "on_failure": on_failures(),
        "lint_ignore": st.lists(st.integers(0, 999).map("DDBT{:03d}".format), max_size=3),
    },
)

SPECS = st.fixed_dictionaries(
    {
        "version": st.just(1),
        "triggers": st.lists(TRIGGERS, min_size=1, max_size=4, unique_by=lambda t: t["name"]),
    },
    optional={
        "region": st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"]),
        "defaults": st.fixed_dictionaries(
            {}, optional={"mapping": MAPPINGS, "lint_ignore": st.just(["DDBT003"])}
        ),
    },
)


def timed_load(text: str) -> Spec | SpecError:
    """Load; return the Spec or the SpecError; any other exception fails the test. Checks the bounds."""
    started = time.process_time()
    try:
        return load_spec(text, "spec.yaml")
    except SpecError as e:
        assert e.details, e.message
        for line in e.details:
            assert LINE.match(line), line
        assert e.exit_code == 2
        return e
    finally:
        assert time.process_time() - started < TIME_BOUND


@settings(max_examples=200, deadline=None)
@given(SPECS)
def test_valid_specs_load(doc: dict[str, Any]) -> None:
    result = timed_load(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    assert isinstance(result, Spec), getattr(result, "details", None)
    assert [t.name for t in result.triggers] == [t["name"] for t in doc["triggers"]]
    for trigger, written in zip(result.triggers, doc["triggers"], strict=True):
        for key, value in written.get("mapping", {}).items():
            loaded = getattr(trigger.mapping, key)
            if isinstance(value, dict):  # deep-merged with defaults: the trigger's items win
                assert loaded.items() >= value.items()
            else:
                assert loaded == value


# --- mutations ----------------------------------------------------------------------------------------

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.binary(max_size=8),
    st.sampled_from(["yes", "no", "on", "off", "NEW", "arn:aws:sqs:x", "q.fifo", "", "DDBT9"]),
)
VALUES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(SAFE_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def containers(node: Any, out: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        out.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            containers(child, out)
    return out


@st.composite
def mutated_specs(draw: st.DrawFn) -> dict[str, Any]:
    doc = copy.deepcopy(draw(SPECS))  # st.just() values are shared between examples
    for _ in range(draw(st.integers(1, 3))):
        target = draw(st.sampled_from(containers(doc, [])))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if isinstance(target, dict):
            keys = list(target)
            if action == "insert" or not keys:
                target[
                    draw(st.one_of(SAFE_TEXT, st.sampled_from(["batch_sise", "regoin", "arn", "name"])))
                ] = draw(VALUES)
            elif action == "delete":
                del target[draw(st.sampled_from(keys))]
            else:
                target[draw(st.sampled_from(keys))] = draw(VALUES)
        elif target and action != "insert":
            index = draw(st.integers(0, len(target) - 1))
            if action == "delete":
                del target[index]
            else:
                target[index] = draw(VALUES)
        else:
            target.append(draw(VALUES))
    return doc


@settings(max_examples=300, deadline=None)
@given(mutated_specs())
def test_mutated_specs_give_a_spec_or_spec_error_lines(doc: dict[str, Any]) -> None:
    timed_load(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))


# --- raw and hostile text -----------------------------------------------------------------------------

TOKENS = [
    "version: 1\n", "triggers:\n", "  - name: a\n", "    table: orders\n", "    function: fn\n", "mapping:\n",
    "  batch_size: 5\n", "&a ", "*a ", "&b [*a, *a]\n", "<<: ", "<<: *a\n", "!!binary ", "!!python/name:os.system ",
    "!!set ", "!!omap ", "!custom ", "[", "]", "{", "}", ", ", ": ", "- ", "\n", "\n  ", "\n    ", "? ", "|\n",
    ">-\n", "'", '"', "\t", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "...\n", "\x00", "\ufeff", "é",
    "🙂", "\u2028", "yes", "0x1F", "0o17", "1e999", "-.inf", "~", "null", "2001-12-14t21:59:43.10-05:00",
    "#c\n", "\\", "\r\n", "key",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join))
def test_yaml_token_soup_never_raises_anything_else(text: str) -> None:
    timed_load(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises_anything_else(text: str) -> None:
    timed_load(text)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3000), st.sampled_from(["flow-list", "flow-map", "block-list", "block-map"]))
def test_deep_nesting_is_refused_or_rejected(depth: int, style: str) -> None:
    if style == "flow-list":
        text = "version: 1\ntriggers: " + "[" * depth + "]" * depth + "\n"
    elif style == "flow-map":
        text = "version: 1\ntriggers: " + "{a: " * depth + "1" + "}" * depth + "\n"
    elif style == "block-list":
        text = "version: 1\ntriggers:\n" + "".join("  " * i + "-\n" for i in range(1, min(depth, 200)))
    else:
        text = "version: 1\ntriggers:\n" + "".join("  " * i + "k:\n" for i in range(1, min(depth, 200)))
    assert isinstance(timed_load(text), SpecError)


def bomb(fanout: int, depth: int) -> str:
    lines = ["version: 1", f"l0: &l0 [{', '.join(['lol'] * fanout)}]"]
    for i in range(1, depth + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * fanout)}]")
    lines.append(f"triggers: *l{depth}")
    return "\n".join(lines) + "\n"


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.integers(2, 12))
def test_alias_bombs_are_refused(fanout: int, depth: int) -> None:
    result = timed_load(bomb(fanout, depth))
    assert isinstance(result, SpecError)
    if fanout**depth > 200_000:
        assert any("refusing it" in line for line in result.details), result.details


def test_billion_laughs_is_refused_quickly_and_in_bounded_memory() -> None:
    text = bomb(10, 9)  # 10**9 leaves once expanded
    tracemalloc.start()
    started = time.process_time()
    try:
        with pytest.raises(SpecError) as caught:
            load_spec(text, "spec.yaml")
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.details == [
        "spec.yaml:1:1: yaml: the document expands to more than 100000 nodes (aliases?); refusing it"
    ]
    assert elapsed < 5.0
    assert peak < 100 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"


def test_a_big_string_repeated_by_aliases_is_refused() -> None:
    text = 'version: 1\ns: &s "' + "x" * 500_000 + '"\ntriggers: [' + ", ".join(["*s"] * 100) + "]\n"
    result = timed_load(text)
    assert isinstance(result, SpecError)
    assert "characters (aliases?); refusing it" in result.details[0]


# --- through the CLI ----------------------------------------------------------------------------------

WORKDIR = Path(tempfile.mkdtemp(prefix="ddbt-fuzz-"))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(SPECS, mutated_specs()))
def test_validate_and_policy_exit_0_or_2_and_print_json(doc: dict[str, Any]) -> None:
    path = WORKDIR / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    started = time.process_time()
    result = CliRunner().invoke(app, ["validate", "-f", str(path), "-o", "json"])
    assert time.process_time() - started < TIME_BOUND
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    document = json.loads(result.stdout)
    assert isinstance(document["valid"], bool)
    assert (result.exit_code == 0) == document["valid"]
    assert "Traceback" not in result.stderr
    policy = CliRunner().invoke(app, ["policy", "-f", str(path), "-o", "json"])
    assert policy.exit_code in (0, 2), policy.output
    assert set(json.loads(policy.stdout)) >= (
        {"error"} if policy.exit_code else {"function_roles", "operator"}
    )


# --- policy of any valid spec ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(SPECS, st.sampled_from([None, "123456789012"]))
def test_policy_of_any_valid_spec_has_no_wildcard_action_and_only_arns(
    doc: dict[str, Any], account: str | None
) -> None:
    from ddbtrigger.core.policy import UNSCOPABLE_ACTIONS, build_policies

    spec = load_spec(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), "spec.yaml")
    policies = build_policies(spec, account_id=account).as_json()
    documents = [*policies["function_roles"].values(), *policies["operator"].values()]
    assert len(policies["function_roles"]) == len({t.function.split(":")[0] for t in spec.triggers})
    for document in documents:
        json.dumps(document)
        for statement in document["Statement"]:
            assert statement["Action"] and all("*" not in a for a in statement["Action"])
            for resource in statement["Resource"]:
                if resource == "*":
                    assert set(statement["Action"]) <= UNSCOPABLE_ACTIONS
                else:
                    assert resource.startswith(("arn:aws:", "arn:aws-us-gov:")), resource
                    assert (
                        account is None
                        or account in resource
                        or ":s3:::" in resource
                        or ":123456789012:" in resource
                    )

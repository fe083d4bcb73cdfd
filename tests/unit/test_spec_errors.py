"""The table of broken specs: each mistake gives exit 2 and exactly one ``FILE:LINE:COL: path: message``.

Every case is checked twice: through the loader (``SpecError.details``) and through ``ddbtrigger
validate`` (exit code 2, the line on stderr, nothing but the JSON error document on stdout).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.loader import load_spec
from ddbtrigger.errors import SpecError

HEAD = "version: 1\ntriggers:\n  - name: orders-audit\n    table: orders\n    function: fn\n"
"""Lines 1-5; a case appends from line 6 on."""

ON_FAILURE = HEAD + "    on_failure:\n      type: sqs\n"
"""Lines 1-7; on_failure keys start on line 8, column 7."""


def mapping(*lines: str) -> str:
    """HEAD plus a mapping block: the first mapping key is on line 7, column 7."""
    return HEAD + "    mapping:\n" + "".join(f"      {line}\n" for line in lines)


BILLION_LAUGHS = "version: 1\nx: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)

# (id, spec text, the one expected line)
CASES: list[tuple[str, str, str]] = [
    (
        "yaml-syntax-unclosed-flow",
        "version: 1\ntriggers: [\n",
        "spec.yaml:3:1: yaml: invalid YAML: while parsing a flow node expected the node content, "
        "but found '<stream end>'",
    ),
    (
        "yaml-syntax-bad-indent",
        "version: 1\n  triggers: x\n",
        "spec.yaml:2:11: yaml: invalid YAML: mapping values are not allowed here",
    ),
    (
        "yaml-syntax-tab",
        "version: 1\ntriggers:\n\t- name: x\n",
        "spec.yaml:3:1: yaml: invalid YAML: while scanning for the next token found character '\\t' "
        "that cannot start any token",
    ),
    (
        "yaml-two-documents",
        HEAD + "---\nversion: 1\n",
        "spec.yaml:6:1: yaml: invalid YAML: expected a single document in the stream but found another "
        "document",
    ),
    (
        "yaml-control-character",
        "version: 1\ntriggers: \x07\n",
        "spec.yaml:2:11: yaml: invalid YAML: unacceptable character U+0007",
    ),
    (
        "yaml-python-tag",
        HEAD.replace("function: fn", "function: !!python/object:os.system x"),
        "spec.yaml:5:15: yaml: invalid YAML value: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object:os.system'",
    ),
    (
        "yaml-undefined-alias",
        HEAD.replace("function: fn", "function: *fn"),
        "spec.yaml:5:15: yaml: invalid YAML: found undefined alias 'fn'",
    ),
    (
        "billion-laughs",
        BILLION_LAUGHS,
        "spec.yaml:1:1: yaml: the document expands to more than 100000 nodes (aliases?); refusing it",
    ),
    (
        "recursive-alias",
        "version: 1\ntriggers: &t [*t]\n",
        "spec.yaml:1:1: yaml: the document contains itself through an alias; refusing it",
    ),
    (
        "flow-nesting-too-deep",
        "version: 1\ntriggers: " + "[" * 70 + "]" * 70 + "\n",
        "spec.yaml:2:75: yaml: the document nests deeper than 64 levels; refusing it",
    ),
    (
        "filter-not-json",
        mapping("filters:", "  - eventName: !!binary aGVsbG8="),
        "spec.yaml:7:7: triggers[0].mapping.filters: filter 0 must be plain JSON data (strings, numbers, "
        "true/false, null, lists, mappings)",
    ),
    ("empty-file", "", "spec.yaml:1:1: (top level): the file is empty"),
    ("only-comments", "# nothing here\n\n", "spec.yaml:1:1: (top level): the file is empty"),
    (
        "top-level-list",
        "- version: 1\n",
        "spec.yaml:1:1: (top level): must be a mapping with 'version' and 'triggers' (got list)",
    ),
    (
        "top-level-scalar",
        "just some text\n",
        "spec.yaml:1:1: (top level): must be a mapping with 'version' and 'triggers' (got str)",
    ),
    (
        "unknown-key-did-you-mean",
        mapping("batch_sise: 10"),
        "spec.yaml:7:7: triggers[0].mapping.batch_sise: unknown key 'batch_sise' (did you mean 'batch_size'?)",
    ),
    (
        "unknown-trigger-key-did-you-mean",
        HEAD + "    view_typ: KEYS_ONLY\n",
        "spec.yaml:6:5: triggers[0].view_typ: unknown key 'view_typ' (did you mean 'stream.view_type'? it belongs "
        "one level down)",
    ),
    (
        "key-one-level-too-high",
        HEAD + "    batch_size: 10\n",
        "spec.yaml:6:5: triggers[0].batch_size: unknown key 'batch_size' (did you mean 'mapping.batch_size'? it "
        "belongs one level down)",
    ),
    (
        "unknown-top-level-key",
        HEAD + "regoin: us-east-1\n",
        "spec.yaml:6:1: regoin: unknown key 'regoin' (did you mean 'region'?)",
    ),
    (
        "unknown-key-far-off",
        mapping("colour: blue"),
        "spec.yaml:7:7: triggers[0].mapping.colour: unknown key 'colour'",
    ),
    (
        "key-not-a-string",
        mapping("? [batch_size]", ": 10"),
        "spec.yaml:7:9: triggers[0].mapping: a key must be a plain string, not a list or a mapping",
    ),
    (
        "string-for-int",
        mapping("batch_size: '10'"),
        "spec.yaml:7:7: triggers[0].mapping.batch_size: must be an integer (got str '10')",
    ),
    (
        "float-for-int",
        mapping("batch_size: 10.5"),
        "spec.yaml:7:7: triggers[0].mapping.batch_size: must be an integer (got float 10.5)",
    ),
    (
        "bool-for-int",
        mapping("batch_size: true"),
        "spec.yaml:7:7: triggers[0].mapping.batch_size: must be an integer (got bool True)",
    ),
    (
        "yes-for-bool",
        mapping("enabled: yes"),
        "spec.yaml:7:7: triggers[0].mapping.enabled: must be true or false "
        "(got str 'yes'; only true/false are booleans here)",
    ),
    (
        "quoted-string-for-bool",
        mapping("bisect_batch_on_function_error: 'true'"),
        "spec.yaml:7:7: triggers[0].mapping.bisect_batch_on_function_error: must be true or false "
        "(got str 'true')",
    ),
    (
        "null-for-mapping",
        HEAD + "    mapping:\n",
        "spec.yaml:6:5: triggers[0].mapping: must be a mapping (got NoneType None)",
    ),
    (
        "batch-size-too-big",
        mapping("batch_size: 20000"),
        "spec.yaml:7:7: triggers[0].mapping.batch_size: must be ≤ 10000 (got 20000)",
    ),
    (
        "batch-size-zero",
        mapping("batch_size: 0"),
        "spec.yaml:7:7: triggers[0].mapping.batch_size: must be ≥ 1 (got 0)",
    ),
    (
        "parallelization-factor-zero",
        mapping("parallelization_factor: 0"),
        "spec.yaml:7:7: triggers[0].mapping.parallelization_factor: must be ≥ 1 (got 0)",
    ),
    (
        "batching-window-301",
        mapping("maximum_batching_window_in_seconds: 301"),
        "spec.yaml:7:7: triggers[0].mapping.maximum_batching_window_in_seconds: must be ≤ 300 (got 301)",
    ),
    (
        "tumbling-window-901",
        mapping("tumbling_window_in_seconds: 901"),
        "spec.yaml:7:7: triggers[0].mapping.tumbling_window_in_seconds: must be ≤ 900 (got 901)",
    ),
    (
        "retries-minus-two",
        mapping("maximum_retry_attempts: -2"),
        "spec.yaml:7:7: triggers[0].mapping.maximum_retry_attempts: must be ≥ -1 (got -2)",
    ),
    (
        "retries-too-many",
        mapping("maximum_retry_attempts: 10001"),
        "spec.yaml:7:7: triggers[0].mapping.maximum_retry_attempts: must be ≤ 10000 (got 10001)",
    ),
    (
        "record-age-59",
        mapping("maximum_record_age_in_seconds: 59"),
        "spec.yaml:7:7: triggers[0].mapping.maximum_record_age_in_seconds: must be -1 or 60..604800; "
        "AWS rejects 0..59 (got 59)",
    ),
    (
        "record-age-0",
        mapping("maximum_record_age_in_seconds: 0"),
        "spec.yaml:7:7: triggers[0].mapping.maximum_record_age_in_seconds: must be -1 or 60..604800; "
        "AWS rejects 0..59 (got 0)",
    ),
    (
        "record-age-too-big",
        mapping("maximum_record_age_in_seconds: 604801"),
        "spec.yaml:7:7: triggers[0].mapping.maximum_record_age_in_seconds: must be ≤ 604800 (got 604801)",
    ),
    (
        "huge-number",
        mapping("batch_size: 99999999999999999999999999"),
        "spec.yaml:7:7: triggers[0].mapping.batch_size: must be ≤ 10000 (got 99999999999999999999999999)",
    ),
    (
        "too-many-filters",
        mapping("filters:", *[f"  - eventName: [INSERT{i}]" for i in range(6)]),
        "spec.yaml:7:7: triggers[0].mapping.filters: must have at most 5 items (got 6)",
    ),
    (
        "filter-not-a-mapping",
        mapping("filters: [INSERT]"),
        "spec.yaml:7:17: triggers[0].mapping.filters[0]: must be a mapping (got str 'INSERT')",
    ),
    (
        "tag-value-not-string",
        mapping("tags: {team: 7}"),
        "spec.yaml:7:14: triggers[0].mapping.tags.team: must be a string (got int 7)",
    ),
    (
        "duplicate-trigger-name",
        HEAD + "  - name: orders-audit\n    table: orders\n    function: other\n",
        "spec.yaml:6:5: triggers[1].name: duplicate trigger name 'orders-audit' (also triggers[0])",
    ),
    (
        "duplicate-yaml-key",
        HEAD + "    table: payments\n",
        "spec.yaml:6:5: triggers[0].table: duplicate key 'table' (first written at line 4)",
    ),
    (
        "fifo-destination-name",
        ON_FAILURE + "      name: audit-dlq.fifo\n",
        "spec.yaml:8:7: triggers[0].on_failure.name: FIFO destinations are not supported by Lambda for "
        "stream failures",
    ),
    (
        "fifo-destination-arn",
        ON_FAILURE + "      arn: arn:aws:sqs:us-east-1:123456789012:dlq.fifo\n",
        "spec.yaml:8:7: triggers[0].on_failure.arn: FIFO destinations are not supported by Lambda for "
        "stream failures",
    ),
    (
        "name-and-arn",
        ON_FAILURE + "      name: q\n      arn: arn:aws:sqs:us-east-1:123456789012:q\n",
        "spec.yaml:6:5: triggers[0].on_failure: give exactly one of 'name' (managed) or 'arn' (existing)",
    ),
    (
        "neither-name-nor-arn",
        ON_FAILURE,
        "spec.yaml:6:5: triggers[0].on_failure: give exactly one of 'name' (managed) or 'arn' (existing)",
    ),
    (
        "arn-type-mismatch",
        HEAD + "    on_failure:\n      type: sns\n      arn: arn:aws:sqs:us-east-1:123456789012:q\n",
        "spec.yaml:8:7: triggers[0].on_failure.arn: arn is a sqs ARN but type is sns",
    ),
    (
        "arn-not-an-arn",
        ON_FAILURE + "      arn: my-queue\n",
        "spec.yaml:8:7: triggers[0].on_failure.arn: invalid value 'my-queue' (must match "
        "^arn:aws[a-z-]*:(sqs|sns|s3):)",
    ),
    (
        "sns-only-key-on-sqs",
        ON_FAILURE + "      name: q\n      inspect_queue: tap\n",
        "spec.yaml:9:7: triggers[0].on_failure.inspect_queue: inspect_queue applies to sns destinations "
        "only (type is sqs)",
    ),
    (
        "sqs-only-key-on-s3",
        HEAD + "    on_failure:\n      type: s3\n      name: b\n      message_retention_seconds: 600\n",
        "spec.yaml:9:7: triggers[0].on_failure.message_retention_seconds: message_retention_seconds "
        "applies to sqs destinations only (type is s3)",
    ),
    (
        "bad-destination-type",
        HEAD + "    on_failure:\n      type: lambda\n      name: x\n",
        "spec.yaml:7:7: triggers[0].on_failure.type: must be one of 'sqs', 'sns', 's3' (got 'lambda')",
    ),
    (
        "bad-trigger-name",
        HEAD.replace("orders-audit", "Orders_Audit"),
        "spec.yaml:3:5: triggers[0].name: invalid value 'Orders_Audit' (must match "
        "^[a-z0-9][a-z0-9-]{0,62}$)",
    ),
    ("missing-version", HEAD.replace("version: 1\n", ""), "spec.yaml:1:1: version: is required"),
    ("missing-triggers", "version: 1\nregion: us-east-1\n", "spec.yaml:1:1: triggers: is required"),
    ("empty-triggers", "version: 1\ntriggers: []\n", "spec.yaml:2:1: triggers: must not be empty (got [])"),
    (
        "triggers-not-a-list",
        "version: 1\ntriggers: {name: x}\n",
        "spec.yaml:2:1: triggers: must be a list (got dict {'name': 'x'})",
    ),
    (
        "missing-table",
        HEAD.replace("    table: orders\n", ""),
        "spec.yaml:3:5: triggers[0].table: is required",
    ),
    (
        "missing-function",
        HEAD.replace("    function: fn\n", ""),
        "spec.yaml:3:5: triggers[0].function: is required",
    ),
    (
        "version-2",
        HEAD.replace("version: 1", "version: 2"),
        "spec.yaml:1:1: version: must be one of 1 (got 2)",
    ),
    (
        "bad-region",
        HEAD + "region: mars\n",
        "spec.yaml:6:1: region: invalid value 'mars' (must match ^[a-z]{2}(-[a-z]+)+-\\d$)",
    ),
    (
        "bad-view-type",
        HEAD + "    stream:\n      view_type: NEW\n",
        "spec.yaml:7:7: triggers[0].stream.view_type: must be one of 'NEW_IMAGE', 'OLD_IMAGE', "
        "'NEW_AND_OLD_IMAGES', 'KEYS_ONLY' (got 'NEW')",
    ),
    (
        "bad-lint-code",
        HEAD + "    lint_ignore: [DDBT1]\n",
        "spec.yaml:6:19: triggers[0].lint_ignore[0]: invalid value 'DDBT1' (must match ^DDBT\\d{3}$)",
    ),
    (
        "error-from-defaults",
        "version: 1\ndefaults:\n  mapping:\n    batch_size: 0\n"
        + HEAD[len("version: 1\n") :]
        + "  - name: second\n    table: orders\n    function: fn2\n",
        "spec.yaml:4:5: defaults.mapping.batch_size: must be ≥ 1 (got 0)",
    ),
    (
        "unknown-key-in-defaults",
        "version: 1\ndefaults:\n  mapping:\n    batchsize: 10\n" + HEAD[len("version: 1\n") :],
        "spec.yaml:4:5: defaults.mapping.batchsize: unknown key 'batchsize' (did you mean 'batch_size'?)",
    ),
    (
        "fifo-in-defaults",
        "version: 1\ndefaults:\n  on_failure:\n    type: sqs\n    name: q.fifo\n"
        + HEAD[len("version: 1\n") :],
        "spec.yaml:5:5: defaults.on_failure.name: FIFO destinations are not supported by Lambda for "
        "stream failures",
    ),
    (
        "defaults-not-a-mapping",
        "version: 1\ndefaults: [1]\n" + HEAD[len("version: 1\n") :],
        "spec.yaml:2:1: defaults: must be a mapping (got list [1])",
    ),
]

IDS = [case[0] for case in CASES]


def test_the_table_is_large_and_each_kind_appears_once() -> None:
    assert len(CASES) >= 20
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=IDS)
def test_loader_reports_exactly_the_expected_line(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(text, "spec.yaml")
    assert caught.value.details == [expected]
    assert caught.value.exit_code == 2


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=IDS)
def test_validate_exits_2_with_the_line_on_stderr(in_tmp: Path, text: str, expected: str) -> None:
    (in_tmp / "spec.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "-f", "spec.yaml"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert expected in lines
    assert lines[-1] == "error: spec.yaml: 1 problem(s) in the spec"
    assert "Traceback" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in CASES if c[0] in {"yes-for-bool", "fifo-destination-arn"}]
)
def test_validate_json_puts_the_line_in_the_error_document(in_tmp: Path, text: str, expected: str) -> None:
    (in_tmp / "spec.yaml").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "-f", "spec.yaml", "--output", "json"])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["error"]["code"] == "invalid_spec"
    assert document["error"]["details"] == [expected]
    assert expected in result.stderr.splitlines()


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = mapping("parallelization_factor: 0", "batch_size: 20000", "enabled: maybe") + "regoin: x\n"
    with pytest.raises(SpecError) as caught:
        load_spec(text, "spec.yaml")
    assert caught.value.details == [
        "spec.yaml:7:7: triggers[0].mapping.parallelization_factor: must be ≥ 1 (got 0)",
        "spec.yaml:8:7: triggers[0].mapping.batch_size: must be ≤ 10000 (got 20000)",
        "spec.yaml:9:7: triggers[0].mapping.enabled: must be true or false (got str 'maybe')",
        "spec.yaml:10:1: regoin: unknown key 'regoin' (did you mean 'region'?)",
    ]
    assert caught.value.message == "spec.yaml: 4 problem(s) in the spec"


def test_a_default_error_is_reported_once_for_many_triggers() -> None:
    triggers = "".join(f"  - name: t{i}\n    table: orders\n    function: fn\n" for i in range(3))
    text = "version: 1\ndefaults:\n  mapping:\n    batch_size: 0\ntriggers:\n" + triggers
    with pytest.raises(SpecError) as caught:
        load_spec(text, "spec.yaml")
    assert caught.value.details == ["spec.yaml:4:5: defaults.mapping.batch_size: must be ≥ 1 (got 0)"]


def test_not_utf8_file_is_a_positioned_error(in_tmp: Path) -> None:
    (in_tmp / "spec.yaml").write_bytes(b"version: 1\n\xff\xfe\n")
    result = CliRunner().invoke(app, ["validate", "-f", "spec.yaml"])
    assert result.exit_code == 2
    assert "spec.yaml:1:1: (top level): the file is not UTF-8 text" in result.stderr.splitlines()


def test_missing_file_is_exit_2_with_a_hint(in_tmp: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "-f", "nope.yaml"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: nope.yaml: no such file (write one, or pass -f/--file or set DDBTRIGGER_FILE)"
    )


def test_file_too_large_is_refused_unread() -> None:
    text = HEAD + "#" + "x" * 1_048_576 + "\n"
    with pytest.raises(SpecError) as caught:
        load_spec(text, "spec.yaml")
    assert caught.value.details == ["spec.yaml:1:1: (top level): the file is larger than 1048576 bytes"]


def test_unknown_trigger_selection_is_a_usage_error(in_tmp: Path) -> None:
    (in_tmp / "spec.yaml").write_text(HEAD, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate", "-f", "spec.yaml", "--trigger", "nope"])
    assert result.exit_code == 2
    assert "error: no trigger named nope in the spec (known: orders-audit)" in result.stderr


@pytest.mark.parametrize("case", ["batch-size-too-big", "yaml-syntax-unclosed-flow", "duplicate-yaml-key"])
def test_installed_cli_prints_the_line_and_exits_2(in_tmp: Path, run_cli: Any, case: str) -> None:
    """The real console script, in a subprocess: same line, exit 2, never a traceback."""
    [(text, expected)] = [c[1:] for c in CASES if c[0] == case]
    (in_tmp / "spec.yaml").write_text(text, encoding="utf-8")
    proc = run_cli("validate", "-f", "spec.yaml", cwd=in_tmp, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [expected, "error: spec.yaml: 1 problem(s) in the spec"]
    assert proc.stdout == ""


def test_a_huge_file_without_aliases_is_refused_as_too_large() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec("version: 1\ntriggers: [" + "1," * 100_001 + "]\n", "spec.yaml")
    assert caught.value.details == [
        "spec.yaml:1:1: yaml: the document has more than 100000 nodes; refusing it"
    ]


def test_a_directory_is_not_a_spec(in_tmp: Path) -> None:
    (in_tmp / "specs").mkdir()
    result = CliRunner().invoke(app, ["validate", "-f", "specs"])
    assert result.exit_code == 2
    assert result.stderr == "error: specs: is a directory, not a spec file\n"


def test_the_spec_file_comes_from_ddbtrigger_file_or_the_default(in_tmp: Path) -> None:
    (in_tmp / "other.yaml").write_text(HEAD.replace("version: 1", "version: 3"), encoding="utf-8")
    result = CliRunner().invoke(app, ["validate"], env={"DDBTRIGGER_FILE": "other.yaml"})
    assert result.exit_code == 2
    assert "other.yaml:1:1: version: must be one of 1 (got 3)" in result.stderr.splitlines()
    (in_tmp / "ddbtrigger.yaml").write_text(HEAD, encoding="utf-8")
    result = CliRunner().invoke(app, ["validate"], env={"DDBTRIGGER_FILE": None})
    assert result.exit_code == 0, result.output
    assert "ddbtrigger.yaml is valid" in result.stderr

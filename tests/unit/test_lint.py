"""Lint rules DDBT001-DDBT011: each fires on a spec that has the problem and stays quiet on one that
does not; ``lint_ignore`` silences (but still lists); ``--strict``; and ``validate``'s JSON shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.lint import CODES, blocking, lint
from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.spec import Spec
from ddbtrigger.errors import SpecError

SQS = {"type": "sqs", "name": "dlq"}
S3 = {"type": "s3", "name": "dlq-bucket"}
UNBOUNDED = {"maximum_retry_attempts": -1, "maximum_record_age_in_seconds": -1}


WATCHED = {"iterator_age_seconds": 300}  # so DDBT011 (no iterator-age alarm) stays out of other rules' tests


def trigger(name: str = "t1", *, table: str = "orders", **extra: Any) -> dict[str, Any]:
    return {"name": name, "table": table, "function": "fn", "alarms": WATCHED, **extra}


def spec_of(*triggers: dict[str, Any], defaults: dict[str, Any] | None = None) -> Spec:
    doc: dict[str, Any] = {"version": 1, "triggers": list(triggers)}
    if defaults is not None:
        doc["defaults"] = defaults
    return load_spec(yaml.safe_dump(doc, sort_keys=False), "spec.yaml")


def codes(spec: Spec) -> set[str]:
    return {f.code for f in lint(spec)}


# (code, a spec that triggers it, a spec that does not)
RULE_CASES: list[tuple[str, Spec, Spec]] = [
    ("DDBT001", spec_of(trigger(mapping=UNBOUNDED)), spec_of(trigger(mapping=UNBOUNDED, on_failure=SQS))),
    ("DDBT002", spec_of(trigger(mapping=UNBOUNDED, on_failure=SQS)), spec_of(trigger(on_failure=SQS))),
    ("DDBT003", spec_of(trigger()), spec_of(trigger(on_failure=S3))),
    (
        "DDBT004",
        spec_of(trigger(on_failure=S3, mapping={"bisect_batch_on_function_error": False, "batch_size": 10})),
        spec_of(trigger(on_failure=S3, mapping={"bisect_batch_on_function_error": False, "batch_size": 1})),
    ),
    (
        "DDBT005",
        spec_of(trigger(on_failure=S3, mapping={"report_batch_item_failures": False})),
        spec_of(trigger(on_failure=S3, mapping={"report_batch_item_failures": True})),
    ),
    ("DDBT006", spec_of(trigger(on_failure=SQS)), spec_of(trigger(on_failure=S3))),
    (
        "DDBT007",
        spec_of(trigger("a"), trigger("b"), trigger("c")),
        spec_of(trigger("a"), trigger("b"), trigger("c", table="payments")),
    ),
    (
        "DDBT008",
        spec_of(trigger(on_failure={**S3, "prefix": "failures/"})),
        spec_of(trigger(on_failure={**S3, "prefix": "aws/lambda/1f2e-uuid/"})),
    ),
    (
        "DDBT009",
        spec_of(trigger(on_failure=S3, mapping={"filters": [{"eventName": [{"wildcard": "INS*"}]}]})),
        spec_of(trigger(on_failure=S3, mapping={"filters": [{"eventName": [{"prefix": "INS"}]}]})),
    ),
    (
        "DDBT010",
        spec_of(
            trigger(
                on_failure=S3,
                mapping={"filters": [{"dynamodb": {"NewImage": {"n": {"N": [{"numeric": [">", 1]}]}}}}]},
            )
        ),
        spec_of(
            trigger(on_failure=S3, mapping={"filters": [{"dynamodb": {"NewImage": {"n": {"N": ["1"]}}}}]})
        ),
    ),
    (
        "DDBT011",
        spec_of(trigger(on_failure=S3, alarms={"function_errors": 1})),
        spec_of(trigger(on_failure=S3, alarms={}), defaults={"alarms": {"iterator_age_seconds": 300}}),
    ),
]

LEVELS = {
    "DDBT001": "error",
    "DDBT002": "warning",
    "DDBT003": "warning",
    "DDBT004": "warning",
    "DDBT005": "info",
    "DDBT006": "info",
    "DDBT007": "warning",
    "DDBT008": "warning",
    "DDBT009": "error",
    "DDBT010": "warning",
    "DDBT011": "info",
}


def test_every_code_has_a_case() -> None:
    assert [c[0] for c in RULE_CASES] == list(CODES)


@pytest.mark.parametrize(("code", "bad", "good"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_rule_fires_on_the_bad_spec_only(code: str, bad: Spec, good: Spec) -> None:
    fired = [f for f in lint(bad) if f.code == code]
    assert fired, f"{code} did not fire"
    assert all(f.level == LEVELS[code] and not f.silenced and f.message for f in fired)
    assert code not in codes(good)


def test_sns_destination_is_also_pointer_only() -> None:
    spec = spec_of(trigger(on_failure={"type": "sns", "name": "topic"}))
    assert [f.message.split(":")[0] for f in lint(spec) if f.code == "DDBT006"] == [
        "an SNS destination holds only pointers"
    ]


def test_ddbt001_is_not_also_ddbt003() -> None:
    assert codes(spec_of(trigger(mapping=UNBOUNDED))) == {"DDBT001"}


def test_ddbt007_names_the_reader_count_on_each_reader() -> None:
    spec = spec_of(
        trigger("a"), trigger("b"), trigger("c", table="arn:aws:dynamodb:us-east-1:123456789012:table/orders")
    )
    found = [f for f in lint(spec) if f.code == "DDBT007"]
    assert [f.trigger for f in found] == ["a", "b", "c"]
    assert found[0].message.startswith("3 mappings read the stream of table orders")


def test_the_safe_defaults_raise_only_the_info_about_pointers() -> None:
    assert codes(spec_of(trigger(on_failure=SQS))) == {"DDBT006"}
    assert codes(spec_of(trigger(on_failure=S3))) == set()


def test_lint_ignore_silences_but_still_lists() -> None:
    spec = spec_of(trigger(mapping=UNBOUNDED, lint_ignore=["DDBT001"]))
    [finding] = lint(spec)
    assert (finding.code, finding.silenced) == ("DDBT001", True)
    assert finding.as_json()["silenced"] is True
    assert blocking(lint(spec), strict=True) == []


def test_lint_ignore_in_defaults_applies_to_every_trigger() -> None:
    spec = spec_of(trigger("a"), trigger("b"), defaults={"lint_ignore": ["DDBT003"]})
    assert [(f.trigger, f.code, f.silenced) for f in lint(spec)] == [
        ("a", "DDBT003", True),
        ("b", "DDBT003", True),
    ]


def test_lint_only_the_selected_triggers() -> None:
    spec = spec_of(trigger("a"), trigger("b", on_failure=S3))
    assert lint(spec, [spec.triggers[1]]) == []


def test_blocking_errors_always_warnings_only_when_strict() -> None:
    spec = spec_of(
        trigger("a", mapping=UNBOUNDED), trigger("b"), trigger("c", on_failure=SQS, table="payments")
    )
    findings = lint(spec)
    assert {f.code for f in blocking(findings, strict=False)} == {"DDBT001"}
    assert {f.code for f in blocking(findings, strict=True)} == {"DDBT001", "DDBT003"}


# --- through the CLI -------------------------------------------------------------------------------


def write(tmp_path: Path, *triggers: dict[str, Any]) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "triggers": list(triggers)}, sort_keys=False))
    return str(path)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_validate_json_shape(tmp_path: Path) -> None:
    result = run("validate", "-f", write(tmp_path, trigger(on_failure=SQS)), "--output", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document == {
        "valid": True,
        "errors": [],
        "findings": [
            {
                "code": "DDBT006",
                "level": "info",
                "trigger": "t1",
                "message": document["findings"][0]["message"],
                "silenced": False,
            }
        ],
        "triggers": [
            {
                "name": "t1",
                "impact": {"max_block_seconds": 3600, "max_invocations": 32, "reaches": "destination"},
            }
        ],
    }
    assert result.stderr == ""


def test_validate_prints_the_poison_pill_impact_per_trigger(tmp_path: Path) -> None:
    unbounded = trigger(mapping=UNBOUNDED, on_failure=SQS, lint_ignore=["DDBT002"])
    result = run("validate", "-f", write(tmp_path, unbounded))
    assert result.exit_code == 0, result.output
    assert "t1: a poison pill blocks shard ≤ 24 h, unbounded invokes, then the destination" in result.stdout


def test_validate_exits_2_on_a_lint_error(tmp_path: Path) -> None:
    result = run("validate", "-f", write(tmp_path, trigger(mapping=UNBOUNDED)))
    assert result.exit_code == 2
    assert "DDBT001" in result.stdout
    assert result.stderr.strip().endswith("error: 1 lint finding(s) refuse the spec")


def test_validate_json_lint_error_has_valid_false_and_the_error(tmp_path: Path) -> None:
    result = run("validate", "-f", write(tmp_path, trigger(mapping=UNBOUNDED)), "-o", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["errors"] == [f"t1: DDBT001: {document['findings'][0]['message']}"]
    assert document["error"]["code"] == "lint_failed"
    assert [f["code"] for f in document["findings"]] == ["DDBT001"]


def test_validate_json_invalid_spec_has_valid_false_and_the_lines(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("version: 2\ntriggers: []\n")
    result = run("validate", "-f", str(path), "-o", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["findings"] == []
    assert document["errors"] == [
        f"{path}:1:1: version: must be one of 1 (got 2)",
        f"{path}:2:1: triggers: must not be empty (got [])",
    ]
    assert document["error"]["code"] == "invalid_spec"


def test_strict_turns_warnings_into_refusals(tmp_path: Path) -> None:
    spec = write(tmp_path, trigger())
    assert run("validate", "-f", spec).exit_code == 0
    result = run("validate", "-f", spec, "--strict", "-o", "json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["errors"][0].startswith("t1: DDBT003: ")


def test_strict_ignores_infos_and_silenced_warnings(tmp_path: Path) -> None:
    spec = write(tmp_path, trigger(on_failure=SQS), trigger("t2", on_failure=S3, lint_ignore=["DDBT003"]))
    assert run("validate", "-f", spec, "--strict").exit_code == 0
    silenced = write(tmp_path, trigger(lint_ignore=["DDBT003"]))
    result = run("validate", "-f", silenced, "--strict", "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"][0]["silenced"] is True


def test_table_output_lists_silenced_findings(tmp_path: Path) -> None:
    result = run("validate", "-f", write(tmp_path, trigger(lint_ignore=["DDBT003"])))
    assert result.exit_code == 0
    assert "DDBT003" in result.stdout
    assert "(silenced)" in result.stdout
    assert "is valid" in result.stderr


def test_lint_ignore_of_defaults_and_trigger_add_up() -> None:
    spec = spec_of(
        trigger("a", on_failure=SQS, lint_ignore=["DDBT004"]), defaults={"lint_ignore": ["DDBT006"]}
    )
    assert spec.triggers[0].lint_ignore == ["DDBT006", "DDBT004"]
    assert [(f.code, f.silenced) for f in lint(spec)] == [("DDBT006", True)]


def test_a_bad_code_in_defaults_or_trigger_lint_ignore_points_at_its_own_line() -> None:
    text = (
        "version: 1\ndefaults:\n  lint_ignore: [DDBT006, DDBTx]\ntriggers:\n"
        "  - name: a\n    table: orders\n    function: fn\n    lint_ignore: [DDBT003, bad]\n"
    )
    with pytest.raises(SpecError) as caught:
        load_spec(text, "spec.yaml")
    assert caught.value.details == [
        "spec.yaml:3:26: defaults.lint_ignore[1]: invalid value 'DDBTx' (must match ^DDBT\\d{3}$)",
        "spec.yaml:8:28: triggers[0].lint_ignore[1]: invalid value 'bad' (must match ^DDBT\\d{3}$)",
    ]


FILTER_SPEC = """\
version: 1
defaults:
  mapping:
    filters:
      - eventName: [INSERT]
        dynamodb:
          NewImage:
            amount:
              N: [{numeric: [">", 100]}]
triggers:
  - name: t1
    table: orders
    function: fn
    lint_ignore: [DDBT009, DDBT011]
    on_failure: {type: s3, name: b}
    mapping:
      filters:
        - eventName: [INSERT]
        - dynamodb:
            NewImage:
              status: [{exists: true}]
          eventName: [{wildcard: "IN*"}]
"""


def test_filter_findings_say_file_line_col_and_ddbt009_cannot_be_silenced() -> None:
    spec = load_spec(FILTER_SPEC, "spec.yaml")
    found = {
        (f.code, f.message.split(": ")[0], f.silenced) for f in lint(spec) if f.code in ("DDBT009", "DDBT010")
    }
    assert found == {("DDBT009", "spec.yaml:22:23", False)}  # the bad pattern also skips DDBT010
    last = [f for f in lint(spec) if f.code == "DDBT009"][-1]
    assert "mapping.filters[1].eventName[0]: unknown operator 'wildcard'" in last.message


def test_a_filter_from_defaults_is_located_in_defaults() -> None:
    spec = load_spec(
        FILTER_SPEC.split("triggers:")[0] + "triggers:\n  - {name: t1, table: orders, function: fn}\n",
        "s.yaml",
    )
    [warning] = [f for f in lint(spec) if f.code == "DDBT010"]
    assert warning.message.startswith("s.yaml:9:19: mapping.filters[0].dynamodb.NewImage.amount.N[0]: ")
    assert "N is a string" in warning.message

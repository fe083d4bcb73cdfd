"""Environments: overlay merge, variables, and errors at the line where the bad value is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.environments import select_environment, select_environments
from ddbtrigger.core.loader import load_document, load_spec, resolve_environment
from ddbtrigger.core.schema import spec_schema, substituted_properties
from ddbtrigger.errors import SpecError, UsageError

ROOT = Path(__file__).resolve().parents[2]

BASE = """\
version: 1
environments:
  dev: {profile: dev, region: eu-west-1}
  prod:
    region: eu-west-2
    account_id: "123456789012"
    assume_role: arn:aws:iam::${account_id}:role/op-${env}
    overrides:
      defaults:
        mapping: {maximum_retry_attempts: 7}
      triggers:
        - name: audit
          mapping: {batch_size: 50}
defaults:
  mapping: {maximum_retry_attempts: 2}
triggers:
  - name: audit
    table: orders-${env}
    function: audit-${env}-${region}
    mapping: {batch_size: 10, tags: {env: "${env}", literal: "$${env}"}}
    on_failure: {type: sqs, name: "audit-${env}-dlq"}
"""


def problems(text: str, env: str | None) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec(text, "s.yaml", env)
    return caught.value.details


def test_overlay_merges_and_variables_are_substituted() -> None:
    dev, prod = load_spec(BASE, "s.yaml", "dev"), load_spec(BASE, "s.yaml", "prod")
    assert (dev.triggers[0].table, dev.triggers[0].function) == ("orders-dev", "audit-dev-eu-west-1")
    assert (prod.triggers[0].table, prod.triggers[0].function) == ("orders-prod", "audit-prod-eu-west-2")
    assert dev.triggers[0].mapping.batch_size == 10 and prod.triggers[0].mapping.batch_size == 50
    assert dev.triggers[0].mapping.maximum_retry_attempts == 2
    assert prod.triggers[0].mapping.maximum_retry_attempts == 7
    assert prod.triggers[0].mapping.tags == {"env": "prod", "literal": "${env}"}
    assert prod.triggers[0].on_failure is not None and prod.triggers[0].on_failure.name == "audit-prod-dlq"
    assert (dev.region, prod.region) == ("eu-west-1", "eu-west-2")
    assert prod.env_name == "prod" and prod.environment is not None
    assert prod.environment.assume_role == "arn:aws:iam::123456789012:role/op-prod"
    assert prod.environment.account_id == "123456789012" and prod.environment.overrides is None
    assert dev.environment is not None and dev.environment.profile == "dev"


def test_an_overlay_error_is_reported_at_the_overlays_line_and_column() -> None:
    text = BASE.replace("mapping: {batch_size: 50}", "mapping: {batch_size: 0}")
    assert problems(text, "prod") == [
        "s.yaml:13:21: environments.prod.overrides.triggers[0].mapping.batch_size: must be ≥ 1 (got 0)"
    ]
    assert load_spec(text, "s.yaml", "dev").triggers[0].mapping.batch_size == 10


def test_a_base_error_is_reported_at_the_bases_line_in_the_environment() -> None:
    text = BASE.replace("batch_size: 10,", "batch_size: 20000,")
    assert problems(text, "dev") == [
        "s.yaml:20:15: triggers[0].mapping.batch_size: must be ≤ 10000 (got 20000)"
    ]
    # prod overrides batch_size, so the base's bad value is not in prod's spec; lint positions follow too
    prod = load_spec(text, "s.yaml", "prod")
    assert prod.where(("triggers", 0, "mapping", "batch_size")) == "s.yaml:13:21"
    assert prod.where(("triggers", 0, "mapping", "maximum_retry_attempts")) == "s.yaml:10:19"
    assert prod.where(("triggers", 0, "table")) == "s.yaml:18:5"


def test_an_overlay_default_error_points_at_the_overlay() -> None:
    text = BASE.replace("maximum_retry_attempts: 7", "maximum_retry_attempts: yes")
    assert problems(text, "prod") == [
        "s.yaml:10:19: environments.prod.overrides.defaults.mapping.maximum_retry_attempts: must be an integer "
        "(got str 'yes')"
    ]


def test_unknown_variable_is_an_error_at_its_line() -> None:
    text = BASE.replace("table: orders-${env}", "table: orders-${stage}")
    lines = problems(text, "dev")
    assert len(lines) == 1
    assert lines[0].startswith("s.yaml:18:5: triggers[0].table: unknown variable ${stage} (known: ${env}")


def test_account_id_variable_without_an_account_id() -> None:
    text = BASE.replace('name: "audit-${env}-dlq"', 'name: "audit-${account_id}-dlq"')
    assert problems(text, "dev") == [
        "s.yaml:21:29: triggers[0].on_failure.name: ${account_id} is used but environment 'dev' sets no account_id"
    ]
    assert load_spec(text, "s.yaml", "prod").triggers[0].on_failure.name == "audit-123456789012-dlq"  # type: ignore[union-attr]


def test_variables_without_environments_and_outside_substituted_fields() -> None:
    plain = 'version: 1\ntriggers:\n  - {name: t, table: "orders-${env}", function: f}\n'
    assert problems(plain, None) == [
        "s.yaml:3:15: triggers[0].table: ${env} needs an environment, and this spec declares no 'environments'"
    ]
    named = BASE.replace("- name: audit\n    table", "- name: audit-${env}\n    table")
    assert any(
        "substituted only in" in line and "triggers[0].name" in line for line in problems(named, "dev")
    )


def test_environment_settings_are_checked_at_their_lines() -> None:
    text = BASE.replace('account_id: "123456789012"', "account_id: 123456789012")
    lines = problems(text, "prod")
    assert lines[0].startswith(
        "s.yaml:6:5: environments.prod.account_id: must be a quoted string of 12 digits"
    )
    text = BASE.replace("      triggers:\n", "      region: eu-west-1\n      triggers:\n")
    assert problems(text, "prod") == [
        "s.yaml:11:7: environments.prod.overrides.region: an environment's region is set as its own 'region', "
        "not in overrides"
    ]
    with pytest.raises(SpecError) as caught:
        load_document(BASE.replace("  dev:", "  all:"), "s.yaml")
    assert caught.value.details == [
        "s.yaml:3:3: environments.all: invalid environment name 'all' ('all' means every environment)"
    ]


def test_an_overlay_trigger_with_a_new_name_is_that_environments_only() -> None:
    text = BASE.replace(
        "        - name: audit\n",
        "        - name: extra\n          table: t-${env}\n          function: f\n        - name: audit\n",
    )
    prod, dev = load_spec(text, "s.yaml", "prod"), load_spec(text, "s.yaml", "dev")
    assert [t.name for t in prod.triggers] == ["audit", "extra"] and prod.triggers[1].table == "t-prod"
    assert [t.name for t in dev.triggers] == ["audit"]


def test_choosing_an_environment() -> None:
    document = load_document(BASE, "s.yaml")
    assert document.environment_names == ["dev", "prod"]
    with pytest.raises(UsageError, match=r"declares environments \(dev, prod\): choose one with --env"):
        select_environment(document, None)
    with pytest.raises(UsageError, match="did you mean 'prod'"):
        select_environment(document, "prd")
    with pytest.raises(UsageError, match="plan, status and audit only"):
        select_environment(document, "all")
    assert select_environments(document, "all") == ["dev", "prod"]
    assert select_environment(document, "dev") == "dev"
    plain = load_document("version: 1\ntriggers: [{name: t, table: ttt, function: f}]\n", "p.yaml")
    assert select_environment(plain, None) is None
    with pytest.raises(UsageError, match="declares no environments"):
        select_environment(plain, "dev")
    with pytest.raises(UsageError, match="choose one"):
        resolve_environment(document, None)


# --- fuzz: resolving raises nothing but SpecError (or UsageError for a bad name) --------------------

_scalars = st.one_of(
    st.sampled_from(["${env}", "${region}", "${account_id}", "${x}", "$${env}", "${", "a-${env}-b", "prod"]),
    st.integers(-2, 20000),
    st.booleans(),
    st.none(),
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "name",
                    "table",
                    "function",
                    "mapping",
                    "batch_size",
                    "defaults",
                    "triggers",
                    "on_failure",
                    "type",
                    "tags",
                    "region",
                ]
            ),
            inner,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    overrides=_values,
    env_settings=st.dictionaries(
        st.sampled_from(["region", "account_id", "profile", "assume_role", "overrides"]), _values, max_size=4
    ),
    table=_scalars,
)
def test_resolving_raises_only_spec_errors(overrides: Any, env_settings: dict[str, Any], table: Any) -> None:
    doc = yaml.safe_load(BASE)
    doc["environments"]["dev"] = {**env_settings, "overrides": overrides}
    doc["triggers"][0]["table"] = table
    text = yaml.safe_dump(doc, sort_keys=False)
    for env in ("dev", "prod"):
        try:
            load_spec(text, "s.yaml", env)
        except SpecError as e:
            assert e.details and all(line.startswith("s.yaml") for line in e.details)


# --- schema and validate ----------------------------------------------------------------------------


def test_schema_accepts_the_example_and_variables_only_where_substituted() -> None:
    schema = spec_schema()
    example = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    assert set(example["environments"]) == {"dev", "prod"}
    jsonschema.validate(example, schema, cls=jsonschema.Draft202012Validator)
    assert ("TriggerSpec", "table") in substituted_properties()
    example["triggers"][0]["name"] = "audit-${env}"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema, cls=jsonschema.Draft202012Validator)
    example["triggers"][0]["name"] = "audit"
    example["environments"]["Bad Name"] = {"region": "eu-west-1"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(example, schema, cls=jsonschema.Draft202012Validator)


THREE = BASE.replace(
    "  prod:\n",
    "  staging: {region: eu-west-1, overrides: {triggers: [{name: audit, mapping: {batch_size: 0}}]}}\n  prod:\n",
)


def test_validate_reports_every_environment(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(THREE)
    result = CliRunner().invoke(app, ["validate", "-f", str(path), "-o", "json"])
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    assert list(document["environments"]) == ["dev", "staging", "prod"]
    assert document["valid"] is False and document["error"]["code"] == "invalid_spec"
    assert document["environments"]["dev"]["valid"] and document["environments"]["prod"]["valid"]
    assert [t["name"] for t in document["environments"]["prod"]["triggers"]] == ["audit"]
    assert document["environments"]["staging"]["errors"] == [
        f"{path}:4:79: environments.staging.overrides.triggers[0].mapping.batch_size: must be ≥ 1 (got 0)"
    ]
    assert document["errors"] == [document["environments"]["staging"]["errors"][0] + " (in staging)"]
    path.write_text(THREE.replace("batch_size: 0}", "batch_size: 5}"))
    result = CliRunner().invoke(app, ["validate", "-f", str(path)])
    assert result.exit_code == 0, result.output
    for env in ("dev", "staging", "prod (eu-west-2, account 123456789012)"):
        assert f"environment {env}" in result.stdout
    assert "every environment: 3" in result.stderr


def test_validate_without_environments_keeps_its_json_keys() -> None:
    result = CliRunner().invoke(
        app, ["validate", "-f", str(ROOT / "examples" / "single-account.yaml"), "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"valid", "errors", "findings", "triggers"}

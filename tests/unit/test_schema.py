"""``ddbtrigger schema`` prints a JSON Schema that accepts the example spec and rejects broken ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.schema import spec_schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def printed_schema() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    return data


def test_printed_schema_is_a_valid_draft_2020_12_schema(printed_schema: dict[str, Any]) -> None:
    assert printed_schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed_schema)
    assert printed_schema == spec_schema()


def test_example_spec_validates(printed_schema: dict[str, Any]) -> None:
    jsonschema.validate(example(), printed_schema, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (lambda d: d["triggers"][0]["mapping"].update(batch_size=20000), "20000"),
        (lambda d: d["triggers"][0]["mapping"].update(batch_sise=10), "batch_sise"),
        (lambda d: d.update(version=2), "version"),
        (lambda d: d["triggers"][0].pop("function"), "function"),
        (lambda d: d["triggers"][0]["stream"].update(view_type="NEW"), "NEW"),
        (lambda d: d["triggers"][0].update(name="Bad_Name"), "Bad_Name"),
    ],
    ids=["out-of-range", "unknown-key", "version", "missing-function", "view-type", "name"],
)
def test_broken_spec_fails_the_schema(printed_schema: dict[str, Any], mutate: Any, complaint: str) -> None:
    data = example()
    mutate(data)
    with pytest.raises(jsonschema.ValidationError) as caught:
        jsonschema.validate(data, printed_schema, cls=jsonschema.Draft202012Validator)
    assert complaint in str(caught.value.message) + json.dumps(list(caught.value.path))


def test_schema_json_flag_is_accepted() -> None:
    result = CliRunner().invoke(app, ["schema", "--output", "json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["title"] == "ddbtrigger spec"

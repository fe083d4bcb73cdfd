"""The spec's JSON Schema, generated from the model so the two cannot drift."""

from __future__ import annotations

from typing import Any

from ddbtrigger.core.spec import Spec


def spec_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ddbtrigger spec"
    return schema

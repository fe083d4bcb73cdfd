"""The spec's JSON Schema, generated from the model so the two cannot drift."""

from __future__ import annotations

from typing import Any

from ddbtrigger.core.spec import ALARM_KEYS, Spec
from ddbtrigger.core.variables import ANY, ENVIRONMENT_SUBSTITUTED, SUBSTITUTED, VARIABLES

# The model that holds each substituted field (its parent in SUBSTITUTED); a tag value has no pattern.
_PARENT_MODEL: dict[str | int, str | None] = {
    ANY: "TriggerSpec",
    "on_failure": "OnFailureSpec",
    "tags": None,
    "alarms": "AlarmsSpec",
    "notify": None,  # a topic in a list: the ``alarms.notify`` entry covers its items
}
_VARIABLE_PATTERN = r"\$\{(?:" + "|".join(VARIABLES) + r")\}"


def spec_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ddbtrigger spec"
    for option in schema["properties"]["environments"]["anyOf"]:
        if option.get("type") == "object":
            option["additionalProperties"] = False  # an environment's name must match the pattern
    _alarm_short_forms(schema["$defs"]["AlarmsSpec"]["properties"])
    for model, field in substituted_properties():
        _allow_variables(schema["$defs"][model]["properties"][field])
    return schema


def _alarm_short_forms(properties: dict[str, Any]) -> None:
    """What the model's before-validators accept too: an alarm as its threshold alone or ``false``
    (off), and ``notify`` as one topic ARN."""
    for key in ALARM_KEYS:
        properties[key]["anyOf"] += [{"type": "integer", "minimum": 0}, {"const": False}]
    notify = properties["notify"]
    properties["notify"] = {"anyOf": [dict(notify["items"]), notify], "title": notify.get("title", "Notify")}


def substituted_properties() -> list[tuple[str, str]]:
    """(model, field) of every field where ``${env}`` & co. are substituted: in the file they may hold
    a variable where the model's pattern wants the substituted value."""
    out = [("EnvironmentSpec", field) for field in ENVIRONMENT_SUBSTITUTED]
    for path in SUBSTITUTED:
        model = _PARENT_MODEL[path[-2]]
        if model is not None:
            out.append((model, str(path[-1])))
    return out


def _allow_variables(node: Any) -> None:
    """Every ``pattern`` under ``node`` also accepts a value that holds a variable."""
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            node["pattern"] = f"(?:{node['pattern']})|{_VARIABLE_PATTERN}"
        for value in node.values():
            _allow_variables(value)
    elif isinstance(node, list):
        for value in node:
            _allow_variables(value)

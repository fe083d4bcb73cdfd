"""GetRecords' response body without moto's generic serializer.

moto serializes a response by walking the operation's botocore shape and, for every member, trying
several spellings of its name (aliases, snake case) on the result: ~0.7 s for a page of 1,000 stream
records on a busy core, more than everything else a replay or its floor does with that page. The
records the sandbox keeps are already in the wire's shape (AWS's member names), so this walks the same
botocore shape directly: members that are set, blobs in base64, timestamps as epoch seconds truncated
to milliseconds, numbers and booleans as moto writes them. ``tests/aws/test_sandbox_wire_json.py``
checks that the output equals moto's serializer's for every attribute type.
"""

from __future__ import annotations

import base64
import calendar
import json
from datetime import datetime
from functools import cache
from typing import Any

from botocore.model import Shape


@cache
def output_shape(service: str, operation: str) -> Shape:
    """The operation's output shape (botocore's model, loaded once)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).output_shape
    if shape is None:
        raise ValueError(f"{service}.{operation} has no output")
    return shape


def encode(value: Any, shape: Shape) -> Any:
    """``value`` (wire member names) as moto's JSON serializer would write it for ``shape``."""
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():  # type: ignore[attr-defined]
            item = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
            if item is not None:
                out[member.serialization.get("name", name)] = encode(item, member)
        return out
    if kind == "list":
        return [encode(item, shape.member) for item in value]  # type: ignore[attr-defined]
    if kind == "map":
        return {str(k): encode(v, shape.value) for k, v in value.items()}  # type: ignore[attr-defined]
    if kind == "blob":
        raw = value.encode() if isinstance(value, str) else bytes(value)
        return base64.b64encode(raw).strip().decode()
    if kind == "timestamp":
        return _epoch(value)
    if kind in ("integer", "long"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        return value is True or str(value).lower() == "true"
    return str(value) if value not in (None, {}, []) else value


def _epoch(value: Any) -> int | float:
    if not isinstance(value, datetime):
        raise TypeError(f"a timestamp must be a datetime here, not {type(value).__name__}")
    seconds = calendar.timegm(value.utctimetuple())
    return seconds + (value.microsecond // 1000) / 1000.0 if value.microsecond else seconds


def get_records_body(result: dict[str, Any]) -> str:
    """GetRecords' JSON body for the backend's result."""
    return json.dumps(encode(result, output_shape("dynamodbstreams", "GetRecords")))

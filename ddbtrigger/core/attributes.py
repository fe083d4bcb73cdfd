"""DynamoDB attribute values in Lambda's wire form, and their size by DynamoDB's item-size rules.

Lambda's event is JSON, so a ``B`` value is base64 text and a ``BS`` a list of base64 texts, at any
depth inside ``M`` and ``L``; ``N``/``NS`` stay strings; ``S``, ``SS``, ``BOOL``, ``NULL`` are sent as
they are. Records reach us in mixed shapes: boto3 parses ``B`` into ``bytes`` (or ``boto3``'s
``Binary``), moto keeps top-level binaries as base64 text but nested ones as ``bytes``, and records
taken from an S3 failure object are already wire JSON. Every path that builds an event (the sandbox's
poller, ``redrive``, ``inspect-dlq --hydrate``) goes through ``to_wire`` so they agree byte for byte.

A value that is not a DynamoDB attribute raises ``AttributeEncodingError`` (a ``ValueError``): callers
decide whether that fails a batch or is shown as is; nothing here guesses.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

SCALAR_TYPES = ("S", "N", "B", "BOOL", "NULL")
SET_TYPES = ("SS", "NS", "BS")
DOCUMENT_OVERHEAD = 3
"""Bytes a ``M`` or ``L`` costs on top of its contents (plus one byte per element)."""


class AttributeEncodingError(ValueError):
    """A value that is not a DynamoDB attribute value in any shape we know."""


def to_wire(value: Any) -> dict[str, Any]:
    """One attribute value (``{"B": b"..."}``, ``{"M": {...}}``, ...) as Lambda's JSON sends it."""
    kind, inner = _split(value)
    return {kind: _ENCODERS[kind](inner)}


def image_to_wire(image: Mapping[str, Any]) -> dict[str, Any]:
    """An item (attribute name -> value), e.g. ``Keys``/``NewImage``/``OldImage``, in wire form."""
    if not isinstance(image, Mapping):
        raise AttributeEncodingError(f"an item must be an object of attributes, not {type(image).__name__}")
    return {_name(name): to_wire(value) for name, value in image.items()}


def binary_bytes(value: Any) -> bytes:
    """The raw bytes of a ``B`` value in any shape: bytes-like, boto3 ``Binary``, or base64 text."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    inner = getattr(value, "value", None)  # boto3.dynamodb.types.Binary, without importing boto3
    if isinstance(inner, bytes | bytearray):
        return bytes(inner)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as e:
            raise AttributeEncodingError(f"a B value is neither bytes nor base64 text: {value[:40]!r}") from e
    raise AttributeEncodingError(f"a B value must be bytes or base64 text, not {type(value).__name__}")


def _split(value: Any) -> tuple[str, Any]:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise AttributeEncodingError(f"an attribute value must be an object with one type key: {value!r:.80}")
    ((kind, inner),) = value.items()
    if kind not in _ENCODERS:
        raise AttributeEncodingError(f"unknown attribute type {kind!r}")
    return str(kind), inner


def _name(name: Any) -> str:
    if not isinstance(name, str):
        raise AttributeEncodingError(f"an attribute name must be text, not {type(name).__name__}")
    return name


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise AttributeEncodingError(f"an S value must be text, not {type(value).__name__}")
    return value


def _number(value: Any) -> str:
    """``N`` is a string on the wire; a number from a hand-built record is written as DynamoDB would."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise AttributeEncodingError(f"an N value must be a number string, not {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _b64(value: Any) -> str:
    if isinstance(value, str):
        binary_bytes(value)  # validates
        return value
    return base64.b64encode(binary_bytes(value)).decode("ascii")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise AttributeEncodingError(f"a BOOL/NULL value must be true or false, not {value!r:.40}")
    return value


def _many(each: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    def encode(values: Any) -> list[Any]:
        if isinstance(values, str | bytes | Mapping) or not hasattr(values, "__iter__"):
            raise AttributeEncodingError(f"a set or list must be a sequence, not {type(values).__name__}")
        return [each(v) for v in values]

    return encode


def _map(value: Any) -> dict[str, Any]:
    return image_to_wire(value)


_ENCODERS: dict[str, Callable[[Any], Any]] = {
    "S": _text,
    "N": _number,
    "B": _b64,
    "BOOL": _flag,
    "NULL": _flag,
    "SS": _many(_text),
    "NS": _many(_number),
    "BS": _many(_b64),
    "L": _many(to_wire),
    "M": _map,
}


# -- raw form (boto3's shape) ---------------------------------------------------------------------
def from_wire(value: Any) -> dict[str, Any]:
    """One attribute value with every binary as ``bytes`` (boto3's shape), whatever shape it came in."""
    kind, inner = _split(value)
    if kind == "B":
        return {kind: binary_bytes(inner)}
    if kind == "BS":
        return {kind: [binary_bytes(v) for v in _many(lambda v: v)(inner)]}
    if kind == "L":
        return {kind: [from_wire(v) for v in _many(lambda v: v)(inner)]}
    if kind == "M":
        return {kind: image_from_wire(inner)}
    return {kind: _ENCODERS[kind](inner)}


def image_from_wire(image: Mapping[str, Any]) -> dict[str, Any]:
    """An item with every binary as ``bytes`` (see ``from_wire``)."""
    if not isinstance(image, Mapping):
        raise AttributeEncodingError(f"an item must be an object of attributes, not {type(image).__name__}")
    return {_name(name): from_wire(value) for name, value in image.items()}


# -- size ------------------------------------------------------------------------------------------
def number_size(text: str) -> int:
    """About one byte per two significant digits plus one (and one more for a negative number)."""
    try:
        number = Decimal(str(text))
    except InvalidOperation as e:
        raise AttributeEncodingError(f"an N value is not a number: {text!r:.40}") from e
    digits = "".join(str(d) for d in number.as_tuple().digits).strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1 + (1 if number < 0 else 0)


def value_size(value: Any) -> int:
    """The bytes one attribute value counts for in DynamoDB's item size (its name not included)."""
    kind, inner = _split(value)
    if kind == "S":
        return len(_text(inner).encode("utf-8"))
    if kind == "N":
        return number_size(_number(inner))
    if kind == "B":
        return len(binary_bytes(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in SET_TYPES:
        element = kind[0]
        return sum(value_size({element: v}) for v in _many(lambda v: v)(inner))
    if kind == "L":
        elements = _many(lambda v: v)(inner)
        return DOCUMENT_OVERHEAD + sum(1 + value_size(v) for v in elements)
    entries = inner.items() if isinstance(inner, Mapping) else _bad_map(inner)
    return DOCUMENT_OVERHEAD + sum(1 + len(_name(k).encode("utf-8")) + value_size(v) for k, v in entries)


def _bad_map(inner: Any) -> Any:
    raise AttributeEncodingError(f"an M value must be an object, not {type(inner).__name__}")


def item_size(image: Mapping[str, Any]) -> int:
    """An item's size: for each attribute, its name's UTF-8 length plus its value's size."""
    return sum(len(_name(name).encode("utf-8")) + value_size(value) for name, value in image.items())


def record_size(dynamodb: Mapping[str, Any]) -> int:
    """A stream record's ``SizeBytes``: the item sizes of ``Keys``, ``NewImage`` and ``OldImage``."""
    return sum(item_size(dynamodb[part]) for part in ("Keys", "NewImage", "OldImage") if part in dynamodb)


# -- plain values (for people) ----------------------------------------------------------------------
def plain_value(value: Any) -> Any:
    """An attribute value as plain JSON for display: numbers as numbers, binaries as base64 text."""
    kind, inner = _split(value)
    if kind == "N":
        return _plain_number(_number(inner))
    if kind == "NS":
        return sorted(_plain_number(n) for n in _many(_number)(inner))
    if kind in ("SS", "BS"):
        return sorted(_ENCODERS[kind](inner))
    if kind == "L":
        return [plain_value(v) for v in _many(lambda v: v)(inner)]
    if kind == "M":
        return plain_image(inner)
    if kind == "NULL":
        return None
    return _ENCODERS[kind](inner)


def plain_image(image: Mapping[str, Any]) -> dict[str, Any]:
    """An item as plain JSON (see ``plain_value``)."""
    if not isinstance(image, Mapping):
        raise AttributeEncodingError(f"an item must be an object of attributes, not {type(image).__name__}")
    return {_name(name): plain_value(value) for name, value in image.items()}


def _plain_number(text: str) -> int | float:
    try:
        number = Decimal(text)
    except InvalidOperation as e:
        raise AttributeEncodingError(f"an N value is not a number: {text!r:.40}") from e
    return int(number) if number == number.to_integral_value() else float(number)

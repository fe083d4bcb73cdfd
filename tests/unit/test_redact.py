"""The --debug log filter: no key id, signature or body survives it."""

from __future__ import annotations

import logging

from ddbtrigger.cli.redact import RedactingFilter


def _filtered(msg: str, *args: object, name: str = "botocore.endpoint") -> str:
    record = logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args or None, None)
    assert RedactingFilter().filter(record)
    return record.getMessage()


def test_authorization_header_loses_key_id_and_signature() -> None:
    header = (
        "AWS4-HMAC-SHA256 Credential=AKIAFAKEDDBTRIGGER01/20261127/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host, Signature=abcdef0123456789"
    )
    out = _filtered("headers: %s", header)
    assert "AKIAFAKEDDBTRIGGER01" not in out
    assert "abcdef0123456789" not in out


def test_response_bodies_are_dropped() -> None:
    out = _filtered(
        "Response body:\n%s",
        b'{"Records": [{"NewImage": {"email": {"S": "x@example.com"}}}]}',
        name="botocore.parsers",
    )
    assert "example.com" not in out
    assert out.startswith("Response body")


def test_plain_messages_pass_unchanged() -> None:
    assert _filtered("Retry needed, action of: %s", 0.5) == "Retry needed, action of: 0.5"

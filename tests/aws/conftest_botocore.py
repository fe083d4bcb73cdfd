"""Wire answers for botocore's ``before-send`` hook: a real client runs its whole pipeline (retries
included) against them, so a test can count the attempts botocore makes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from botocore.awsrequest import AWSResponse


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def json_response(
    request: Any, body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> AWSResponse:
    """A JSON-protocol answer to ``request``."""
    return AWSResponse(request.url, status, headers or {}, _Raw(json.dumps(body).encode()))


def throttling_response(request: Any, *, code: str = "ThrottlingException", **_: Any) -> AWSResponse:
    """A JSON-protocol throttling error (botocore's standard mode retries it)."""
    body = {"__type": code, "message": "Rate exceeded"}
    return json_response(request, body, status=400, headers={"x-amzn-ErrorType": code})

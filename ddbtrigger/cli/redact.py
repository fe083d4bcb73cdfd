"""Keep secrets and item data out of the ``--debug`` log.

botocore's DEBUG log prints the Authorization header (with the access key id), the canonical request,
request parameters (an Invoke payload holds item images) and every response body (GetRecords answers
hold item images). The log is for diagnosing calls, so we keep which call was made and how it ended,
and redact the rest.
"""

from __future__ import annotations

import logging
import re

_KEY_ID = re.compile(r"\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b")
_SECRETISH = re.compile(
    r"(?i)(Credential=|Signature=|X-Amz-Security-Token[=:]\s*|aws_secret_access_key\W*|"
    r"aws_session_token\W*|SecretAccessKey\W*|SessionToken\W*)[^\s,'\"&]+"
)
_BODY_MARKERS = (
    "Response body",
    "Request body",
    "with params:",
    "CanonicalRequest",
    "StringToSign",
    "Signature:",
    "Sending http request",
    "Response headers",
    "Event request-created",
    "Event before-call",
    "Event before-parameter-build",
    "Event after-call",
    "Event needs-retry",
    "Event provide-client-params",
)
MAX_LINE = 300


class RedactingFilter(logging.Filter):
    """Rewrite each record's message: bodies dropped, key ids and signatures masked, lines capped."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        first_line = message.split("\n", 1)[0]
        if any(marker in message for marker in _BODY_MARKERS):
            message = first_line.split(":", 1)[0][:120] + ": [redacted]"
        message = _SECRETISH.sub(lambda m: m.group(1) + "[redacted]", message)
        message = _KEY_ID.sub("[redacted-key-id]", message)
        record.msg = message[:MAX_LINE]
        record.args = None
        return True

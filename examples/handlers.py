"""Example Lambda handlers for DynamoDB stream triggers, to run in `ddbtrigger sandbox`.

    ddbtrigger sandbox --handler orders-audit=examples/handlers.py:audit

- ``audit``: processes every record, but fails the whole batch on a poison pill (an item whose
  ``poison`` attribute is true), the way a real bug would. Bisect isolates the pill; after the retries
  it lands in the failure destination.
- ``audit_fixed``: the same handler after the fix: it skips the poison pill instead of failing.
- ``audit_partial``: reports the poison pill alone as a partial batch failure
  (``ReportBatchItemFailures``), so the rest of the batch is checkpointed.
- ``record_log``: appends every record it receives, one JSON line each, to the file named by the
  ``DDBTRIGGER_RECORD_LOG`` environment variable (for reliability and redrive tests), and fails on
  poison pills unless ``DDBTRIGGER_POISON_OK`` is set.

The same functions work unchanged on AWS Lambda (Python runtime).
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

RECORD_LOG_ENV = "DDBTRIGGER_RECORD_LOG"
POISON_OK_ENV = "DDBTRIGGER_POISON_OK"
_log_lock = threading.Lock()


class PoisonPillError(ValueError):
    """Raised for an item whose ``poison`` attribute is true."""


def is_poison(record: dict[str, Any]) -> bool:
    """True when the record's new image has ``poison: true`` (DynamoDB JSON ``{"BOOL": true}``)."""
    image = record.get("dynamodb", {}).get("NewImage", {})
    return bool(image.get("poison", {}).get("BOOL"))


def _key(record: dict[str, Any]) -> dict[str, Any]:
    return dict(record.get("dynamodb", {}).get("Keys", {}))


def audit(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fail the batch on a poison pill; otherwise count the records by event name."""
    counts: dict[str, int] = {}
    for record in event.get("Records", []):
        if is_poison(record):
            raise PoisonPillError(f"poison pill: {json.dumps(_key(record), sort_keys=True)}")
        counts[record.get("eventName", "?")] = counts.get(record.get("eventName", "?"), 0) + 1
    return {"processed": counts}


def audit_fixed(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The fixed handler: a poison pill is logged and skipped instead of failing the batch."""
    records = event.get("Records", [])
    skipped = [_key(r) for r in records if is_poison(r)]
    return {"processed": len(records) - len(skipped), "skipped": skipped}


def audit_partial(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Report only the poison pills as failed (needs ReportBatchItemFailures on the mapping)."""
    failures = [
        {"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in event.get("Records", []) if is_poison(r)
    ]
    return {"batchItemFailures": failures}


def record_log(event: dict[str, Any], context: Any) -> None:
    """Append each received record as a JSON line to $DDBTRIGGER_RECORD_LOG, then judge the batch."""
    records = event.get("Records", [])
    path = os.environ.get(RECORD_LOG_ENV)
    poison = [r for r in records if is_poison(r)]
    failing = bool(poison) and not os.environ.get(POISON_OK_ENV)
    if path:
        lines = [
            json.dumps(
                {
                    "function": getattr(context, "function_name", None),
                    "request_id": getattr(context, "aws_request_id", None),
                    "sequence_number": r.get("dynamodb", {}).get("SequenceNumber"),
                    "event_name": r.get("eventName"),
                    "keys": _key(r),
                    "failed": failing,
                },
                sort_keys=True,
            )
            for r in records
        ]
        with _log_lock, open(path, "a", encoding="utf-8") as log:
            log.write("".join(line + "\n" for line in lines))
    if failing:
        raise PoisonPillError(f"poison pill: {json.dumps(_key(poison[0]), sort_keys=True)}")

"""Leases on S3 failures, so two redrives never deliver the same failure at the same time.

SQS hides a received message for its visibility timeout; S3 has nothing like it, so a redrive writes a
small lease object per failure before it reads it, with a conditional write (``PutObject`` with
``IfNoneMatch="*"``: only one writer can create it). A lease lasts ``hold_seconds`` after it was last
written, by S3's clock (the object's ``LastModified`` against the ``Date`` of the answer), and is
renewed while the run lasts (the redrive heartbeat). An expired lease (its run was killed) is taken
over with a write conditional on its ETag (``IfMatch``), so two runs cannot both take it over. Every
write carries the owner and a counter, so each write has a new ETag.

Leases live under ``LEASE_PREFIX`` at the bucket root, where Lambda never writes (it writes under
``aws/lambda/``); every failure scan and depth count skips that prefix. A lease is deleted after its
failure was deleted, or when the run releases it (normally, on an error, on Ctrl-C).
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from ddbtrigger.aws.errors import error_code, translate, translate_errors
from ddbtrigger.core.failures import Held
from ddbtrigger.core.redrive import S3_LEASE_PREFIX
from ddbtrigger.errors import NotFound

LEASE_PREFIX = S3_LEASE_PREFIX
LOST = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
"""A conditional write that lost: someone else holds (or just took) the lease."""
GONE = {"NoSuchKey", "404", "NotFound"}
Now = Callable[[dict[str, Any]], datetime]


def lease_key(failure_key: str) -> str:
    """Where the lease of one failure object lives (a hash: keys can be long and hold any character)."""
    return LEASE_PREFIX + hashlib.sha256(failure_key.encode()).hexdigest()


def is_lease(key: str) -> bool:
    return key.startswith(LEASE_PREFIX)


def server_now(response: dict[str, Any]) -> datetime:
    """S3's own clock: the ``Date`` header of its answer (our clock only when it has none)."""
    date = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    try:
        return parsedate_to_datetime(date).astimezone(UTC) if date else datetime.now(UTC)
    except (TypeError, ValueError):
        return datetime.now(UTC)


class S3Leases:
    """The leases one run holds in one bucket. Thread-safe."""

    def __init__(self, s3: Any, bucket: str, *, hold_seconds: int, now: Now = server_now) -> None:
        self.s3, self.bucket, self.hold_seconds, self.now = s3, bucket, hold_seconds, now
        self.owner = uuid.uuid4().hex
        self.held_elsewhere = 0
        """Failures skipped because another run holds their lease."""
        self.lost = 0
        """Leases this run held and another run took over (it outlived its hold without a renewal)."""
        self._held: dict[str, str] = {}  # failure key -> lease ETag
        self._writes = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def acquire(self, key: str) -> bool:
        """Take the failure's lease: create it, or take over an expired one. False when someone holds it."""
        for _ in range(2):  # a lease released between our two calls: create it again, once
            etag = self._write(key, IfNoneMatch="*")
            if etag is None:
                etag = self._take_over(key)
            if etag == "":
                continue
            if etag is None:
                with self._lock:
                    self.held_elsewhere += 1
                return False
            with self._lock:
                self._held[key] = etag
            return True
        return False

    def _take_over(self, key: str) -> str | None:
        """The new ETag after taking over an expired lease; None while it is live; "" when it is gone."""
        try:
            with translate_errors(f"read the lease of s3://{self.bucket}/{key}"):
                got = self.s3.get_object(Bucket=self.bucket, Key=lease_key(key))
                body = json.loads(got["Body"].read() or b"{}")
        except NotFound:
            return ""
        hold = float(body.get("hold_seconds", self.hold_seconds)) if isinstance(body, dict) else 0.0
        if _utc(got["LastModified"]) + timedelta(seconds=hold) > self.now(got):
            return None
        return self._write(key, IfMatch=got["ETag"])

    def _write(self, key: str, **condition: str) -> str | None:
        """One conditional write of the lease; its ETag, or None when the condition failed."""
        with self._lock:
            self._writes += 1
            body = {
                "failure": key,
                "owner": self.owner,
                "write": self._writes,
                "hold_seconds": self.hold_seconds,
            }
        try:
            response = self.s3.put_object(
                Bucket=self.bucket, Key=lease_key(key), Body=json.dumps(body).encode(), **condition
            )
        except Exception as e:
            if error_code(e) in LOST or (condition.get("IfMatch") and error_code(e) in GONE):
                return None
            raise translate(e, f"write the lease of s3://{self.bucket}/{key}") from e
        return str(response["ETag"])

    def renew_all(self) -> int:
        """Write every held lease again (a new ``LastModified``); returns how many were renewed."""
        with self._lock:
            held = dict(self._held)
        renewed = 0
        for key, etag in held.items():
            new = self._write(key, IfMatch=etag)
            with self._lock:
                if new is None:
                    self._held.pop(key, None)
                    self.lost += 1
                elif key in self._held:
                    self._held[key] = new
                    renewed += 1
        return renewed

    def owns(self, key: str) -> bool:
        with self._lock:
            return key in self._held

    def release(self, keys: Iterable[str] | None = None) -> int:
        """Delete held leases (the given failures', or all); returns how many were deleted."""
        with self._lock:
            chosen = list(self._held) if keys is None else [k for k in keys if k in self._held]
            for key in chosen:
                self._held.pop(key, None)
        for i in range(0, len(chosen), 1000):
            objects = [{"Key": lease_key(k)} for k in chosen[i : i + 1000]]
            with translate_errors(f"release leases in s3://{self.bucket}"):
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
        return len(chosen)


def leased(s3: Any, bucket: str, prefix: str = "", *, now: Now = server_now) -> Held:
    """The S3 failures under ``prefix`` leased right now (held by a running redrive, or one killed less
    than its hold time ago), and when the last lease runs out: ``inspect-dlq`` and ``status`` report them
    as held."""
    held = Held()
    with translate_errors(f"list the leases in s3://{bucket}"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=LEASE_PREFIX):
            for obj in page.get("Contents", []):
                try:
                    got = s3.get_object(Bucket=bucket, Key=obj["Key"])
                except Exception as e:
                    if error_code(e) in GONE:
                        continue  # released meanwhile
                    raise
                body = json.loads(got["Body"].read() or b"{}")
                if not isinstance(body, dict) or not str(body.get("failure", "")).startswith(prefix):
                    continue
                expires = _utc(got["LastModified"]) + timedelta(seconds=float(body.get("hold_seconds", 0)))
                if expires > now(got):
                    held = held + Held(1, expires, frozenset({str(body["failure"])}))
    return held


def count_leased(s3: Any, bucket: str, prefix: str = "", *, now: Now = server_now) -> int:
    """How many S3 failures under ``prefix`` are leased right now."""
    return leased(s3, bucket, prefix, now=now).count


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

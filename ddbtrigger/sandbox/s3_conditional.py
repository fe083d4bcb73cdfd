"""S3 conditional writes, made atomic as S3 makes them.

moto 5.2.5 honours ``If-None-Match: *`` and ``If-Match`` on PutObject, but checks and writes in two
steps with no lock, so two concurrent writers can both "win". Real S3 lets exactly one conditional
write succeed (the others get 412 PreconditionFailed, or 409 ConditionalRequestConflict). Redrive's S3
leases rely on that, so the sandbox serializes conditional PutObjects (plain writes are untouched).
"""

from __future__ import annotations

import threading
from typing import Any

from ddbtrigger.sandbox.patching import Patcher

_lock = threading.Lock()


def install_s3_conditional(patcher: Patcher) -> None:
    from moto.s3.responses import S3Response

    original = S3Response.put_object

    def put_object(self: Any) -> Any:
        if self.headers.get("If-None-Match") or self.headers.get("If-Match"):
            with _lock:
                return original(self)
        return original(self)

    patcher.set(S3Response, "put_object", put_object)

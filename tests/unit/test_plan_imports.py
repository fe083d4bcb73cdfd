"""``plan`` and ``status`` of SQS destinations load only what reading them needs (issue 19: CPU of imports).

In a fresh interpreter: the plan use case and the live reads are imported, an SQS adapter is picked and
the replay probe is asked about no stream; the failure scans (``aws.dlq``, S3 leases, the redrive core),
the S3 and SNS adapters and the stream probe must not have been imported. Each adapter type still
resolves to its class.
"""

from __future__ import annotations

import json
import subprocess
import sys

from ddbtrigger.aws.destinations import adapter_for
from ddbtrigger.aws.destinations.s3 import S3Adapter
from ddbtrigger.aws.destinations.sns import SnsAdapter
from ddbtrigger.aws.destinations.sqs import SqsAdapter

NOT_NEEDED = [
    "ddbtrigger.aws.dlq",
    "ddbtrigger.aws.s3_leases",
    "ddbtrigger.core.redrive",
    "ddbtrigger.aws.destinations.s3",
    "ddbtrigger.aws.destinations.sns",
    "ddbtrigger.aws.stream_probe",
    "ddbtrigger.aws.stream_records",
]

PROBE = """
import json, sys
import ddbtrigger.aws.live, ddbtrigger.usecases.provision, ddbtrigger.usecases.status
from ddbtrigger.aws.destinations import adapter_for
from ddbtrigger.usecases.provision import replaying
assert type(adapter_for("sqs", None)).__name__ == "SqsAdapter"
assert replaying(None, {}) == {}
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ddbtrigger."))))
"""


def test_sqs_plan_path_imports_no_scans_nor_other_adapters() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = set(json.loads(proc.stdout))
    assert "ddbtrigger.aws.destinations.sqs" in loaded
    assert sorted(loaded & set(NOT_NEEDED)) == []


def test_each_type_gets_its_adapter() -> None:
    assert type(adapter_for("sqs", None)) is SqsAdapter  # type: ignore[arg-type]
    assert type(adapter_for("sns", None)) is SnsAdapter  # type: ignore[arg-type]
    assert type(adapter_for("s3", None)) is S3Adapter  # type: ignore[arg-type]

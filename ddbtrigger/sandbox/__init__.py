"""A local AWS where triggers really run: moto's server plus the fidelity fixes ddbtrigger needs.

    from ddbtrigger.sandbox import Sandbox

    with Sandbox(handlers={"orders-audit": handle}, poll_interval=0.05) as sb:
        sb.endpoint_url          # http://127.0.0.1:<port>; sb.environment() gives the AWS_* variables
        sb.client("dynamodb")    # a boto3 client aimed at the sandbox
        sb.register_handler("orders-audit", fixed)   # any time; creates a missing function

What it does as AWS does (and moto alone does not):
- Lambda: Invoke runs the registered Python handler in-process (context with function_name,
  invoked_function_arn, aws_request_id, get_remaining_time_in_millis); an exception is
  ``FunctionError: Unhandled`` with errorMessage/errorType/stackTrace; a missing function is a 404.
- Event source mappings run in the sandbox: BatchSize, MaximumBatchingWindowInSeconds, filters,
  StartingPosition (LATEST = the shard's end at creation), Enabled false pauses, deletion stops,
  MaximumRetryAttempts, MaximumRecordAgeInSeconds, BisectBatchOnFunctionError, ReportBatchItemFailures,
  and Lambda's invocation record in the SQS/SNS/S3 on-failure destination (S3 also gets the event as
  ``payload``, under ``aws/lambda/<uuid>/<shard>/YYYY/MM/DD/``). GetEventSourceMapping shows
  LastProcessingResult. One mapping per (stream, function) (409), AWS's ranges are validated.
- Streams: each enable makes a new stream ARN with a fresh shard; a disable closes the shard, keeps
  the stream readable and writes keep working; records older than ``retention_seconds`` are trimmed
  (TrimmedDataAccessException); iterators expire after 15 minutes (ExpiredIteratorException).
  ``sb.split_shard(table)`` splits the open shard on demand (AWS does it every few hours): the parent
  closes, a child with ``ParentShardId`` takes new writes, and mappings read the parent to its end first.
  ``sb.split_shard(table, into=2, shard_id=...)`` opens sibling shards (a partition split), new writes
  routed by a stable hash of the partition key; mappings read siblings in parallel.

- The mapping API: Create/Update/Delete answer 202 with Creating/Enabling/Disabling/Updating/Deleting,
  the end state comes after ``state_seconds`` (``--state-seconds``; 0 settles at once), an update or
  delete meanwhile is ``ResourceInUseException``; responses carry every default field; errors have
  AWS's code, HTTP status and message.

- CloudWatch: IteratorAge, Invocations and Errors (AWS/Lambda) and the queues' depth and oldest age
  (AWS/SQS) are published every ``metrics_interval``; metric alarms are evaluated then (state, reason,
  history, AWS's notification to their SNS actions). See ``sandbox/monitoring.py``.

Not emulated: ParallelizationFactor > 1 (one batch at a time per shard), tumbling windows, shard
splits on their own (only on demand), the 6 MB payload limit.

``Sandbox`` is imported lazily, so importing this package does not import moto.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

# A library stays quiet unless its user asks: without this, Python's last-resort handler would print
# every logged handler error (a poison pill's traceback) on the embedding program's stderr, the demo's
# included. ``ddbtrigger sandbox`` turns the invocation log on (``show_on_console``).
logging.getLogger("ddbtrigger.sandbox").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from ddbtrigger.sandbox.server import Sandbox

__all__ = ["Sandbox"]


def __getattr__(name: str) -> Any:
    if name == "Sandbox":
        from ddbtrigger.sandbox.server import Sandbox

        return Sandbox
    raise AttributeError(name)

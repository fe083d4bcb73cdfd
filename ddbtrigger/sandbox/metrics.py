"""CloudWatch metrics as AWS publishes them, written into moto's CloudWatch backend.

moto stores what ``PutMetricData`` sends but publishes nothing of its own for Lambda or SQS, so
``GetMetricData``/``GetMetricStatistics`` (and ``status --metrics``) would read nothing. The sandbox
publishes, on its own clock:

- ``AWS/Lambda`` ``Invocations`` and ``Errors`` (Count, dimension ``FunctionName``): one sample per invoke,
  from the Invoke API or a mapping; ``Errors`` is 1 when the function raised (``FunctionError``), else 0,
  so its Sum counts errors and its Average is the error rate, as in AWS.
- ``AWS/Lambda`` ``IteratorAge`` (Milliseconds): for every batch a mapping hands to the function, the age
  of the batch's last record (now minus the time it was written to the stream), under ``FunctionName``
  and under ``FunctionName`` + ``EventSourceMappingUUID``. A batch retried behind a poison pill is the
  same batch, so its age grows with every retry and drops once the shard moves on.
- ``AWS/SQS`` ``ApproximateNumberOfMessagesVisible`` (Count) and ``ApproximateAgeOfOldestMessage``
  (Seconds) of every queue (dimension ``QueueName``), sampled at each flush, as SQS does every minute.

Samples are gathered between flushes and written as one ``StatisticValues`` datum (SampleCount, Sum,
Minimum, Maximum) per metric per second in which they were taken, stamped with that second: moto's list
of datums stays small however fast a poller retries, and a sample is never dated later than it happened.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ddbtrigger.sandbox.handlers import Invocation

LAMBDA = "AWS/Lambda"
SQS = "AWS/SQS"

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class MetricKey:
    account: str
    region: str
    namespace: str
    name: str
    dimensions: Dimensions
    unit: str


@dataclass
class Samples:
    """What a StatisticValues datum carries."""

    count: float = 0.0
    total: float = 0.0
    minimum: float = float("inf")
    maximum: float = float("-inf")

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)


def moto_time(epoch: float) -> datetime:
    """moto compares naive UTC datetimes (what its API layer stores)."""
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


def _arn_parts(arn: str) -> tuple[str, str]:
    """(account, region) of an ARN."""
    parts = arn.split(":")
    return parts[4], parts[3]


class MetricsPublisher:
    """Gathers samples from the invokes and the pollers; ``flush`` writes them into moto."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[MetricKey, int], Samples] = {}

    def add(self, key: MetricKey, value: float, *, at: float | None = None) -> None:
        second = int(self.clock() if at is None else at)
        with self._lock:
            self._pending.setdefault((key, second), Samples()).add(value)

    def on_invocation(self, invocation: Invocation) -> None:
        """The handlers' observer: one Invocations sample and one Errors sample per invoke."""
        account, region = _arn_parts(invocation.function_arn)
        dims: Dimensions = (("FunctionName", invocation.function_name),)
        failed = 1.0 if invocation.result.function_error else 0.0
        self.add(MetricKey(account, region, LAMBDA, "Invocations", dims, "Count"), 1.0)
        self.add(MetricKey(account, region, LAMBDA, "Errors", dims, "Count"), failed)

    def on_batch(self, mapping_uuid: str, function_arn: str, last_arrival: float) -> None:
        """A mapping hands a batch to its function: IteratorAge is the age of its last record."""
        account, region = _arn_parts(function_arn)
        function = function_arn.split(":")[6]
        now = self.clock()
        age_ms = max(0.0, (now - last_arrival) * 1000)
        by_function: Dimensions = (("FunctionName", function),)
        by_mapping: Dimensions = (*by_function, ("EventSourceMappingUUID", mapping_uuid))
        for dims in (by_function, by_mapping):
            self.add(MetricKey(account, region, LAMBDA, "IteratorAge", dims, "Milliseconds"), age_ms, at=now)

    def flush(self) -> None:
        """Write the gathered samples, and the queues' gauges sampled now (on the sandbox's clock)."""
        now = self.clock()
        self._sample_queues(now)
        with self._lock:
            pending, self._pending = self._pending, {}
        from moto.cloudwatch.models import cloudwatch_backends

        for (key, second), samples in pending.items():
            datum = {
                "MetricName": key.name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in key.dimensions],
                "Timestamp": moto_time(second),
                "Unit": key.unit,
                "StatisticValues": {
                    "SampleCount": samples.count,
                    "Sum": samples.total,
                    "Minimum": samples.minimum,
                    "Maximum": samples.maximum,
                },
            }
            cloudwatch_backends[key.account][key.region].put_metric_data(key.namespace, [datum])

    def _sample_queues(self, now: float) -> None:
        from moto.sqs.models import sqs_backends

        for account, regional in list(sqs_backends.items()):
            for region, backend in list(regional.items()):
                for queue in list(backend.queues.values()):
                    self._sample_queue(account, region, queue, now)

    def _sample_queue(self, account: str, region: str, queue: Any, now: float) -> None:
        dims: Dimensions = (("QueueName", queue.name),)
        sent = [m.sent_timestamp for m in list(queue._messages) if m.sent_timestamp is not None]
        oldest = max(0.0, now - min(sent) / 1000) if sent else 0.0
        visible = float(queue.approximate_number_of_messages)
        self.add(
            MetricKey(account, region, SQS, "ApproximateNumberOfMessagesVisible", dims, "Count"),
            visible,
            at=now,
        )
        self.add(
            MetricKey(account, region, SQS, "ApproximateAgeOfOldestMessage", dims, "Seconds"), oldest, at=now
        )

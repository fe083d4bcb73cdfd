"""The AWS side of ``replay --engine lambda``: the temporary mapping's life and how far it has read.

Create, wait and delete go through ``AwsStepGateway`` (the executor's calls, busy retries and waits:
one copy). How far the mapping has read (``observe``):

- the mapping's ``State`` and ``LastProcessingResult`` (GetEventSourceMapping);
- against the sandbox (``--endpoint-url`` answering ``GET /_ddbtrigger/mappings/<uuid>/shards``): each
  shard poller's position, exact;
- on AWS: the newest ``IteratorAge`` datapoint of the mapping (GetMetricData, ``AWS/Lambda``, dimensions
  ``FunctionName`` + ``EventSourceMappingUUID``, Maximum per minute), which dates the last delivery.
  ``core.replay_watch`` says what that evidence proves and what it does not.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.aws.step_gateway import AwsStepGateway
from ddbtrigger.aws.waiters import Deadline, Sleep
from ddbtrigger.core.replay_watch import Observation, ShardPosition

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory
    from ddbtrigger.core.live import LiveMapping

Say = Callable[[str], None]
METRIC_LOOKBACK = timedelta(minutes=15)


class ReplayMappingGateway:
    """``usecases.replay_lambda.MappingGateway`` over boto3."""

    def __init__(self, factory: ClientFactory, *, sleep: Sleep = time.sleep) -> None:
        self.factory = factory
        self.steps = AwsStepGateway(factory, sleep=sleep)

    def readers(self, stream_arn: str) -> list[LiveMapping]:
        """Every mapping on the stream (ListEventSourceMappings by EventSourceArn)."""
        from ddbtrigger.aws.live import list_mappings

        return list_mappings(self.factory, source=stream_arn)

    def key_types(self, table: str) -> dict[str, str]:
        """The table's key attributes and their type letters."""
        from ddbtrigger.core.replay_filters import key_types_of

        with translate_errors(f"describe table {table}"):
            found = self.factory.client("dynamodb").describe_table(TableName=table)["Table"]
        return key_types_of(found.get("AttributeDefinitions", []), found.get("KeySchema", []))

    def create(
        self, table: str, function: str, params: Mapping[str, Any], *, deadline: Deadline, say: Say
    ) -> str:
        from ddbtrigger.core.plan import CreateMapping

        return self.steps.create_mapping(CreateMapping(table, function, params), deadline=deadline, say=say)

    def wait_enabled(self, uuid: str, *, deadline: Deadline, say: Say) -> None:
        self.steps.wait_mapping(uuid, deadline=deadline, say=say)

    def remove(self, uuid: str, *, deadline: Deadline, say: Say) -> None:
        """Delete the mapping and wait until it is gone (already gone is fine)."""
        self.steps.delete_mapping(uuid, deadline=deadline, say=say)
        self.steps.wait_mapping_gone(uuid, deadline=deadline, say=say)

    def observe(self, uuid: str, function: str, *, now: float) -> Observation:
        with translate_errors(f"get event source mapping {uuid}"):
            found = self.factory.client("lambda").get_event_source_mapping(UUID=uuid)
        state, result = str(found.get("State", "")), str(found.get("LastProcessingResult") or "")
        shards = self._sandbox_positions(uuid)
        if shards is not None:
            return Observation(now, state, result, shards=shards)
        delivered, at = self._last_delivery(uuid, function, now=now)
        return Observation(now, state, result, last_delivered=delivered, last_delivery_at=at)

    def _sandbox_positions(self, uuid: str) -> dict[str, ShardPosition] | None:
        """The sandbox's per-shard positions, or None (AWS, or an endpoint that is not the sandbox)."""
        endpoint = self.factory.target.endpoint_url
        if not endpoint:
            return None
        url = f"{endpoint.rstrip('/')}/_ddbtrigger/mappings/{uuid}/shards"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError):
            return None
        shards = body.get("shards") if isinstance(body, dict) else None
        if not isinstance(shards, dict):
            return None
        return {
            shard: ShardPosition(p.get("read_through"), bool(p.get("at_end")), bool(p.get("finished")))
            for shard, p in shards.items()
            if isinstance(p, dict)
        }

    def _last_delivery(self, uuid: str, function: str, *, now: float) -> tuple[float | None, float | None]:
        """(creation time of the last delivered record, when) from the newest IteratorAge datapoint."""
        end = datetime.fromtimestamp(now, UTC)
        name = function.split(":")[6] if function.startswith("arn:") else function.split(":")[0]
        query = {
            "Id": "age",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Lambda",
                    "MetricName": "IteratorAge",
                    "Dimensions": [
                        {"Name": "FunctionName", "Value": name},
                        {"Name": "EventSourceMappingUUID", "Value": uuid},
                    ],
                },
                "Period": 60,
                "Stat": "Maximum",
            },
        }
        with translate_errors("read the replay mapping's IteratorAge"):
            result = self.factory.client("cloudwatch").get_metric_data(
                MetricDataQueries=[query],  # type: ignore[list-item]
                StartTime=end - METRIC_LOOKBACK,
                EndTime=end + timedelta(minutes=1),
            )
        series = [
            (stamp.timestamp(), float(value))
            for r in result.get("MetricDataResults", [])
            for stamp, value in zip(r.get("Timestamps", []), r.get("Values", []), strict=False)
        ]
        if not series:
            return None, None
        stamp, age_ms = max(series)
        return stamp - age_ms / 1000, stamp

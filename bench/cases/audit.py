"""``audit`` of N mappings over 2 regions at 20 ms against a sequential floor (``floor_audit.py``).

The goal beside wall time: CloudWatch calls stay O(1) per region (one GetMetricData holds 250 mappings),
however many mappings there are.

The local AWS runs with its mapping emulator idle (``IDLE_POLL``): audit only reads mappings, and 500
enabled mappings would otherwise mean 500 poller threads looking at their shards four times a second in
the server process. Measured on 2 cores: the tool's audit of 500 took 77 s with the pollers running
(7.8 s for 200), and a ``--repeats 3`` run did not finish in 35 minutes.
"""

from __future__ import annotations

import functools
from typing import Any

from bench import fixtures as fx
from bench.context import Ctx
from bench.env import IDLE_POLL, LocalAws, local_aws
from bench.harness import BenchError, Goal, Proc, Row, alternate, per_unit_calls

REGIONS = ("us-east-1", "eu-west-1")


class _InRegion:
    """The local AWS seen from another region (the fixtures only call ``client``)."""

    def __init__(self, aws: LocalAws, region: str) -> None:
        import boto3

        from ddbtrigger.aws.clients import AwsTarget, ClientFactory

        session = boto3.Session(
            aws_access_key_id="AKIAFAKEDDBTRIGGERB1",
            aws_secret_access_key="fakeBenchSecret000000000000",
            region_name=region,
        )
        target = AwsTarget(region=region, endpoint_url=aws.endpoint_url, max_attempts=3, read_timeout=120)
        self._factory = ClientFactory(target, session=session)

    def client(self, service: str) -> Any:
        return self._factory.client(service)


def _regions() -> list[str]:
    return [arg for region in REGIONS for arg in ("--region", region)]


def _audit(aws: LocalAws, n: int) -> Proc:
    proc = fx.tool(aws, "audit", *_regions(), "--output", "json").check()
    found = proc.json().get("mappings", [])
    if len(found) != n:
        raise BenchError(f"audit listed {len(found)} mapping(s), not {n}")
    return proc


def _floor(aws: LocalAws) -> Proc:
    return fx.floor(aws, "floor_audit.py", *_regions()).check()


def run(ctx: Ctx) -> list[Row]:
    fx.require_command("audit")
    n = ctx.size(500, 6)
    latency = 20
    with local_aws(ctx.server, latency_ms=latency, poll_interval=IDLE_POLL) as aws:
        for region in REGIONS:
            where: Any = _InRegion(aws, region)
            trigs = fx.triggers(f"audit-{region}", n // len(REGIONS))
            fx.create_tables_and_functions(where, trigs)
            fx.create_queues_and_mappings(where, trigs, enabled=True)
        ctx.say(f"audit: N={n} over {len(REGIONS)} regions @ {latency} ms × {ctx.repeats}")
        tool, floor = alternate(
            ctx.repeats,
            functools.partial(_audit, aws, n),
            functools.partial(_floor, aws),
            floor_label="floor_audit",
        )
    row = Row("audit", f"N={n} over {len(REGIONS)} regions @ {latency} ms", tool, floor)
    metric_calls = max((p.calls.get("cloudwatch.GetMetricData", 0) for p in tool.runs), default=0)
    row.figures.append(
        f"{per_unit_calls(tool.calls, n)} calls/mapping (floor {per_unit_calls(floor.calls, n)}); "
        f"GetMetricData calls: {metric_calls} for {len(REGIONS)} regions"
    )
    if metric_calls > len(REGIONS):
        raise BenchError(f"audit made {metric_calls} GetMetricData calls for {len(REGIONS)} regions")
    if not ctx.quick:
        row.goals.append(Goal("wall vs sequential floor", row.ratio or 0, 0.3))
    return [row]

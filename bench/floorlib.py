"""What every floor script shares: arguments, the spec read as plain YAML, boto3 clients.

Floors are the least work that does the same job: plain boto3, one call after another, no pydantic, no
rich. Their clients are configured as ddbtrigger's are (``ddbtrigger/aws/clients.py``), so the
comparison is of the work, not of settings.
"""

from __future__ import annotations

import argparse
from typing import Any


def parse(description: str, extra: Any = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-f", "--file", required=True)
    parser.add_argument("--endpoint-url", default=None)
    parser.add_argument("--region", default=None)
    parser.add_argument("-t", "--trigger", action="append", default=None)
    if extra:
        extra(parser)
    return parser.parse_args()


def triggers(args: argparse.Namespace) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The spec as plain data (defaults merged shallowly per section) and the selected triggers."""
    import yaml

    with open(args.file) as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    defaults = spec.get("defaults") or {}
    out = []
    for trig in spec["triggers"]:
        if args.trigger and trig["name"] not in args.trigger:
            continue
        merged = dict(trig)
        for section in ("stream", "mapping", "on_failure"):
            if section in defaults or section in trig:
                merged[section] = {**(defaults.get(section) or {}), **(trig.get(section) or {})}
        out.append(merged)
    return spec, out


def clients(args: argparse.Namespace, spec: dict[str, Any], *services: str) -> list[Any]:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 8},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        account_id_endpoint_mode="disabled",
    )
    session = boto3.Session()
    region = args.region or spec.get("region") or session.region_name
    return [
        session.client(s, region_name=region, endpoint_url=args.endpoint_url, config=config) for s in services
    ]

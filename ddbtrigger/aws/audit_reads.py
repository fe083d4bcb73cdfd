"""Reads only ``audit`` needs: the account's enabled regions and every function's timeout.

Regions come from EC2 DescribeRegions (without ``AllRegions`` AWS lists only the regions enabled for
the account; the opt-in status is filtered too, since moto lists every region). ``account:ListRegions``
would say the same but moto does not implement it. Function timeouts come from one paginated
ListFunctions per region (50 a page) instead of one GetFunction per mapping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddbtrigger.aws.errors import translate_errors

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory

ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})


def enabled_regions(factory: ClientFactory) -> list[str]:
    """The regions enabled for the caller's account, sorted."""
    with translate_errors("list the account's enabled regions (ec2 describe-regions)"):
        regions = factory.client("ec2").describe_regions()["Regions"]
    return sorted(
        str(r["RegionName"]) for r in regions if r.get("OptInStatus", "opt-in-not-required") in ENABLED_OPT_IN
    )


def function_timeouts(factory: ClientFactory) -> dict[str, int]:
    """``{function name: timeout seconds}`` for every function of the region ($LATEST)."""
    found: dict[str, int] = {}
    with translate_errors("list the functions (lambda list-functions)"):
        for page in factory.client("lambda").get_paginator("list_functions").paginate():
            for fn in page.get("Functions", []):
                found[str(fn["FunctionName"])] = int(fn.get("Timeout", 3))
    return found

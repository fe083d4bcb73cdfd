"""The installed ``ddbtrigger plan/apply`` as a subprocess against a moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from tests.aws.conftest_provision import make_function, make_table, spec_text, trigger

pytestmark = pytest.mark.e2e


def test_apply_then_plan_is_clean_over_http(moto_server: str, run_cli: Any, tmp_path: Path) -> None:
    factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url=moto_server))
    make_table(factory, "orders")
    make_function(factory, "orders-fn")
    spec = tmp_path / "ddbtrigger.yaml"
    spec.write_text(spec_text(trigger(mapping={"batch_size": 25})))
    endpoint = ["--endpoint-url", moto_server, "-f", str(spec)]

    pending = run_cli("plan", *endpoint, "--detailed-exitcode", "-o", "json")
    assert pending.returncode == 2, pending.stderr
    assert json.loads(pending.stdout)["summary"]["create"] == 2

    applied = run_cli("apply", *endpoint, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "2 change(s) applied" in applied.stderr

    clean = run_cli("plan", *endpoint, "--detailed-exitcode", "-o", "json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["summary"]["no-op"] == 3
    (mapping,) = factory.client("lambda").list_event_source_mappings()["EventSourceMappings"]
    assert mapping["BatchSize"] == 25

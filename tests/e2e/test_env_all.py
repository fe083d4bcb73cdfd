"""``--env all`` and the account guard end to end: the installed command against a sandbox standing in
for two accounts (issue 16). Profiles in a shared credentials file hold each account's keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.aws.conftest_provision import make_function, make_table, trigger

pytestmark = pytest.mark.e2e

DEV, PROD = "111111111111", "222222222222"


class InAccount:
    """What the provisioning helpers need (``client(service)``), as one sandbox account."""

    def __init__(self, sb: Any, account: str) -> None:
        self.sb, self.account = sb, account

    def client(self, service: str) -> Any:
        return self.sb.client(service, account=self.account)


@pytest.fixture
def two_accounts(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str], Any]]:
    """dev and staging in account DEV, prod in PROD, each with its table and function; yields the
    spec, the environment variables for the CLI and the sandbox."""
    from ddbtrigger.sandbox.server import Sandbox

    with Sandbox(handlers={}, state_seconds=0) as sb:
        for env, account in (("dev", DEV), ("staging", DEV), ("prod", PROD)):
            make_table(InAccount(sb, account), f"orders-{env}")
            make_function(InAccount(sb, account), f"orders-fn-{env}")
        credentials = tmp_path / "credentials"
        sb.write_profiles(credentials, {"dev": DEV, "prod": PROD})
        doc = {
            "version": 1,
            "environments": {
                "dev": {"profile": "dev", "region": sb.region, "account_id": DEV},
                "staging": {"profile": "dev", "region": sb.region},
                "prod": {"profile": "prod", "region": sb.region, "account_id": PROD},
            },
            "triggers": [
                trigger(
                    table="orders-${env}",
                    function="orders-fn-${env}",
                    on_failure={"type": "sqs", "name": "orders-audit-dlq-${env}"},
                )
            ],
        }
        spec = tmp_path / "ddbtrigger.yaml"
        spec.write_text(yaml.safe_dump(doc, sort_keys=False))
        env = {**sb.environment(), "AWS_SHARED_CREDENTIALS_FILE": str(credentials)}
        yield spec, env, sb


def test_plan_env_all_reports_each_environment(two_accounts: Any, run_cli: Any) -> None:
    spec, env, sb = two_accounts
    applied = run_cli("apply", "-f", str(spec), "--env", "dev", "--yes", env=env)
    assert applied.returncode == 0, applied.stderr
    assert sb.client("lambda", account=DEV).list_event_source_mappings()["EventSourceMappings"]
    assert not sb.client("lambda", account=PROD).list_event_source_mappings()["EventSourceMappings"]

    result = run_cli("plan", "-f", str(spec), "--env", "all", "-o", "json", "--detailed-exitcode", env=env)

    assert result.returncode == 2, result.stderr  # staging and prod have changes
    envs = json.loads(result.stdout)["environments"]
    assert list(envs) == ["dev", "staging", "prod"]
    assert envs["dev"]["summary"]["create"] == 0 and envs["dev"]["summary"]["no-op"] == 3
    assert envs["staging"]["summary"]["create"] == 2 and envs["prod"]["summary"]["create"] == 2
    prod_mapping = next(c for c in envs["prod"]["changes"] if c["resource"].startswith("mapping"))
    assert f"{PROD}:orders-audit-dlq-prod" in json.dumps(prod_mapping)  # in the prod account

    tables = run_cli("plan", "-f", str(spec), "--env", "all", env=env)
    assert tables.returncode == 0, tables.stderr
    out = tables.stdout
    assert out.index("environment dev") < out.index("environment staging") < out.index("environment prod")
    assert "No changes." in out and "Plan: 2 to create" in out


def test_apply_prod_with_dev_profile_is_refused(two_accounts: Any, run_cli: Any) -> None:
    spec, env, sb = two_accounts
    result = run_cli("apply", "-f", str(spec), "--env", "prod", "--profile", "dev", "--yes", env=env)
    assert result.returncode == 2, result.stderr
    assert PROD in result.stderr and DEV in result.stderr
    assert not sb.client("lambda", account=DEV).list_event_source_mappings()["EventSourceMappings"]
    assert not sb.client("sqs", account=DEV).list_queues().get("QueueUrls")


def test_an_environment_that_errors_is_reported_with_the_others(two_accounts: Any, run_cli: Any) -> None:
    spec, env, sb = two_accounts
    sb.client("dynamodb", account=PROD).delete_table(TableName="orders-prod")
    result = run_cli("plan", "-f", str(spec), "--env", "all", "-o", "json", env=env)
    assert result.returncode == 1, result.stderr
    envs = json.loads(result.stdout)["environments"]
    assert envs["prod"]["error"]["code"] == "not_found" and "orders-prod" in envs["prod"]["error"]["message"]
    assert envs["staging"]["summary"]["create"] == 2


def test_status_env_all_is_keyed_by_environment(two_accounts: Any, run_cli: Any) -> None:
    spec, env, _ = two_accounts
    assert run_cli("apply", "-f", str(spec), "--env", "prod", "--yes", env=env).returncode == 0
    result = run_cli("status", "-f", str(spec), "--env", "all", "-o", "json", env=env)
    envs = json.loads(result.stdout)["environments"]
    assert list(envs) == ["dev", "staging", "prod"], result.stderr
    (prod,) = envs["prod"]["triggers"]
    (dev,) = envs["dev"]["triggers"]
    assert prod["mapping"]["uuid"] and not dev.get("mapping")
    watch = run_cli("status", "-f", str(spec), "--env", "all", "--watch", env=env)
    assert watch.returncode == 2 and "--watch follows one environment" in watch.stderr

"""``audit --env`` and ``export --env`` against a sandbox standing in for two accounts (issue 16).

audit takes each environment's connection from the spec (profile, region) and reports per environment,
keyed as ``plan --env all`` keys them; export reads where an environment points and writes a spec whose
``environments:`` carries it, on which ``plan --env`` shows no changes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.test_env_all import DEV, PROD, two_accounts  # noqa: F401 - the fixture

pytestmark = pytest.mark.e2e


def test_audit_env_all_reports_each_environment_in_its_account(two_accounts: Any, run_cli: Any) -> None:  # noqa: F811
    spec, env, _ = two_accounts
    applied = run_cli("apply", "-f", str(spec), "--env", "dev", "--yes", env=env)
    assert applied.returncode == 0, applied.stderr

    result = run_cli("audit", "-f", str(spec), "--env", "all", "-o", "json", env=env)

    assert result.returncode in (0, 3), result.stderr
    envs = json.loads(result.stdout)["environments"]
    assert list(envs) == ["dev", "staging", "prod"]
    assert [m["table"] for m in envs["dev"]["mappings"]] == ["orders-dev"]  # the dev account
    assert envs["dev"]["mappings"][0]["account"] == DEV
    assert envs["staging"]["mappings"] == envs["dev"]["mappings"]  # same account and region
    assert envs["prod"]["mappings"] == []  # prod's account has no mapping yet

    one = run_cli("audit", "-f", str(spec), "--env", "dev", env=env)
    assert one.returncode in (0, 3), one.stderr
    assert "environment dev" in one.stdout and "orders-dev -> orders-fn-dev" in one.stdout

    both = run_cli("audit", "-f", str(spec), "--env", "dev", "--profile", "prod", env=env)
    assert both.returncode == 2 and "either --env or --profile" in both.stderr


def test_export_env_writes_the_environment_and_plans_clean(
    two_accounts: Any,  # noqa: F811
    run_cli: Any,
    tmp_path: Path,
) -> None:
    spec, env, sb = two_accounts
    assert run_cli("apply", "-f", str(spec), "--env", "prod", "--yes", env=env).returncode == 0

    result = run_cli("export", "--table", "orders-prod", "-f", str(spec), "--env", "prod", env=env)

    assert result.returncode == 0, result.stderr
    doc = yaml.safe_load(result.stdout)
    assert "region" not in doc
    assert doc["environments"] == {"prod": {"profile": "prod", "region": sb.region, "account_id": PROD}}
    assert [t["table"] for t in doc["triggers"]] == ["orders-prod"]
    exported = tmp_path / "exported.yaml"
    exported.write_text(result.stdout)
    plan = run_cli("plan", "-f", str(exported), "--env", "prod", "--detailed-exitcode", env=env)
    assert plan.returncode == 0, plan.stdout + plan.stderr  # no changes

    first = run_cli(
        "export",
        "--table",
        "orders-prod",
        "-f",
        str(tmp_path / "none.yaml"),
        "--env",
        "live",
        "--profile",
        "prod",
        env=env,
    )
    assert first.returncode == 0, first.stderr
    assert yaml.safe_load(first.stdout)["environments"] == {"live": {"profile": "prod", "region": sb.region}}

    unknown = run_cli("export", "--table", "orders-prod", "-f", str(spec), "--env", "qa", env=env)
    assert unknown.returncode == 2 and "no environment named 'qa'" in unknown.stderr

"""The ``account_id`` guard and an environment's connection (issue 16), in-process against moto.

moto attributes a request to the account whose access key signed it, so keys made in two accounts'
IAM backends stand in for dev and prod credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.identity import AccountGuard, session_name
from ddbtrigger.errors import WrongAccount
from tests.aws.conftest_provision import CallCounter, make_function, make_table, trigger

DEV, PROD = "111111111111", "222222222222"


def env_spec(tmp_path: Path, **prod: Any) -> Path:
    doc = {
        "version": 1,
        "environments": {
            "dev": {"region": "us-east-1", "account_id": DEV},
            "prod": {"region": "us-east-1", "account_id": PROD, **prod},
        },
        "triggers": [trigger(table="orders-${env}", function="orders-fn-${env}")],
    }
    path = tmp_path / "ddbtrigger.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def dev_credentials(moto_aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ClientFactory]:
    """The process's credentials are a key of account DEV; yields a factory using them."""
    from moto.iam.models import iam_backends

    key = iam_backends[DEV]["aws"].create_temp_access_key()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key.secret_access_key)
    yield ClientFactory(AwsTarget(region="us-east-1", max_attempts=2))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> CallCounter:
    """Every call any client of any factory sends (botocore ``before-send``: only calls that leave)."""
    counter = CallCounter.__new__(CallCounter)  # its bookkeeping, registered per client below
    counter.calls = []
    original = ClientFactory._build

    def record(event_name: str, **_: Any) -> None:
        counter.calls.append(event_name.split(".")[-1])  # before-send.<service>.<Operation>

    def build(self: ClientFactory, service: str) -> Any:
        client = original(self, service)
        client.meta.events.register("before-send", record)
        return client

    monkeypatch.setattr(ClientFactory, "_build", build)
    return counter


def cli(*args: str) -> int:
    from ddbtrigger.cli.app import app
    from ddbtrigger.cli.boundary import run_app

    return run_app(app, list(args))


def test_apply_in_prod_with_dev_credentials_exits_2_before_any_mutating_call(
    dev_credentials: ClientFactory, counted: CallCounter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(dev_credentials, "orders-prod")
    make_function(dev_credentials, "orders-fn-prod")
    path = env_spec(tmp_path)
    counted.calls.clear()

    code = cli("apply", "-f", str(path), "--env", "prod", "--yes")

    err = capsys.readouterr().err
    assert code == 2, err
    assert PROD in err and DEV in err and "environment prod" in err
    assert counted.calls == ["GetCallerIdentity"]  # one question, and nothing else sent at all
    assert counted.mutating() == []


def test_apply_in_dev_with_dev_credentials_passes_the_guard(
    dev_credentials: ClientFactory, counted: CallCounter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_table(dev_credentials, "orders-dev")
    make_function(dev_credentials, "orders-fn-dev")
    counted.calls.clear()

    code = cli("apply", "-f", str(env_spec(tmp_path)), "--env", "dev", "--yes")

    assert code == 0, capsys.readouterr().err
    assert counted.calls.count("GetCallerIdentity") == 1
    assert "CreateEventSourceMapping" in counted.mutating()  # the counter sees mutating calls


def test_hook_refuses_a_mutating_call_no_use_case_checked_first(dev_credentials: ClientFactory) -> None:
    guarded = ClientFactory(AwsTarget(region="us-east-1", account_id=PROD, label="prod", max_attempts=2))
    sqs = guarded.client("sqs")
    assert sqs.list_queues().get("QueueUrls", []) == []  # a read needs no answer from STS
    with pytest.raises(WrongAccount, match=f"{PROD}.*{DEV}"):
        sqs.create_queue(QueueName="nope")
    assert dev_credentials.client("sqs").list_queues().get("QueueUrls", []) == []


def test_the_guard_asks_once() -> None:
    asked: list[int] = []
    guard = AccountGuard(DEV, lambda: asked.append(1) or DEV)
    guard.check()
    guard.check()
    assert asked == [1]


def test_session_name_says_ddbtrigger_and_who() -> None:
    assert session_name("alice") == "ddbtrigger-alice"
    assert session_name("a b/c") == "ddbtrigger-a-b-c"
    assert len(session_name("x" * 100)) == 64


def test_assume_role_lands_in_the_role_account(dev_credentials: ClientFactory) -> None:
    """moto's STS gives a role's credentials in the role ARN's account, as AWS does."""
    target = AwsTarget(region="us-east-1", assume_role=f"arn:aws:iam::{PROD}:role/ddbtrigger-operator")
    factory = ClientFactory(target)
    identity = factory.client("sts").get_caller_identity()
    assert identity["Account"] == PROD
    assert "ddbtrigger-" in identity["Arn"]  # the session name, as CloudTrail would show it
    assert factory.session.get_credentials().method == "ddbtrigger-assume-role"


def test_profile_and_region_come_from_the_environment_unless_given(tmp_path: Path) -> None:
    from ddbtrigger.usecases.spec_file import open_workspace

    path = env_spec(tmp_path, profile="prod-profile", region="eu-west-1")
    ws = open_workspace(path, None, env="prod", profile=None, region=None, endpoint_url=None)
    assert (ws.factory.target.profile, ws.factory.target.region) == ("prod-profile", "eu-west-1")
    assert ws.factory.target.account_id == PROD and ws.triggers[0].table_name == "orders-prod"
    given = open_workspace(path, None, env="prod", profile="mine", region="us-west-2", endpoint_url=None)
    assert (given.factory.target.profile, given.factory.target.region) == ("mine", "us-west-2")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "declares environments (dev, prod)"),
        (("--env", "staging"), "no environment named 'staging'"),
        (("--env", "all"), "--env all is accepted by plan, status and audit only"),
    ],
)
def test_env_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert cli("apply", "-f", str(env_spec(tmp_path)), *args, "--yes") == 2
    assert message in capsys.readouterr().err


def test_env_on_a_spec_without_environments_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.aws.conftest_provision import spec_text

    path = tmp_path / "plain.yaml"
    path.write_text(spec_text(trigger()))
    monkeypatch.setenv("DDBTRIGGER_ENV", "dev")  # the variable counts as --env
    assert cli("plan", "-f", str(path)) == 2
    assert "declares no environments" in capsys.readouterr().err


def test_policy_env_fills_account_and_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path = env_spec(tmp_path, region="eu-west-1")
    assert cli("policy", "-f", str(path), "--env", "prod", "-o", "json") == 0
    text = json.dumps(json.loads(capsys.readouterr().out))
    assert f"arn:aws:dynamodb:eu-west-1:{PROD}:table/orders-prod" in text
    assert "111111111111" not in text and "123456789012" not in text

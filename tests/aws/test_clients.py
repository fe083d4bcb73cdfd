"""The client factory: region resolution, endpoint, retry/timeouts, account-id endpoint mode, and a
clear error for a profile that does not exist. No network: requests are stopped in ``before-send``."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import boto3
import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.errors import CredentialsError, RegionError


class Sent(Exception):
    """Raised from ``before-send`` to stop a request after it was fully prepared."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def sent_url(client: Any, call: str, **params: Any) -> str:
    """The URL botocore would have sent ``call`` to."""

    def stop(request: Any, **_: Any) -> None:
        raise Sent(request.url)

    client.meta.events.register("before-send", stop)
    with pytest.raises(Sent) as caught:
        getattr(client, call)(**params)
    return caught.value.url


def test_region_comes_from_the_target_first() -> None:
    assert ClientFactory(AwsTarget(region="eu-west-3")).region == "eu-west-3"


def test_region_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ClientFactory(AwsTarget()).region == "us-east-1"
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")
    assert ClientFactory(AwsTarget()).region == "eu-south-1"


def test_spec_region_applies_only_when_the_command_line_gave_none() -> None:
    assert AwsTarget().with_default_region("ap-south-1").region == "ap-south-1"
    assert AwsTarget(region="eu-west-1").with_default_region("ap-south-1").region == "eu-west-1"
    target = AwsTarget(profile="p", endpoint_url="http://x", retry_mode="adaptive", max_attempts=3)
    assert target.with_default_region("ap-south-1") == AwsTarget(
        profile="p", region="ap-south-1", endpoint_url="http://x", retry_mode="adaptive", max_attempts=3
    )
    assert AwsTarget().with_default_region(None) == AwsTarget()


def test_region_from_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[profile ops]\nregion = sa-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert ClientFactory(AwsTarget(profile="ops")).region == "sa-east-1"


def test_no_region_anywhere_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    factory = ClientFactory(AwsTarget())
    with pytest.raises(RegionError) as caught:
        factory.client("lambda")
    assert caught.value.message == "no AWS region: pass --region, set AWS_REGION, or set region: in the spec"
    assert (caught.value.code, caught.value.exit_code) == ("no_region", 1)


def test_profile_not_found_is_a_clear_error() -> None:
    factory = ClientFactory(AwsTarget(profile="does-not-exist"))
    with pytest.raises(CredentialsError) as caught:
        factory.client("lambda")
    assert caught.value.message == "AWS profile not found: does-not-exist"
    assert caught.value.code == "credentials"


def test_endpoint_url_is_used_for_every_service() -> None:
    factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url="http://127.0.0.1:4566"))
    for service in ("lambda", "dynamodb", "dynamodbstreams", "sqs"):
        assert factory.client(service).meta.endpoint_url == "http://127.0.0.1:4566"
    url = sent_url(factory.client("lambda"), "list_event_source_mappings")
    assert url.startswith("http://127.0.0.1:4566/2015-03-31/event-source-mappings")


def test_retry_and_timeouts() -> None:
    config = ClientFactory(AwsTarget(region="us-east-1")).client("lambda").meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 8}
    assert (config.connect_timeout, config.read_timeout) == (5.0, 30.0)
    assert "ddbtrigger" in config.user_agent_extra
    adaptive = ClientFactory(AwsTarget(region="us-east-1", retry_mode="adaptive", max_attempts=3))
    assert adaptive.client("sqs").meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}


def test_account_id_endpoint_mode_is_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    """With credentials that carry an account id, botocore would send DynamoDB calls to
    ``<account>.ddb.<region>.amazonaws.com``; moto in-process does not route that, so we stay regional."""
    monkeypatch.delenv("AWS_ACCOUNT_ID_ENDPOINT_MODE")
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    factory = ClientFactory(AwsTarget(region="us-east-1"))
    assert factory.client("dynamodb").meta.config.account_id_endpoint_mode == "disabled"
    assert sent_url(factory.client("dynamodb"), "describe_table", TableName="t") == (
        "https://dynamodb.us-east-1.amazonaws.com/"
    )
    assert sent_url(factory.client("dynamodbstreams"), "list_streams") == (
        "https://streams.dynamodb.us-east-1.amazonaws.com/"
    )


def test_account_based_endpoint_is_what_we_avoid(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: a plain boto3 client with the same credentials goes to the account-based endpoint."""
    monkeypatch.delenv("AWS_ACCOUNT_ID_ENDPOINT_MODE")
    monkeypatch.setenv("AWS_ACCOUNT_ID", "123456789012")
    plain = boto3.Session().client("dynamodb", region_name="us-east-1")
    assert "123456789012.ddb.us-east-1" in sent_url(plain, "describe_table", TableName="t")


def test_clients_are_built_once_and_shared_across_threads() -> None:
    factory = ClientFactory(AwsTarget(region="us-east-1"))
    seen: list[Any] = []
    threads = [threading.Thread(target=lambda: seen.append(factory.client("sqs"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in seen}) == 1
    assert factory.client("sqs") is seen[0]
    assert factory.client("sns") is not seen[0]


def test_an_injected_session_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")  # AWS_REGION, when set, wins over the session's region
    session = boto3.Session(region_name="eu-north-1")
    factory = ClientFactory(AwsTarget(), session=session)
    assert factory.session is session
    assert factory.region == "eu-north-1"
    assert factory.client("lambda").meta.region_name == "eu-north-1"

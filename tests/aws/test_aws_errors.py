"""Botocore errors become one-line messages with the right error code, naming the action, never
leaking a credential. Errors are real botocore ones: from a ``Stubber``, from a real (refused)
connection, from botocore's retry loop, or constructed exactly as botocore raises them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore import exceptions as bx
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.aws.errors import error_code, error_message, translate, translate_errors
from ddbtrigger.errors import (
    AccessDenied,
    AwsError,
    Conflict,
    CredentialsError,
    DdbtError,
    EndpointError,
    NotFound,
    RegionError,
    Throttled,
)
from tests.aws.conftest_botocore import throttling_response
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET

DENIED = (
    "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: lambda:ListEventSourceMappings "
    "on resource: * because no identity-based policy allows the lambda:ListEventSourceMappings action"
)


UUID = "6d9f6c5e-2c7b-4f57-9f0e-1f5b8c1d2e3f"


def client_error(
    code: str, message: str = "msg", operation: str = "ListEventSourceMappings"
) -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def stubbed_lambda() -> tuple[Any, Stubber]:
    client = ClientFactory(AwsTarget(region="us-east-1")).client("lambda")
    return client, Stubber(client)


def raised_by(action: str, fn: Any) -> DdbtError:
    with pytest.raises(DdbtError) as caught, translate_errors(action):
        fn()
    return caught.value


def assert_one_line(error: DdbtError) -> None:
    assert "\n" not in error.message
    assert FAKE_SECRET not in error.message and FAKE_KEY_ID not in error.message


def test_access_denied_names_our_action_and_the_iam_action() -> None:
    client, stub = stubbed_lambda()
    stub.add_client_error("list_event_source_mappings", "AccessDeniedException", DENIED, 403)
    with stub:
        error = raised_by("list event source mappings", client.list_event_source_mappings)
    assert isinstance(error, AccessDenied)
    assert (error.code, error.exit_code) == ("access_denied", 1)
    assert error.message == f"access denied: could not list event source mappings: {DENIED}"
    assert_one_line(error)
    assert isinstance(error.__cause__, bx.ClientError)


@pytest.mark.parametrize("code", ["ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException"])
def test_expired_or_rejected_credentials(code: str) -> None:
    client, stub = stubbed_lambda()
    stub.add_client_error("get_function", code, "The security token included in the request is expired", 403)
    with stub:
        error = raised_by("read the function", lambda: client.get_function(FunctionName="fn"))
    assert isinstance(error, CredentialsError)
    assert error.code == "credentials"
    assert (
        error.message
        == f"AWS rejected the credentials ({code}): refresh them (e.g. `aws sso login`) and retry"
    )
    assert_one_line(error)


def test_not_found_and_conflict() -> None:
    client, stub = stubbed_lambda()
    stub.add_client_error("get_function", "ResourceNotFoundException", "Function not found: fn", 404)
    stub.add_client_error("delete_event_source_mapping", "ResourceInUseException", "in use", 400)
    with stub:
        missing = raised_by("read the function", lambda: client.get_function(FunctionName="fn"))
        busy = raised_by("delete the mapping", lambda: client.delete_event_source_mapping(UUID=UUID))
    assert isinstance(missing, NotFound)
    assert (missing.code, missing.message) == (
        "not_found",
        "not found: could not read the function: Function not found: fn",
    )
    assert isinstance(busy, Conflict)
    assert busy.message == "changed underneath us: could not delete the mapping: in use"


def test_throttling_is_retried_then_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's own retry loop runs (every attempt counted), then the error is ours."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    factory = ClientFactory(AwsTarget(region="us-east-1", max_attempts=3))
    client = factory.client("dynamodb")
    attempts: list[str] = []

    def respond(request: Any, **kwargs: Any) -> AWSResponse:
        attempts.append(request.url)
        return throttling_response(request, **kwargs)

    client.meta.events.register("before-send.dynamodb.DescribeTable", respond)
    error = raised_by("describe table orders", lambda: client.describe_table(TableName="orders"))
    assert len(attempts) == 3
    assert isinstance(error, Throttled)
    assert error.code == "throttled"
    assert error.message == "throttled by AWS after retries: could not describe table orders: Rate exceeded"
    assert_one_line(error)


def test_unreachable_endpoint_fails_fast_with_the_url() -> None:
    target = AwsTarget(
        region="us-east-1", endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=2
    )
    client = ClientFactory(target).client("lambda")
    started = time.monotonic()
    error = raised_by("list event source mappings", client.list_event_source_mappings)
    assert time.monotonic() - started < 10
    assert isinstance(error, EndpointError)
    assert error.code == "endpoint_unreachable"
    assert error.message.startswith(
        "cannot reach AWS to list event source mappings: no answer from http://127.0.0.1:9"
    )
    assert_one_line(error)


@pytest.mark.parametrize(
    ("exc", "kind", "code", "message"),
    [
        (
            bx.NoRegionError(),
            RegionError,
            "no_region",
            "no AWS region: pass --region, set AWS_REGION, or set region: in the spec",
        ),
        (bx.ProfileNotFound(profile="prod"), CredentialsError, "credentials", "AWS profile not found: prod"),
        (
            bx.NoCredentialsError(),
            CredentialsError,
            "credentials",
            "no AWS credentials found: set AWS_PROFILE, or run `aws sso login`, or export "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY",
        ),
        (
            bx.TokenRetrievalError(provider="sso", error_msg="expired"),
            CredentialsError,
            "credentials",
            "the AWS SSO session has expired: run `aws sso login`",
        ),
        (
            bx.ReadTimeoutError(endpoint_url="https://lambda.us-east-1.amazonaws.com/"),
            EndpointError,
            "endpoint_unreachable",
            "cannot reach AWS to list mappings: no answer from https://lambda.us-east-1.amazonaws.com/",
        ),
        (
            client_error("Weird", "odd thing"),
            AwsError,
            "aws_error",
            "could not list mappings: Weird: odd thing",
        ),
        (
            client_error("ThrottlingException", "slow down"),
            Throttled,
            "throttled",
            "throttled by AWS after retries: could not list mappings: slow down",
        ),
    ],
    ids=["no-region", "profile", "no-credentials", "sso-expired", "read-timeout", "unknown", "throttled"],
)
def test_translate(exc: BaseException, kind: type[DdbtError], code: str, message: str) -> None:
    error = translate(exc, "list mappings")
    assert type(error) is kind
    assert (error.code, error.message) == (code, message)
    assert_one_line(error)


def test_parameter_validation_error_is_one_line() -> None:
    client = ClientFactory(AwsTarget(region="us-east-1")).client("lambda")
    error = raised_by("delete the mapping", lambda: client.delete_event_source_mapping(UUID="u"))
    assert type(error) is AwsError
    assert error.message.startswith(
        "could not delete the mapping: Parameter validation failed: Invalid length"
    )
    assert_one_line(error)


def test_our_errors_and_foreign_errors_pass_through() -> None:
    ours = NotFound("x")
    assert translate(ours, "a") is ours
    with pytest.raises(NotFound) as caught, translate_errors("a"):
        raise ours
    assert caught.value is ours
    with pytest.raises(KeyError), translate_errors("a"):
        raise KeyError("not AWS")


def test_error_code_and_message_helpers() -> None:
    err = client_error("AccessDeniedException", "no")
    assert (error_code(err), error_message(err)) == ("AccessDeniedException", "no")
    assert error_code(ValueError("x")) == ""
    assert error_message(ValueError("plain")) == "plain"

"""aws/invoke against moto in-process: RequestResponse invoke, FunctionError read from the response."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from ddbtrigger.aws.invoke import invoke_factory, invoke_function
from ddbtrigger.core.redrive import judge
from ddbtrigger.errors import NotFound


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def handler(e, c):\n    return None\n")
    return buf.getvalue()


def make_function(factory: Any, name: str = "fn") -> str:
    iam = factory.client("iam")
    role = iam.create_role(
        RoleName="r",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ],
            }
        ),
    )
    factory.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="h.handler",
        Code={"ZipFile": _zip()},
    )
    return name


def test_invoke_sends_the_event_and_reads_the_payload(moto_aws: Any) -> None:
    name = make_function(moto_aws)
    event = {"Records": [{"eventID": "1", "dynamodb": {"SequenceNumber": "100"}}]}
    response = invoke_function(invoke_factory(moto_aws), name, event)
    assert response.status_code == 200
    assert response.function_error is None
    assert json.loads(response.payload) == event  # moto's simple backend echoes the payload
    assert judge(response).delivered


def test_function_error_is_read_from_the_response(moto_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def failing(
        self: Any, function_name: str, qualifier: Any, body: Any, headers: Any, response_headers: Any
    ) -> bytes:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorMessage": "poison", "errorType": "ValueError"}).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", failing)
    name = make_function(moto_aws)
    response = invoke_function(moto_aws, name, {"Records": []})
    assert response.status_code == 200 and response.function_error == "Unhandled"
    verdict = judge(response)
    assert not verdict.delivered and verdict.error == "function error (Unhandled): ValueError: poison"


def test_invoke_factory_waits_out_the_longest_function(moto_aws: Any) -> None:
    invoker = invoke_factory(moto_aws)
    assert invoker.target.read_timeout > 900
    assert invoker.target.endpoint_url == moto_aws.target.endpoint_url
    assert invoker.client("lambda").meta.config.read_timeout > 900


def test_missing_function_is_not_found() -> None:
    from botocore.stub import Stubber

    from ddbtrigger.aws.clients import AwsTarget, ClientFactory

    factory = ClientFactory(AwsTarget(region="us-east-1", max_attempts=1))
    with Stubber(factory.client("lambda")) as stub:
        stub.add_client_error(
            "invoke", "ResourceNotFoundException", "Function not found", http_status_code=404
        )
        with pytest.raises(NotFound, match="invoke function no-such-function"):
            invoke_function(factory, "no-such-function", {"Records": []})

"""Helpers for the provisioning tests: a table with a stream, a function (zip, role in IAM), a spec."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import yaml

from tests.helpers import create_table

ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def make_function(factory: Any, name: str) -> str:
    iam = factory.client("iam")
    try:
        role_arn = iam.get_role(RoleName="ddbt-test-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(
            RoleName="ddbt-test-role", AssumeRolePolicyDocument=json.dumps(ROLE_POLICY)
        )["Role"]["Arn"]
    created = factory.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": function_zip()},
    )
    return str(created["FunctionArn"])


def make_table(factory: Any, name: str, *, view_type: str | None = "NEW_AND_OLD_IMAGES") -> dict[str, Any]:
    return create_table(factory.client("dynamodb"), name, view=view_type)


def spec_text(*triggers: dict[str, Any], region: str = "us-east-1") -> str:
    return yaml.safe_dump({"version": 1, "region": region, "triggers": list(triggers)}, sort_keys=False)


def trigger(
    name: str = "orders-audit", *, table: str = "orders", function: str = "orders-fn", **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "table": table,
        "function": function,
        "on_failure": {"type": "sqs", "name": f"{name}-dlq"},
    }
    body.update(extra)
    return body


class CallCounter:
    """Counts AWS calls made through a boto3 session (botocore ``before-call`` event)."""

    def __init__(self, session: Any) -> None:
        self.calls: list[str] = []
        session.events.register("before-call", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    MUTATING_PREFIXES = ("Create", "Update", "Delete", "Tag", "Untag", "Put", "Set", "Subscribe", "Remove")

    def mutating(self) -> list[str]:
        return [c for c in self.calls if c.startswith(self.MUTATING_PREFIXES)]

    def reset(self) -> None:
        self.calls.clear()

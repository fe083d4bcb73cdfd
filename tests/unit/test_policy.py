"""``ddbtrigger policy``: parses, names no ``*`` action, scopes every resource to the spec's ARNs, and
names exactly the actions each command needs."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ddbtrigger.cli.app import app
from ddbtrigger.core.loader import load_spec
from ddbtrigger.core.policy import (
    OPERATOR_COMMANDS,
    PLACEHOLDER_ACCOUNT,
    PLACEHOLDER_REGION,
    UNSCOPABLE_ACTIONS,
    Where,
    all_actions,
    audit_policy,
    build_policies,
    operator_grants,
    resolve,
)
from ddbtrigger.core.spec import Spec

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "111122223333"
EXAMPLE_NAMES = ("orders", "orders-audit", "orders-archive", "orders-audit-dlq", "orders-archive-failures")


def example_spec() -> Spec:
    return load_spec((ROOT / "examples" / "single-account.yaml").read_text(), "single-account.yaml")


def spec_of(*triggers: dict[str, Any], region: str | None = "eu-west-1") -> Spec:
    doc: dict[str, Any] = {"version": 1, "triggers": list(triggers)}
    if region:
        doc["region"] = region
    return load_spec(yaml.safe_dump(doc, sort_keys=False), "spec.yaml")


def every_policy(policies: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [(f"function role {n}", d) for n, d in policies["function_roles"].items()]
    return out + [(f"operator {n}", d) for n, d in policies["operator"].items()]


@pytest.fixture(scope="module")
def example_json() -> dict[str, Any]:
    result = CliRunner().invoke(
        app,
        [
            "policy",
            "-f",
            str(ROOT / "examples" / "single-account.yaml"),
            "--account-id",
            ACCOUNT,
            "-o",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_output_parses_and_has_every_policy(example_json: dict[str, Any]) -> None:
    assert example_json["account_id"] == ACCOUNT
    assert example_json["region"] == "us-east-1"
    assert sorted(example_json["function_roles"]) == ["orders-archive", "orders-audit"]
    assert list(example_json["operator"]) == list(OPERATOR_COMMANDS)
    for _, document in every_policy(example_json):
        assert document["Version"] == "2012-10-17"
        sids = [s["Sid"] for s in document["Statement"]]
        assert len(sids) == len(set(sids))
        assert all(sid.isalnum() for sid in sids)
        assert all(s["Effect"] == "Allow" for s in document["Statement"])


def test_no_action_is_a_wildcard(example_json: dict[str, Any]) -> None:
    for where, document in every_policy(example_json):
        for statement in document["Statement"]:
            for action in statement["Action"]:
                assert "*" not in action and "?" not in action, (where, action)
                service, _, name = action.partition(":")
                assert service and name, action


def test_every_resource_is_an_arn_scoped_to_the_spec(example_json: dict[str, Any]) -> None:
    for where, document in every_policy(example_json):
        for statement in document["Statement"]:
            for resource in statement["Resource"]:
                if resource == "*":
                    assert set(statement["Action"]) <= UNSCOPABLE_ACTIONS, (where, statement)
                    continue
                assert resource.startswith("arn:aws:"), resource
                if ":alarm:" in resource:  # the alarms' name prefix, or one trigger's alarms
                    names = ("ddbtrigger-*", *(f"ddbtrigger-{n}-*" for n in EXAMPLE_NAMES))
                    assert resource.split(":alarm:")[1] in names, resource
                    assert f":us-east-1:{ACCOUNT}:" in resource, resource
                    continue
                if ":event-source-mapping:" in resource:
                    assert resource == f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:*"
                    functions = statement["Condition"]["ArnLike"]["lambda:FunctionArn"]
                    assert functions and all(":function:orders-a" in f for f in functions)
                    continue
                assert any(f":{n}" in resource or f"/{n}" in resource for n in EXAMPLE_NAMES), resource
                if not resource.startswith("arn:aws:s3:::"):
                    assert f":us-east-1:{ACCOUNT}:" in resource, resource


def test_function_roles_name_exactly_stream_read_and_destination_write(example_json: dict[str, Any]) -> None:
    stream_read = {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    roles = example_json["function_roles"]
    assert all_actions(roles["orders-audit"]) == stream_read | {"sqs:SendMessage"}
    assert all_actions(roles["orders-archive"]) == stream_read | {"s3:PutObject", "s3:ListBucket"}
    by_action = {a: s["Resource"] for s in roles["orders-archive"]["Statement"] for a in s["Action"]}
    assert by_action["dynamodb:GetRecords"] == [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders/stream/*"]
    assert by_action["s3:PutObject"] == ["arn:aws:s3:::orders-archive-failures/aws/lambda/*"]
    assert by_action["s3:ListBucket"] == ["arn:aws:s3:::orders-archive-failures"]
    audit = {a: s["Resource"] for s in roles["orders-audit"]["Statement"] for a in s["Action"]}
    assert audit["sqs:SendMessage"] == [f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-audit-dlq"]


READ_MAPPINGS = {
    "lambda:ListEventSourceMappings",
    "lambda:GetEventSourceMapping",
    "lambda:ListTags",
    "lambda:GetFunction",
}
SQS_READ = {"sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ListQueueTags"}
S3_READ = {
    "s3:ListBucket",
    "s3:GetEncryptionConfiguration",
    "s3:GetBucketTagging",
    "s3:GetBucketPublicAccessBlock",
}
# every command that reads live state reads the triggers' alarms (one DescribeAlarms by name prefix)
READ_LIVE = {"dynamodb:DescribeTable", "cloudwatch:DescribeAlarms"} | READ_MAPPINGS | SQS_READ | S3_READ
# plan (and apply, which plans) read the stream to warn that a TRIM_HORIZON mapping would replay it
PLAN = READ_LIVE | {"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"}
STREAM_READ_ACTIONS = {"dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords"}
PEEK = {
    "dynamodb:DescribeTable",
    "dynamodb:DescribeStream",
    "dynamodb:GetShardIterator",
    "dynamodb:GetRecords",
    "sqs:GetQueueUrl",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:ChangeMessageVisibility",
    "s3:ListBucket",
    "s3:GetObject",
}
EXPECTED = {
    "plan": PLAN,
    "apply": PLAN
    | {
        "dynamodb:UpdateTable",
        "lambda:CreateEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
        "lambda:TagResource",
        "lambda:UntagResource",
        "sqs:CreateQueue",
        "sqs:SetQueueAttributes",
        "sqs:TagQueue",
        "sqs:UntagQueue",
        "s3:CreateBucket",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:TagResource",
    },
    "destroy": READ_LIVE
    | {
        "cloudwatch:DeleteAlarms",
        "dynamodb:UpdateTable",
        "lambda:DeleteEventSourceMapping",
        "sqs:DeleteQueue",
        "s3:DeleteBucket",
        "s3:DeleteObject",
    },
    "status": READ_LIVE | {"dynamodb:DescribeStream", "cloudwatch:GetMetricData"},
    "inspect-dlq": PEEK,
    "redrive": PEEK | {"lambda:InvokeFunction", "sqs:DeleteMessage", "s3:DeleteObject", "s3:PutObject"},
    "tail": {"dynamodb:DescribeTable"} | READ_MAPPINGS | STREAM_READ_ACTIONS,
    "replay": {"dynamodb:DescribeTable"}
    | READ_MAPPINGS
    | STREAM_READ_ACTIONS
    | {"lambda:InvokeFunction", "cloudwatch:GetMetricData"}
    # --engine lambda: the temporary mapping, tagged at creation
    | {"lambda:CreateEventSourceMapping", "lambda:DeleteEventSourceMapping", "lambda:TagResource"},
}


def test_replay_mapping_writes_are_limited_to_the_specs_functions(example_json: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in example_json["operator"]["replay"]["Statement"]}
    assert statements["CreateMappings"]["Action"] == ["lambda:CreateEventSourceMapping"]
    assert set(statements["ChangeMappings"]["Action"]) == {
        "lambda:DeleteEventSourceMapping",
        "lambda:TagResource",
    }
    for sid in ("CreateMappings", "ChangeMappings"):
        assert "lambda:FunctionArn" in statements[sid]["Condition"]["ArnLike"], sid


@pytest.mark.parametrize("command", OPERATOR_COMMANDS)
def test_operator_policy_names_exactly_the_needed_actions(example_json: dict[str, Any], command: str) -> None:
    assert all_actions(example_json["operator"][command]) == EXPECTED[command]


def test_read_only_commands_cannot_change_anything(example_json: dict[str, Any]) -> None:
    mutating = ("Create", "Update", "Delete", "Put", "Tag", "Untag", "Set", "Invoke", "Subscribe")
    for command in ("plan", "status", "inspect-dlq", "tail"):
        actions = all_actions(example_json["operator"][command])
        changing = {a for a in actions if a.split(":")[1].startswith(mutating)}
        assert changing == set(), command


def test_mapping_changes_are_limited_to_the_specs_functions(example_json: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in example_json["operator"]["apply"]["Statement"]}
    functions = [
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-archive",
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:orders-audit",
    ]
    for sid in ("CreateMappings", "ChangeMappings", "ReadMappings"):
        assert statements[sid]["Condition"] == {"ArnLike": {"lambda:FunctionArn": functions}}, sid
    assert statements["CreateMappings"]["Action"] == ["lambda:CreateEventSourceMapping"]
    assert statements["CreateMappings"]["Resource"] == ["*"]
    assert "lambda:CreateEventSourceMapping" not in statements["ChangeMappings"]["Action"]


def test_every_wildcard_resource_that_can_write_is_scoped_by_a_condition(
    example_json: dict[str, Any],
) -> None:
    for where, document in every_policy(example_json):
        for statement in document["Statement"]:
            if statement["Resource"] == ["*"] and not all(
                a.split(":")[1].startswith(("List", "Get")) for a in statement["Action"]
            ):
                assert "lambda:FunctionArn" in statement["Condition"]["ArnLike"], (where, statement)


def test_an_existing_arn_destination_is_never_created_or_deleted() -> None:
    arn = "arn:aws:sqs:eu-west-1:999988887777:shared-dlq"
    spec = spec_of(
        {"name": "t1", "table": "orders", "function": "fn", "on_failure": {"type": "sqs", "arn": arn}}
    )
    policies = build_policies(spec, account_id=ACCOUNT).as_json()
    for command in ("apply", "destroy"):
        on_queue = {
            a for s in policies["operator"][command]["Statement"] if arn in s["Resource"] for a in s["Action"]
        }
        assert on_queue == SQS_READ, command
    role = policies["function_roles"]["fn"]
    assert {a for s in role["Statement"] if arn in s["Resource"] for a in s["Action"]} == {"sqs:SendMessage"}


def test_sns_destination_and_its_inspect_queue() -> None:
    spec = spec_of(
        {
            "name": "t1",
            "table": "orders",
            "function": "fn",
            "on_failure": {"type": "sns", "name": "fails", "inspect_queue": "fails-tap"},
        }
    )
    policies = build_policies(spec, account_id=ACCOUNT).as_json()
    topic, tap = f"arn:aws:sns:eu-west-1:{ACCOUNT}:fails", f"arn:aws:sqs:eu-west-1:{ACCOUNT}:fails-tap"

    def on(command: str, resource: str) -> set[str]:
        doc = policies["operator"][command] if command != "role" else policies["function_roles"]["fn"]
        return {a for s in doc["Statement"] if resource in s["Resource"] for a in s["Action"]}

    assert on("role", topic) == {"sns:Publish"}
    assert {"sns:CreateTopic", "sns:Subscribe"} <= on("apply", topic)
    assert {"sqs:CreateQueue", "sqs:SetQueueAttributes"} <= on("apply", tap)
    assert on("inspect-dlq", tap) == {
        "sqs:ReceiveMessage",
        "sqs:ChangeMessageVisibility",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    }
    assert "sqs:DeleteMessage" in on("redrive", tap)
    assert "sqs:DeleteMessage" not in on("inspect-dlq", tap)
    assert on("destroy", topic) >= {"sns:DeleteTopic", "sns:Unsubscribe"}
    assert policies["notes"] == []


@pytest.mark.parametrize(
    ("prefix", "read"), [(None, "aws/lambda/*"), ("aws/lambda/abc/", "aws/lambda/abc/*")]
)
def test_s3_writes_go_where_lambda_writes_and_reads_where_the_prefix_says(
    prefix: str | None, read: str
) -> None:
    on_failure: dict[str, Any] = {"type": "s3", "name": "bkt"}
    if prefix:
        on_failure["prefix"] = prefix
    spec = spec_of({"name": "t1", "table": "orders", "function": "fn", "on_failure": on_failure})
    policies = build_policies(spec, account_id=ACCOUNT)

    def resources(document: dict[str, Any], action: str) -> list[str]:
        return [r for s in document["Statement"] if action in s["Action"] for r in s["Resource"]]

    assert resources(policies.function_roles["fn"], "s3:PutObject") == ["arn:aws:s3:::bkt/aws/lambda/*"]
    leases = "arn:aws:s3:::bkt/ddbtrigger/leases/*"
    assert resources(policies.operator["inspect-dlq"], "s3:GetObject") == [f"arn:aws:s3:::bkt/{read}", leases]
    assert resources(policies.operator["redrive"], "s3:DeleteObject") == [f"arn:aws:s3:::bkt/{read}", leases]
    assert resources(policies.operator["redrive"], "s3:PutObject") == [leases]  # leases only, never failures


def test_sns_without_inspect_queue_says_what_is_missing() -> None:
    spec = spec_of(
        {"name": "t1", "table": "orders", "function": "fn", "on_failure": {"type": "sns", "name": "x"}}
    )
    [note] = build_policies(spec).notes
    assert note.startswith("t1: the SNS destination has no inspect_queue")


def test_table_arn_and_function_alias_and_arn() -> None:
    table = "arn:aws:dynamodb:eu-central-1:444455556666:table/payments"
    spec = spec_of(
        {"name": "a", "table": table, "function": "fn:live"},
        {
            "name": "b",
            "table": "orders",
            "function": "arn:aws:lambda:us-west-2:777788889999:function:other:blue",
        },
    )
    where = Where("eu-west-1", ACCOUNT)
    a, b = (resolve(t, where) for t in spec.triggers)
    assert a.stream == f"{table}/stream/*"
    assert a.functions == (
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn:live",
    )
    assert b.functions == (
        "arn:aws:lambda:us-west-2:777788889999:function:other",
        "arn:aws:lambda:us-west-2:777788889999:function:other:blue",
    )
    [invoke] = [g for g in operator_grants("redrive", b) if g.sid == "InvokeFunctions"]
    assert invoke.resources == b.functions
    [reads] = [g for g in operator_grants("plan", b) if g.sid == "ReadMappings"]
    assert reads.resources == ("arn:aws:lambda:us-west-2:777788889999:event-source-mapping:*",)


def test_placeholders_without_account_or_region() -> None:
    spec = spec_of({"name": "t1", "table": "orders", "function": "fn"}, region=None)
    policies = build_policies(spec).as_json()
    assert (policies["account_id"], policies["region"]) == (PLACEHOLDER_ACCOUNT, PLACEHOLDER_REGION)
    [statement] = policies["function_roles"]["fn"]["Statement"]
    assert statement["Resource"] == [
        "arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/orders/stream/*"
    ]
    [reads] = [s for s in policies["operator"]["plan"]["Statement"] if s["Sid"] == "ReadMappings"]
    assert reads["Resource"] == ["arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:event-source-mapping:*"]


def test_partition_follows_the_region() -> None:
    spec = spec_of({"name": "t1", "table": "orders", "function": "fn"}, region="cn-north-1")
    [statement] = build_policies(spec, account_id=ACCOUNT).function_roles["fn"]["Statement"]
    assert statement["Resource"] == [f"arn:aws-cn:dynamodb:cn-north-1:{ACCOUNT}:table/orders/stream/*"]


def test_kms_key_arn_is_granted_and_alias_is_a_note() -> None:
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    spec = spec_of(
        {
            "name": "a",
            "table": "orders",
            "function": "fn",
            "on_failure": {"type": "sqs", "name": "q", "kms_key": key},
        },
        {
            "name": "b",
            "table": "orders",
            "function": "fn2",
            "on_failure": {"type": "sqs", "name": "r", "kms_key": "alias/mine"},
        },
    )
    policies = build_policies(spec, account_id=ACCOUNT)
    assert {"kms:GenerateDataKey", "kms:Decrypt"} <= all_actions(policies.function_roles["fn"])
    assert "kms:Decrypt" in all_actions(policies.operator["redrive"])
    assert [n.split(":")[0] for n in policies.notes] == ["b"]


def test_unknown_command_is_refused() -> None:
    arns = resolve(example_spec().triggers[0], Where())
    with pytest.raises(ValueError, match="no operator policy for command 'sandbox'"):
        operator_grants("sandbox", arns)


def test_cli_for_and_trigger_select_one_policy() -> None:
    spec = str(ROOT / "examples" / "single-account.yaml")
    result = CliRunner().invoke(
        app, ["policy", "-f", spec, "--for", "function-role", "-t", "orders-audit", "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["Version"] == "2012-10-17"
    assert "sqs:SendMessage" in all_actions(document)
    result = CliRunner().invoke(
        app, ["policy", "-f", spec, "--for", "apply", "-o", "json", "--region", "eu-west-1"]
    )
    document = json.loads(result.stdout)
    assert all_actions(document) == EXPECTED["apply"]
    assert any(":eu-west-1:" in r for s in document["Statement"] for r in s["Resource"])


def test_cli_table_output_and_errors(tmp_path: Path) -> None:
    spec = str(ROOT / "examples" / "single-account.yaml")
    result = CliRunner().invoke(app, ["policy", "-f", spec, "--for", "redrive"])
    assert result.exit_code == 0
    assert "operator: ddbtrigger redrive" in result.stdout
    assert "lambda:InvokeFunction" in result.stdout
    result = CliRunner().invoke(app, ["policy", "-f", spec, "-t", "nope", "-o", "json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "usage"


# --- the policies cover the calls the code makes ----------------------------------------------------

API_TO_ACTION = {
    "dynamodbstreams": "dynamodb",
    "Invoke": "InvokeFunction",
    "HeadBucket": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "DeleteMessageBatch": "DeleteMessage",
    "DeleteObjects": "DeleteObject",
    "ListObjectVersions": "ListBucketVersions",
}
NEEDS_NO_PERMISSION = {"sts:GetCallerIdentity"}
SERVICES = ("lambda", "dynamodb", "dynamodbstreams", "sqs", "sns", "s3", "cloudwatch", "sts")


def api_methods() -> dict[str, set[str]]:
    """snake_case client method -> ``service:Operation`` for the services the tool uses."""
    import boto3

    session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    methods: dict[str, set[str]] = {}
    for service in SERVICES:
        client = session.client(service)
        for method, operation in client.meta.method_to_api_mapping.items():
            methods.setdefault(method, set()).add(f"{service}:{operation}")
    return methods


def iam_action(api: str) -> str:
    service, operation = api.split(":")
    return f"{API_TO_ACTION.get(service, service)}:{API_TO_ACTION.get(operation, operation)}"


def called_operations() -> dict[str, set[str]]:
    """Every botocore operation the product's aws/ package calls (directly or via a paginator)."""
    methods = api_methods()
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "ddbtrigger" / "aws").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = node.func.attr
            if name == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
                name = str(node.args[0].value)
            for api in methods.get(name, set()):
                found.setdefault(iam_action(api), set()).add(path.name)
    return found


def test_every_api_call_in_the_aws_package_is_granted_to_some_command(example_json: dict[str, Any]) -> None:
    granted = set().union(*(all_actions(d) for d in example_json["operator"].values()))
    sns = spec_of(
        {
            "name": "t1",
            "table": "orders",
            "function": "fn",
            "on_failure": {"type": "sns", "name": "x", "inspect_queue": "y"},
        }
    )
    granted |= set().union(*(all_actions(d) for d in build_policies(sns).operator.values()))
    granted |= all_actions(audit_policy())  # audit needs no spec: its policy is printed on its own
    called = called_operations()
    assert "dynamodb:DescribeTable" in called
    # a method name shared by several services (e.g. list_tags_for_resource) counts when any is granted
    by_method: dict[str, set[str]] = {}
    for action, files in called.items():
        for f in files:
            by_method.setdefault(f"{f}:{action.split(':')[1]}", set()).add(action)
    missing = {
        key: actions
        for key, actions in by_method.items()
        if not actions & (granted | NEEDS_NO_PERMISSION) and not all(a.startswith("iam:") for a in actions)
    }
    assert missing == {}, f"the code calls AWS actions that no operator policy grants: {missing}"


AUDIT_ACTIONS = {
    "lambda:ListEventSourceMappings",
    "lambda:ListFunctions",
    "ec2:DescribeRegions",
    "cloudwatch:GetMetricData",
    "dynamodb:DescribeTable",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "s3:ListBucket",
}


def test_audit_policy_is_read_only_and_needs_no_spec(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["policy", "-f", str(tmp_path / "absent.yaml"), "--for", "audit", "-o", "json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert all_actions(document) == AUDIT_ACTIONS
    mutating = ("Create", "Update", "Delete", "Put", "Tag", "Untag", "Set", "Invoke", "Subscribe", "Send")
    assert not [a for a in all_actions(document) if a.split(":")[1].startswith(mutating)]
    for statement in document["Statement"]:
        if statement["Resource"] == ["*"]:
            assert set(statement["Action"]) <= UNSCOPABLE_ACTIONS, statement
    scoped = audit_policy(account_id=ACCOUNT, region="eu-west-1")
    resources = {r for s in scoped["Statement"] for r in s["Resource"]}
    assert f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*" in resources
    table = CliRunner().invoke(app, ["policy", "--for", "audit"], env={"COLUMNS": "100"})
    assert table.exit_code == 0 and "operator: ddbtrigger audit" in table.stdout


def test_policy_makes_no_aws_call_and_never_loads_the_sdk() -> None:
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from typer.testing import CliRunner\n"
        "from ddbtrigger.cli.app import app\n"
        f"r = CliRunner().invoke(app, ['policy', '-f', {str(ROOT / 'examples' / 'single-account.yaml')!r}, '-o', 'json'])\n"
        "json.loads(r.stdout)\n"
        "print(r.exit_code, sorted(m for m in ('boto3', 'botocore') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "0 []", proc.stderr[-2000:]


def test_alarm_writes_are_scoped_to_each_triggers_alarm_names(example_json: dict[str, Any]) -> None:
    statements = {s["Sid"]: s for s in example_json["operator"]["apply"]["Statement"]}
    prefix = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:ddbtrigger-"
    assert statements["ChangeAlarms"]["Action"] == [
        "cloudwatch:DeleteAlarms",
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:TagResource",
    ]
    assert statements["ChangeAlarms"]["Resource"] == [f"{prefix}orders-archive-*", f"{prefix}orders-audit-*"]
    assert statements["DescribeAlarms"]["Resource"] == [f"{prefix}*"]

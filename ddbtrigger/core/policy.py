"""Least-privilege IAM policies for a spec, computed without any AWS call.

Two kinds: the function role's (what Lambda needs to read the table's stream and write a failure to the
destination; it runs under the function's execution role), and the operator's, one per command, listing
exactly the API actions that command's code calls, each scoped to the ARNs the spec names. No action is
ever a wildcard. The only ``*`` resources are for the few list/metric actions that IAM cannot scope to a
resource at all (``UNSCOPABLE_ACTIONS``), so a reviewer sees them on their own.

Unknown parts of an ARN (the account, the region when neither the spec nor ``--region`` gives it) are
CloudFormation-style placeholders, so the output pastes into a ``!Sub`` as is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ddbtrigger.core.destinations import KINDS, GrantTemplate, Resource, partition_of, resource_name
from ddbtrigger.core.destinations import kind as destination_kind
from ddbtrigger.core.redrive import S3_LEASE_PREFIX
from ddbtrigger.core.spec import OnFailureSpec, Spec, TriggerSpec

PLACEHOLDER_ACCOUNT = "${AWS::AccountId}"
PLACEHOLDER_REGION = "${AWS::Region}"
OPERATOR_COMMANDS: tuple[str, ...] = (
    "plan",
    "apply",
    "destroy",
    "status",
    "inspect-dlq",
    "redrive",
    "tail",
    "replay",
)
UNSCOPABLE_ACTIONS = frozenset(
    {
        "lambda:ListEventSourceMappings",
        "cloudwatch:GetMetricData",
        "lambda:CreateEventSourceMapping",
        "lambda:ListFunctions",
        "ec2:DescribeRegions",
    }
)
"""IAM has no resource to name for these: they take ``"Resource": "*"`` (CreateEventSourceMapping is
then scoped by the ``lambda:FunctionArn`` condition to the spec's functions)."""

STREAM_READ = ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator")
FUNCTION_STREAM_READ = (*STREAM_READ, "dynamodb:ListStreams")
POLICY_VERSION = "2012-10-17"
LAMBDA_S3_PREFIX = "aws/lambda/"
"""Lambda takes only an S3 destination's bucket and writes under ``aws/lambda/<mapping uuid>/``."""


@dataclass(frozen=True)
class Where:
    """The partition, region and account that ARNs are built in (placeholders when unknown)."""

    region: str = PLACEHOLDER_REGION
    account: str = PLACEHOLDER_ACCOUNT

    @property
    def partition(self) -> str:
        return partition_of(self.region)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"


@dataclass(frozen=True)
class Destination:
    """The ARNs of one failure destination, and whether the tool manages (creates, deletes) it."""

    type: str
    arn: str
    managed: bool
    inspect_queue: str | None = None
    objects: str | None = None
    """S3: the objects failures are read from (the spec's prefix, else where Lambda writes)."""
    written: str | None = None
    """S3: the objects Lambda writes (always ``aws/lambda/`` at the bucket root; it takes no prefix)."""
    kms_key: str | None = None


@dataclass(frozen=True)
class TriggerArns:
    """Every ARN one trigger touches."""

    trigger: str
    function_name: str
    table: str
    stream: str
    functions: tuple[str, ...]
    destination: Destination | None
    function_home: Where = Where()
    """The function's region and account (its mappings live there too)."""


@dataclass(frozen=True)
class Grant:
    """One statement before merging: statements with the same ``sid`` merge their resources."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: dict[str, dict[str, list[str]]] | None = None


@dataclass
class Policies:
    """The whole answer: one policy per function role, one per operator command, and notes."""

    where: Where
    function_roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    operator: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "account_id": self.where.account,
            "region": self.where.region,
            "function_roles": self.function_roles,
            "operator": self.operator,
            "notes": self.notes,
        }


def _arn_parts(arn: str) -> Where:
    """Region and account of an ARN the user wrote (never one with our placeholders in it)."""
    parts = arn.split(":")
    return Where(region=parts[3] or PLACEHOLDER_REGION, account=parts[4] or PLACEHOLDER_ACCOUNT)


def _table_arn(trigger: TriggerSpec, where: Where) -> str:
    if trigger.table.startswith("arn:"):
        return trigger.table
    return where.arn("dynamodb", f"table/{trigger.table}")


def _function_arns(function: str, where: Where) -> tuple[str, tuple[str, ...]]:
    """The function's name and ARNs: unqualified, plus the alias-qualified one when an alias is named."""
    if function.startswith("arn:"):
        parts = function.split(":")
        base = ":".join(parts[:7])
        return parts[6], (base, function) if len(parts) > 7 else (base,)
    name, _, alias = function.partition(":")
    base = where.arn("lambda", f"function:{name}")
    return name, (base, f"{base}:{alias}") if alias else (base,)


def _destination(spec: OnFailureSpec, where: Where) -> Destination:
    """The destination's ARNs; a managed name lives in the spec's account and region."""
    kind = destination_kind(spec.type)
    if spec.arn is not None:
        arn, home = spec.arn, _arn_parts(spec.arn)
    else:
        arn = kind.arn(str(spec.name), partition=where.partition, region=where.region, account=where.account)
        home = where
    objects = written = None
    if not kind.holds_pointers:  # the records sit in objects: Lambda writes them, readers read them
        bucket = resource_name(arn)
        objects = f"arn:{home.partition}:s3:::{bucket}/{spec.prefix or LAMBDA_S3_PREFIX}*"
        written = f"arn:{home.partition}:s3:::{bucket}/{LAMBDA_S3_PREFIX}*"
    tap = home.arn("sqs", spec.inspect_queue) if spec.inspect_queue else None
    return Destination(
        spec.type,
        arn,
        spec.managed,
        inspect_queue=tap,
        objects=objects,
        written=written,
        kms_key=spec.kms_key,
    )


def resolve(trigger: TriggerSpec, where: Where) -> TriggerArns:
    """Every ARN the trigger names, built from the spec alone."""
    table = _table_arn(trigger, where)
    name, functions = _function_arns(trigger.function, where)
    home = _arn_parts(trigger.function) if trigger.function.startswith("arn:") else where
    destination = _destination(trigger.on_failure, where) if trigger.on_failure else None
    return TriggerArns(trigger.name, name, table, f"{table}/stream/*", functions, destination, home)


def policy_document(grants: Iterable[Grant]) -> dict[str, Any]:
    """An IAM policy document: grants with one ``sid`` merge; actions and resources sorted, unique."""
    merged: dict[str, Grant] = {}
    for grant in grants:
        old = merged.get(grant.sid)
        if old is None:
            merged[grant.sid] = grant
            continue
        condition = _merge_conditions(old.condition, grant.condition)
        merged[grant.sid] = Grant(
            grant.sid, old.actions + grant.actions, old.resources + grant.resources, condition
        )
    return {"Version": POLICY_VERSION, "Statement": [_statement(g) for g in merged.values()]}


def _merge_conditions(
    a: dict[str, dict[str, list[str]]] | None, b: dict[str, dict[str, list[str]]] | None
) -> dict[str, dict[str, list[str]]] | None:
    if a is None or b is None:
        return a or b
    out = {op: {key: list(values) for key, values in keys.items()} for op, keys in a.items()}
    for op, keys in b.items():
        for key, values in keys.items():
            out.setdefault(op, {}).setdefault(key, []).extend(values)
    return {op: {key: sorted(set(v)) for key, v in keys.items()} for op, keys in out.items()}


def _statement(grant: Grant) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": grant.sid,
        "Effect": "Allow",
        "Action": sorted(set(grant.actions)),
        "Resource": sorted(set(grant.resources)),
    }
    if grant.condition:
        statement["Condition"] = grant.condition
    return statement


def function_role_grants(arns: TriggerArns) -> list[Grant]:
    """What Lambda needs, under the function's execution role, to run this trigger."""
    grants = [Grant("ReadTableStreams", FUNCTION_STREAM_READ, (arns.stream,))]
    dest = arns.destination
    if dest is None:
        return grants
    grants += _from_templates(dest, destination_kind(dest.type).function_grants)
    if _kms_key_arn(dest):
        grants.append(Grant("EncryptFailures", ("kms:Decrypt", "kms:GenerateDataKey"), (str(dest.kms_key),)))
    return grants


def _kms_key_arn(dest: Destination) -> bool:
    return dest.kms_key is not None and dest.kms_key.startswith("arn:") and ":key/" in dest.kms_key


def build_policies(
    spec: Spec,
    triggers: list[TriggerSpec] | None = None,
    *,
    account_id: str | None = None,
    region: str | None = None,
) -> Policies:
    """All policies for the selected triggers (all by default)."""
    where = Where(region or spec.region or PLACEHOLDER_REGION, account_id or PLACEHOLDER_ACCOUNT)
    resolved = [resolve(t, where) for t in (triggers if triggers is not None else spec.triggers)]
    out = Policies(where)
    by_function: dict[str, list[Grant]] = {}
    for arns in resolved:
        by_function.setdefault(arns.function_name, []).extend(function_role_grants(arns))
    out.function_roles = {name: policy_document(grants) for name, grants in by_function.items()}
    for command in OPERATOR_COMMANDS:
        out.operator[command] = policy_document(g for a in resolved for g in operator_grants(command, a))
    out.notes = _notes(resolved)
    return out


def _notes(resolved: list[TriggerArns]) -> list[str]:
    """What the policies cannot say on their own."""
    notes = []
    for arns in resolved:
        dest = arns.destination
        if dest is None:
            continue
        if dest.kms_key and not _kms_key_arn(dest) and not dest.kms_key.startswith("alias/aws/"):
            notes.append(
                f"{arns.trigger}: the destination is encrypted with {dest.kms_key}: also grant "
                "kms:GenerateDataKey and kms:Decrypt on the key behind it (to the function role) and "
                "kms:Decrypt (to inspect-dlq and redrive)"
            )
        if destination_kind(dest.type).reads_from == "inspect_queue" and dest.inspect_queue is None:
            notes.append(
                f"{arns.trigger}: the SNS destination has no inspect_queue: inspect-dlq and redrive also "
                "need sqs:ReceiveMessage, sqs:ChangeMessageVisibility and sqs:DeleteMessage on the queue "
                "subscribed to it"
            )
    return notes


def _mapping_arn(arns: TriggerArns) -> str:
    """Mapping ids are unknown until created: every mapping of the function's account and region."""
    return arns.function_home.arn("lambda", "event-source-mapping:*")


def _of_function(arns: TriggerArns) -> dict[str, dict[str, list[str]]]:
    """Limit mapping actions to mappings of this trigger's function."""
    return {"ArnLike": {"lambda:FunctionArn": sorted(arns.functions)}}


def _mapping_grants(arns: TriggerArns, *, write: tuple[str, ...] = ()) -> list[Grant]:
    grants = [
        Grant("ListMappings", ("lambda:ListEventSourceMappings",), ("*",)),
        Grant("GetFunctions", ("lambda:GetFunction",), arns.functions),
        Grant(
            "ReadMappings",
            ("lambda:GetEventSourceMapping", "lambda:ListTags"),
            (_mapping_arn(arns),),
            _of_function(arns),
        ),
    ]
    create = tuple(a for a in write if a == "lambda:CreateEventSourceMapping")
    change = tuple(a for a in write if a != "lambda:CreateEventSourceMapping")
    if create:  # a mapping that does not exist yet has no ARN: only the function condition can scope it
        grants.append(Grant("CreateMappings", create, ("*",), _of_function(arns)))
    if change:
        grants.append(Grant("ChangeMappings", change, (_mapping_arn(arns),), _of_function(arns)))
    return grants


def _sid(dest_type: str, what: str) -> str:
    return f"{what}{dest_type.capitalize()}Destinations"


def _resources(dest: Destination, resource: Resource) -> tuple[str, ...]:
    """The ARNs a template's ``resource`` names for this destination (none: the grant is left out)."""
    if resource == "queue":
        queue = dest.arn if destination_kind(dest.type).reads_from == "self" else dest.inspect_queue
        return (queue,) if queue else ()
    found = {
        "arn": dest.arn,
        "written": dest.written,
        "objects": dest.objects,
        "leases": f"{dest.arn}/{S3_LEASE_PREFIX}*",  # redrive's leases: outside Lambda's prefix
        "contents": f"{dest.arn}/*",
    }[resource]
    return (found,) if found else ()


def _from_templates(dest: Destination, templates: Iterable[GrantTemplate]) -> list[Grant]:
    return [
        Grant(t.sid, t.actions, resources) for t in templates if (resources := _resources(dest, t.resource))
    ]


def _destination_grants(dest: Destination, what: str) -> list[Grant]:
    """Grants on one destination (and its SNS inspect queue) for ``what``: read, create, delete,
    peek (read without consuming) or consume (delete what was redriven)."""
    kind = destination_kind(dest.type)
    tap = (dest.inspect_queue,) if dest.inspect_queue else ()
    if what in ("read", "create", "delete"):
        actions = {"read": "read_actions", "create": "create_actions", "delete": "delete_actions"}[what]
        grants = [Grant(_sid(dest.type, what.capitalize()), getattr(kind, actions), (dest.arn,))]
        if tap:
            grants.append(Grant(f"{what.capitalize()}InspectQueues", getattr(KINDS["sqs"], actions), tap))
        if what == "delete":
            grants += _from_templates(dest, kind.delete_grants)
        return grants
    if what == "consume":
        return _from_templates(dest, kind.consume_grants)
    grants = _from_templates(dest, kind.peek_grants)
    if _kms_key_arn(dest):
        grants.append(Grant("DecryptFailures", ("kms:Decrypt",), (str(dest.kms_key),)))
    return grants


_MAPPING_WRITE = (
    "lambda:CreateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:UpdateEventSourceMapping",
)


_REPLAY_MAPPING_WRITE = (
    "lambda:CreateEventSourceMapping",
    "lambda:DeleteEventSourceMapping",
    "lambda:TagResource",
)
"""``replay --engine lambda``: its temporary mapping, tagged at creation, of the spec's functions only."""


def operator_grants(command: str, arns: TriggerArns) -> list[Grant]:
    """What the operator running ``command`` needs for this trigger: exactly the calls it makes."""
    table = Grant("DescribeTables", ("dynamodb:DescribeTable",), (arns.table,))
    update = Grant("ToggleTableStreams", ("dynamodb:UpdateTable",), (arns.table,))
    dest = arns.destination
    managed = dest is not None and dest.managed
    if command in ("plan", "apply", "destroy", "status"):
        write = {"apply": _MAPPING_WRITE, "destroy": ("lambda:DeleteEventSourceMapping",)}.get(command, ())
        grants = [table, *_mapping_grants(arns, write=write)]
        grants += _destination_grants(dest, "read") if dest else []
        if command in ("plan", "apply"):  # the TRIM_HORIZON replay check reads the stream
            grants.append(Grant("ReadStreams", STREAM_READ, (arns.stream,)))
        if command in ("apply", "destroy"):
            grants.append(update)
        if command in ("apply", "destroy") and dest is not None and managed:
            grants += _destination_grants(dest, "create" if command == "apply" else "delete")
        grants += _alarm_grants(command, arns)
        if command == "status":
            grants.append(Grant("DescribeStreams", ("dynamodb:DescribeStream",), (arns.stream,)))
            grants.append(Grant("ReadDestinationMetrics", ("cloudwatch:GetMetricData",), ("*",)))
        return grants
    if command in ("inspect-dlq", "redrive"):
        grants = [table, Grant("ReadStreams", STREAM_READ, (arns.stream,))]
        grants += _destination_grants(dest, "peek") if dest else []
        if command == "redrive":
            grants.append(Grant("InvokeFunctions", ("lambda:InvokeFunction",), arns.functions))
            grants += _destination_grants(dest, "consume") if dest else []
        return grants
    if command in ("tail", "replay"):  # the trigger's live mapping (its batch size), then the stream
        write = _REPLAY_MAPPING_WRITE if command == "replay" else ()
        grants = [
            table,
            *_mapping_grants(arns, write=write),
            Grant("ReadStreams", STREAM_READ, (arns.stream,)),
        ]
        if command == "replay":
            grants.append(Grant("InvokeFunctions", ("lambda:InvokeFunction",), arns.functions))
            # --engine lambda watches its temporary mapping's IteratorAge
            grants.append(Grant("ReadReplayMetrics", ("cloudwatch:GetMetricData",), ("*",)))
        return grants
    raise ValueError(f"no operator policy for command {command!r}; known: {', '.join(OPERATOR_COMMANDS)}")


_ALARM_WRITE = {
    "apply": ("cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource"),
    "destroy": ("cloudwatch:DeleteAlarms",),
}


def _alarm_grants(command: str, arns: TriggerArns) -> list[Grant]:
    """The trigger's alarms, by name (``ddbtrigger-<trigger>-<metric>``; PutMetricAlarm with Tags needs
    TagResource). DescribeAlarms reads every trigger's alarms in one call by the prefix ``ddbtrigger-``,
    so it is granted on that prefix."""
    home = arns.function_home
    grants = [
        Grant(
            "DescribeAlarms", ("cloudwatch:DescribeAlarms",), (home.arn("cloudwatch", "alarm:ddbtrigger-*"),)
        )
    ]
    if command in _ALARM_WRITE:
        mine = home.arn("cloudwatch", f"alarm:ddbtrigger-{arns.trigger}-*")
        grants.append(Grant("ChangeAlarms", _ALARM_WRITE[command], (mine,)))
    return grants


def audit_policy(*, account_id: str | None = None, region: str | None = None) -> dict[str, Any]:
    """What ``audit`` needs: read-only, account-wide (it audits what no spec names), every region
    unless ``region`` narrows it. Lists, metrics and regions are unscopable; the rest is by ARN pattern.
    """
    where = Where(region or "*", account_id or PLACEHOLDER_ACCOUNT)
    grants = [
        Grant("ListMappingsAndFunctions", ("lambda:ListEventSourceMappings", "lambda:ListFunctions"), ("*",)),
        Grant("ListEnabledRegions", ("ec2:DescribeRegions",), ("*",)),
        Grant("ReadIteratorAge", ("cloudwatch:GetMetricData",), ("*",)),
        Grant("DescribeTables", ("dynamodb:DescribeTable",), (where.arn("dynamodb", "table/*"),)),
        Grant("CountQueueFailures", ("sqs:GetQueueAttributes", "sqs:GetQueueUrl"), (where.arn("sqs", "*"),)),
        Grant(
            "FindTopicQueues",
            ("sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"),
            (where.arn("sns", "*"),),
        ),
        Grant("CountBucketFailures", ("s3:ListBucket",), (f"arn:{where.partition}:s3:::*",)),
    ]
    return policy_document(grants)


def all_actions(document: dict[str, Any]) -> set[str]:
    """Every action a policy document allows (for tests and reviews)."""
    return {a for s in document["Statement"] for a in s["Action"]}

"""``policy``: least-privilege IAM policies for the spec, computed offline (no AWS call)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import SpecChoice
from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
    from rich.console import Console


class PolicyFor(StrEnum):
    """Which policy to print alone (as a bare IAM policy document in JSON mode)."""

    function_role = "function-role"
    plan = "plan"
    apply = "apply"
    destroy = "destroy"
    status = "status"
    inspect_dlq = "inspect-dlq"
    redrive = "redrive"
    audit = "audit"


AccountOpt = Annotated[
    str | None,
    typer.Option(
        "--account-id",
        help="The AWS account id to put in the ARNs (default: the placeholder ${AWS::AccountId}, "
        "ready for a CloudFormation !Sub).",
    ),
]
RegionOpt = Annotated[
    str | None,
    typer.Option(
        "--region",
        help="The region to put in the ARNs (default: the spec's region, else the placeholder ${AWS::Region}).",
    ),
]
ForOpt = Annotated[
    PolicyFor | None,
    typer.Option(
        "--for",
        help="Print only this policy: function-role, or an operator command. With --output json it is "
        "a bare IAM policy document (one per function for function-role).",
        case_sensitive=False,
    ),
]


def register(app: typer.Typer) -> None:
    app.command("policy")(policy)


@command
def policy(
    *,
    choice: SpecChoice,
    account_id: AccountOpt = None,
    region: RegionOpt = None,
    only: ForOpt = None,
    out: Output,
) -> None:
    """Print least-privilege IAM policies: the function role's, and the operator's for each command.

    Actions are never wildcards and resources are the ARNs the spec names (--for audit needs no spec:
    it is read-only and account-wide). Makes no AWS call. With --env, the environment's account_id
    and region fill in --account-id and --region.
    """
    from ddbtrigger.core.policy import build_policies
    from ddbtrigger.usecases.spec_file import read_spec, select_triggers

    if only is PolicyFor.audit:
        if choice.env is not None:  # no spec needed, but an environment names its account and region
            env_spec = read_spec(choice.file, choice.env)
            account_id = account_id or (env_spec.environment.account_id if env_spec.environment else None)
            region = region or env_spec.region
        _audit_policy(out, account_id, region)
        return
    spec = read_spec(choice.file, choice.env)
    if account_id is None and spec.environment is not None:
        account_id = spec.environment.account_id
    selected = select_triggers(spec, choice.trigger)
    policies = build_policies(spec, selected, account_id=account_id, region=region)
    document = policies.as_json()
    if only is PolicyFor.function_role:
        document = document["function_roles"]
        if len(document) == 1:
            document = next(iter(document.values()))
    elif only is not None:
        document = document["operator"][only.value]

    def draw(console: Console) -> None:
        for title, doc in _titled(policies.as_json(), only):
            console.print(_statements_table(title, doc))
        for note in policies.notes:
            console.print(f"note: {note}", markup=False)

    out.result(document, draw)


def _audit_policy(out: Output, account_id: str | None, region: str | None) -> None:
    from ddbtrigger.core.policy import audit_policy

    document = audit_policy(account_id=account_id, region=region)
    out.result(
        document, lambda console: console.print(_statements_table("operator: ddbtrigger audit", document))
    )


def _titled(document: dict[str, Any], only: PolicyFor | None) -> list[tuple[str, dict[str, Any]]]:
    """The policies to draw, each with its title, in the order an operator reads them."""
    out = []
    if only in (None, PolicyFor.function_role):
        out += [(f"function role of {name}", doc) for name, doc in document["function_roles"].items()]
    for name, doc in document["operator"].items():
        if only is None or only.value == name:
            out.append((f"operator: ddbtrigger {name}", doc))
    return out


def _statements_table(title: str, document: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=True)
    for column in ("sid", "actions", "resources"):
        table.add_column(column, overflow="fold")
    for statement in document["Statement"]:
        resources = "\n".join(statement["Resource"])
        condition = statement.get("Condition")
        if condition:
            resources += "\nwhen " + "; ".join(
                f"{key} {op} {', '.join(values)}"
                for op, keys in condition.items()
                for key, values in keys.items()
            )
        table.add_row(statement["Sid"], "\n".join(statement["Action"]), resources)
    return table

"""``export``: write a spec (YAML on stdout) for the event source mappings that already exist."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import DEFAULT_SPEC, Connection, EnvOpt, FileOpt
from ddbtrigger.cli.render import Output

if TYPE_CHECKING:
    from rich.console import Console


def register(app: typer.Typer) -> None:
    app.command("export")(export)


@command
def export(
    *,
    table: Annotated[str, typer.Option("--table", help="The table whose stream mappings to export.")],
    function: Annotated[
        str | None, typer.Option("--function", help="Only this function's mapping (name, name:alias or ARN).")
    ] = None,
    env: EnvOpt = None,
    file: FileOpt = DEFAULT_SPEC,
    aws: Connection,
    out: Output,
) -> None:
    """Write a spec for mappings that already exist, so `plan` on it shows no changes.

    With --env NAME, read them where environment NAME of the spec (--file) points (its profile,
    region, role), and write a spec whose environments: holds NAME; without a spec file, NAME is
    the command line's profile and region.
    """
    import yaml

    from ddbtrigger.usecases.export import export_spec, into_environment

    if env is None:
        result = export_spec(aws.factory, table=table, function=function)
    else:
        from ddbtrigger.usecases.spec_file import export_connection

        factory, entry = export_connection(
            file, env, profile=aws.profile, region=aws.region, endpoint_url=aws.endpoint_url
        )
        result = into_environment(export_spec(factory, table=table, function=function), env, entry)
    for warning in [*result.skipped, *result.warnings]:
        out.warn(warning)

    def draw(console: Console) -> None:
        import sys

        sys.stdout.write(yaml.safe_dump(result.document, sort_keys=False, default_flow_style=False))
        sys.stdout.flush()

    out.result(result.document, draw)

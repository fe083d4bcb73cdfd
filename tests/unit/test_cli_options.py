"""Shared options are declared once (cli/options.py): a command asks for a group by type and the
boundary puts the group's options where that parameter stands, then hands the command the group."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.main import get_command
from typer.testing import CliRunner

from ddbtrigger.cli.boundary import command
from ddbtrigger.cli.options import Connection, SpecChoice, Workspace
from ddbtrigger.cli.render import Output

FirstOpt = Annotated[bool, typer.Option("--first", help="Before the groups.")]
LastOpt = Annotated[int, typer.Option("--last", help="After the groups.")]


def _app(seen: dict[str, Any]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    @command
    def probe(*, first: FirstOpt = False, ws: Workspace, out: Output, last: LastOpt = 1) -> None:
        """Record what the boundary handed over."""
        seen.update(first=first, ws=ws, out=out, last=last)
        if last == 2:
            seen["spec"] = ws.spec  # opens the workspace

    @app.command()
    @command
    def other(*, choice: SpecChoice, aws: Connection) -> None:
        """Two smaller groups."""
        seen.update(choice=choice, aws=aws)

    return app


def test_a_group_options_stand_where_its_parameter_stands() -> None:
    root: Any = get_command(_app({}))
    names = [p.name for p in root.commands["probe"].params]
    assert names == [
        "first",
        "file",
        "env",
        "trigger",
        "mapping",  # spec-less targeting (issue 15): a Workspace may come from live mappings instead
        "table",
        "function",
        "profile",
        "region",
        "endpoint_url",
        "output",
        "last",
    ]
    assert [p.name for p in root.commands["other"].params] == [
        "file",
        "env",
        "trigger",
        "profile",
        "region",
        "endpoint_url",
    ]


def test_the_command_gets_its_output_and_a_workspace_not_yet_opened(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    args = ["probe", "-f", str(tmp_path / "absent.yaml"), "-t", "a", "-t", "b", "--region", "eu-west-1"]
    result = CliRunner().invoke(_app(seen), [*args, "--endpoint-url", "http://h:1", "-o", "json"])
    assert result.exit_code == 0, result.output
    ws = seen["ws"]
    assert (ws.file, ws.trigger, ws.region, ws.endpoint_url) == (
        tmp_path / "absent.yaml",
        ["a", "b"],
        "eu-west-1",
        "http://h:1",
    )
    assert isinstance(seen["out"], Output) and seen["out"].json
    assert "opened" not in vars(ws)  # the spec file does not exist, and nothing tried to read it


def test_the_workspace_opens_on_first_use_inside_the_boundary(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    result = CliRunner().invoke(_app(seen), ["probe", "-f", str(tmp_path / "absent.yaml"), "--last", "2"])
    assert result.exit_code == 2  # a SpecError, reported by the boundary as a usage-class error
    assert "no such file" in result.output
    assert "spec" not in seen


def test_smaller_groups_are_built_from_their_own_options(monkeypatch: Any) -> None:
    for name in ("AWS_ENDPOINT_URL", "DDBTRIGGER_FILE", "DDBTRIGGER_ENV"):
        monkeypatch.delenv(name, raising=False)
    seen: dict[str, Any] = {}
    result = CliRunner().invoke(_app(seen), ["other", "-t", "x", "--profile", "p"])
    assert result.exit_code == 0, result.output
    assert seen["choice"] == SpecChoice(Path("ddbtrigger.yaml"), None, ["x"])  # no --env given
    assert seen["aws"] == Connection("p", None, None)


def _probe(args: list[str], seen: dict[str, Any] | None = None) -> Any:
    return CliRunner().invoke(_app({} if seen is None else seen), ["probe", *args])


def test_live_targeting_needs_no_spec_file_and_names_what_it_targets(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no ddbtrigger.yaml here
    monkeypatch.setenv("DDBTRIGGER_ENV", "prod")  # a shell default, not a choice: ignored
    seen: dict[str, Any] = {}
    result = _probe(["--table", "orders", "--function", "audit"], seen)
    assert result.exit_code == 0, result.output
    ws = seen["ws"]
    assert ws.targeted and ws.target_args == ["--table", "orders", "--function", "audit"]
    assert not ws.all_environments and "opened" not in vars(ws)


def test_live_targeting_excludes_the_spec_options() -> None:
    for args, words in (
        (["--mapping", "u-1", "--file", "x.yaml"], "--mapping reads the trigger from AWS"),
        (["--table", "orders", "--trigger", "a", "--env", "dev"], "--env, --trigger"),
        (["--mapping", "u-1", "--table", "orders"], "either --mapping UUID or --table TABLE"),
        (["--mapping", "u-1", "--function", "f"], "give --table TABLE too"),
        (["--function", "f"], "give --table TABLE too"),
    ):
        result = _probe(args)
        assert result.exit_code == 2, (args, result.output)
        assert words in " ".join(result.output.split()), (args, result.output)

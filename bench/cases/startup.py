"""Start-up: ``ddbtrigger --help`` and ``ddbtrigger validate`` against a bare typer app (the floor)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from bench.context import Ctx
from bench.harness import REPO, Goal, Proc, Row, alternate, ddbtrigger_cmd, floor_cmd, run_proc


def _floor_argv(ctx: Ctx) -> list[str]:
    """The committed floor, or a fresh one when the commands changed since it was generated."""
    floor = floor_cmd("floor_cli_main.py")
    ours = run_proc([*ddbtrigger_cmd(), "--help"], count_calls=False).check().stdout
    theirs = run_proc([*floor, "--help"], count_calls=False).check().stdout
    if _strip_usage(ours) == _strip_usage(theirs):
        return floor
    from bench.gen_floor_cli import generate

    directory = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    (directory / "floor_cli.py").write_text(generate())
    path = directory / "floor_cli_main.py"
    path.write_text(Path(floor[1]).read_text())
    ctx.notes.append(
        "bench/floor_cli.py was stale (the commands changed): a regenerated floor was used; "
        "run `python -m bench.gen_floor_cli` to refresh it"
    )
    return [floor[0], str(path)]


def _strip_usage(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "Usage:" not in line)


def _run(argv: list[str]) -> Proc:
    return run_proc(argv, count_calls=False).check()


def run(ctx: Ctx) -> list[Row]:
    repeats = ctx.size(max(ctx.repeats, 15), 2)
    floor_help = functools.partial(_run, [*_floor_argv(ctx), "--help"])
    example = str(REPO / "config.example.yaml")
    rows = []
    for case, args, limit in (
        ("--help", ["--help"], 1.1),
        ("validate -f config.example.yaml", ["validate", "-f", example], 1.5),
    ):
        ctx.say(f"startup: {case} × {repeats}")
        tool_run = functools.partial(_run, [*ddbtrigger_cmd(), *args])
        tool_run(), floor_help()  # warm the page cache and .pyc files
        tool, floor = alternate(repeats, tool_run, floor_help, floor_label="floor_cli --help")
        row = Row("startup", case, tool, floor)
        if floor:
            row.figures.append(f"peak RSS {tool.rss_mb:.0f} MB (floor {floor.rss_mb:.0f} MB)")
        row.goals.append(Goal("wall vs floor", row.ratio or 0.0, limit))
        rows.append(row)
    return rows

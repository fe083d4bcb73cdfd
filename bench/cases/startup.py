"""Start-up: ``ddbtrigger --help`` and ``ddbtrigger validate`` against a bare typer app (the floor), and
``ddbtrigger --version`` against ``python -c "import typer"`` (issue 19)."""

from __future__ import annotations

import functools
import sys
import tempfile
from pathlib import Path

from bench.context import Ctx
from bench.harness import REPO, Goal, Proc, Row, ddbtrigger_cmd, floor_cmd, interleave, run_proc


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


IMPORT_TYPER = [sys.executable, "-c", "import typer"]


def run(ctx: Ctx) -> list[Row]:
    repeats = ctx.size(max(ctx.repeats, 15), 2)
    floor = _floor_argv(ctx)
    example = str(REPO / "config.example.yaml")
    validate = ["validate", "-f", example]
    rows = []
    for case, args, (floor_label, floor_argv), limit in (
        ("--help", ["--help"], ("floor_cli --help", [*floor, "--help"]), 1.1),
        ("--version", ["--version"], ('python -c "import typer"', IMPORT_TYPER), 1.1),
        ("validate -f config.example.yaml", validate, ("floor_cli --help", [*floor, "--help"]), 1.5),
    ):
        ctx.say(f"startup: {case} × {repeats}")
        tool_run = functools.partial(_run, [*ddbtrigger_cmd(), *args])
        subjects = [("ddbtrigger", tool_run), (floor_label, functools.partial(_run, floor_argv))]
        if args == validate:  # typer itself builds pydantic adapters to run any command: a second floor
            subjects.append(("floor_cli validate", functools.partial(_run, [*floor, *validate])))
        for _, fn in subjects:
            fn()  # warm the page cache and .pyc files
        tool, fl, *more = interleave(repeats, subjects)
        row = Row("startup", case, tool, fl)
        row.figures.append(f"peak RSS {tool.rss_mb:.0f} MB (floor {fl.rss_mb:.0f} MB)")
        for other in more:
            row.figures.append(
                f"vs {other.label} (typer parsing options, no work; {other.median:.3f} s): "
                f"{tool.median / other.median:.2f}× wall, {tool.cpu / other.cpu:.2f}× CPU"
            )
        row.goals.append(Goal("wall vs floor", row.ratio or 0.0, limit))
        rows.append(row)
    return rows

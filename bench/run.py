"""``python -m bench all [--quick]`` or ``python -m bench NAME ...``: run, print the table, save JSON.

``python -m bench compare BASE HEAD`` compares two commits instead (``bench/compare.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.context import Ctx
from bench.harness import REPO, BenchError, Row, Unavailable, render_calls, render_markdown

BENCHES = ("startup", "plan", "status", "inspect-dlq", "redrive", "replay", "audit")  # plan includes apply


def _runner(name: str) -> Callable[[Ctx], list[Row]]:
    import importlib

    module = importlib.import_module(f"bench.cases.{name.replace('-', '_')}")
    runner: Callable[[Ctx], list[Row]] = module.run
    return runner


def machine() -> dict[str, Any]:
    """What the figures depend on."""
    import boto3
    import moto

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "processor": _cpu_model(),
        "boto3": boto3.__version__,
        "moto": moto.__version__,
        "commit": _commit(),
    }


def _commit() -> str:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
        )
        return out.stdout.strip() or "?"
    except OSError:
        return "?"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="+", choices=("all", *BENCHES), help="benchmarks to run")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one or two repeats (CI)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per command (default 3; 1 quick)")
    parser.add_argument(
        "--server",
        choices=("auto", "sandbox", "moto"),
        default="auto",
        help="local AWS: ddbtrigger's sandbox, or plain moto with a latency shim",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    return parser.parse_args(argv)


def run_one(name: str, ctx: Ctx) -> list[Row]:
    """A benchmark's rows; a missing feature is a skipped row, a failing command an error row."""
    try:
        return _runner(name)(ctx)
    except Unavailable as e:
        return [Row(name, "–", skipped=str(e))]
    except BenchError as e:
        return [Row(name, "–", error=str(e))]
    except Exception as e:  # a bug in the benchmark itself: report it, run the others
        import traceback

        traceback.print_exc()
        return [Row(name, "–", error=f"{type(e).__name__}: {e}")]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["compare"]:  # python -m bench compare BASE HEAD: two commits, see bench/compare.py
        from bench.compare import main as compare

        return compare(argv[1:])
    args = parse(argv)
    names = list(BENCHES) if "all" in args.names else list(dict.fromkeys(args.names))
    ctx = Ctx(quick=args.quick, repeats=args.repeats or (1 if args.quick else 3), server=args.server)
    started, load_before = time.perf_counter(), os.getloadavg()
    rows: list[Row] = []
    for name in names:
        new = run_one(name, ctx)
        rows += new
        ctx.say(f"{name} done:\n{render_markdown(new)}")  # so a long run shows its figures as it goes
    elapsed = time.perf_counter() - started
    info = machine()
    info["load_average_before"] = [round(x, 2) for x in load_before]
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    print(f"## ddbtrigger benchmarks{' (--quick)' if args.quick else ''}\n")
    print(
        f"Python {info['python']} on {info['cpus']} CPUs ({info['processor']}), {info['system']}; "
        f"boto3 {info['boto3']}, moto {info['moto']}; commit {info['commit']}; {elapsed:.0f} s; load average "
        f"{info['load_average_before'][0]} before, {info['load_average_after'][0]} after\n"
    )
    print(render_markdown(rows))
    print("\n### API calls per operation (median run)\n")
    print(render_calls(rows))
    for note in ctx.notes:
        print(f"\nnote: {note}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "quick": args.quick,
                    "elapsed_s": elapsed,
                    "rows": [r.as_json() for r in rows],
                    "notes": ctx.notes,
                },
                indent=2,
            )
        )
    return 1 if any(r.error for r in rows) else 0

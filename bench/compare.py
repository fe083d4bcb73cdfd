"""``python -m bench compare BASE HEAD``: the quick set on two commits, interleaved, ratios compared.

Each commit is checked out into a temporary ``git worktree add --detach`` and benchmarked by its own
``python -m bench NAME`` with that tree first on ``PYTHONPATH`` and as the working directory (same
interpreter, same venv): its ddbtrigger, its sandbox, its floors. Every run records which ``ddbtrigger``
it imported (a proof line; a run that did not use its own tree stops the comparison), and the console
script the harness spawns is checked once per side the same way.

The two commits run benchmark by benchmark, alternately, and who goes first swaps every benchmark
(BASE HEAD, HEAD BASE, ...), so a busy stretch of the machine hits both. Only ratios to the floor and API
calls are compared (see ``bench/comparison.py``). It is a report: it exits 0 whatever it finds unless
it could not run (1) or was misused (2); ``--fail-on-regression`` exits 3 when a case got worse.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.comparison import THRESHOLD, compare_rows, render, summary
from bench.harness import REPO, ddbtrigger_cmd

RUN_TIMEOUT_S = 900

# Runs one benchmark in the side's tree and writes the ddbtrigger module it imported (the proof).
_WRAPPER = """import os, runpy, sys
sys.argv = ["bench", *sys.argv[1:]]
try:
    runpy.run_module("bench", run_name="__main__", alter_sys=True)
finally:
    import ddbtrigger
    with open(os.environ["BENCH_COMPARE_PROOF"], "w") as proof:
        proof.write(ddbtrigger.__file__ or "?")
"""

# Runs the console script the harness spawns (``--version``) and prints the ddbtrigger it imported.
_SCRIPT_PROOF = """import atexit, runpy, sys
script = sys.argv[1]
atexit.register(lambda: print(sys.modules["ddbtrigger"].__file__))
sys.argv = [script, "--version"]
runpy.run_path(script, run_name="__main__")
"""


class CompareError(Exception):
    """The comparison itself could not run (not a finding about the code): exit 1."""


class UsageError(CompareError):
    """A bad commit or benchmark name: exit 2."""


@dataclass
class Side:
    """One commit under comparison, checked out at ``tree``."""

    label: str  # BASE or HEAD
    rev: str
    commit: str = ""
    tree: Path = Path()
    benches: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        """This tree alone on ``PYTHONPATH`` (not the caller's: it may point at another checkout)."""
        return {**os.environ, "PYTHONPATH": str(self.tree), **extra}

    def python(self, code: str, *args: str, timeout: float = 120) -> str:
        proc = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=self.tree,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode:
            raise CompareError(f"{self.label} ({self.rev}): {(proc.stderr.strip() or '?').splitlines()[-1]}")
        return proc.stdout.strip()


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode:
        raise CompareError(f"git {' '.join(args)}: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout.strip()


def resolve(repo: Path, rev: str) -> str:
    try:
        return git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except CompareError:
        raise UsageError(f"{rev!r} is not a commit of {repo}") from None


@contextlib.contextmanager
def worktrees(repo: Path, commits: Sequence[str]) -> Iterator[list[Path]]:
    """One detached worktree per commit in a temporary directory; all removed on exit, error or Ctrl-C."""
    root = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    made: list[Path] = []
    try:
        for i, commit in enumerate(commits):
            path = root / f"tree{i}"
            git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)
            made.append(path)
        yield made
    finally:
        for path in made:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force", str(path)], check=False)
        subprocess.run(["git", "-C", str(repo), "worktree", "prune"], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _say(message: str) -> None:
    print(f"[compare] {message}", file=sys.stderr, flush=True)


def _check_proof(side: Side, module_file: str, what: str) -> str:
    """The proof line; a run that imported another checkout's ddbtrigger invalidates the comparison."""
    line = f"{side.label} {side.commit[:9]} {what}: ddbtrigger from {module_file}"
    _say(line)
    if not Path(module_file).resolve().is_relative_to(side.tree.resolve()):
        raise CompareError(f"{line}, not from its worktree {side.tree}: the comparison would be void")
    return line


def prepare(side: Side) -> list[str]:
    """The side's benchmark names, and proof that its console script imports its tree."""
    side.benches = side.python("from bench.run import BENCHES; print(' '.join(BENCHES))").split()
    script = ddbtrigger_cmd()[-1] if len(ddbtrigger_cmd()) == 1 else ""
    if not script:
        return []
    last = side.python(_SCRIPT_PROOF, script).splitlines()[-1:]
    return [_check_proof(side, last[0] if last else "?", f"console script {Path(script).name}")]


def run_bench(side: Side, name: str, work: Path, extra: Sequence[str]) -> tuple[list[dict[str, Any]], str]:
    """``python -m bench NAME --json`` in the side's tree: its result rows and its proof line."""
    out, proof, log = (work / f"{side.label}-{name}.{ext}" for ext in ("json", "proof", "log"))
    _say(f"{side.label} {side.commit[:9]}: python -m bench {name} {' '.join(extra)}")
    started = time.perf_counter()
    with log.open("w") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, name, "--json", str(out), *extra],
            cwd=side.tree,
            env=side.env(BENCH_COMPARE_PROOF=str(proof)),
            stdout=stdout,
        )
        returncode = _wait(proc)
    if not proof.exists():
        raise CompareError(
            f"{side.label}: python -m bench {name} exited {returncode} before importing ddbtrigger"
        )
    line = _check_proof(side, proof.read_text(), f"bench {name} ({time.perf_counter() - started:.0f} s)")
    if out.exists():
        return json.loads(out.read_text())["rows"], line
    tail = (log.read_text().strip().splitlines() or ["no output"])[-1]
    return [{"bench": name, "case": "–", "ratio": None, "error": f"exited {returncode}: {tail}"}], line


def _wait(proc: subprocess.Popen[bytes]) -> int:
    """Wait for a run; on Ctrl-C or an error stop it before the worktrees go.

    SIGINT first (the bench stops its local AWS and cleans its temporary files), then SIGTERM (SIGINT
    is ignored by a run started in the background of a script), then SIGKILL.
    """
    try:
        return proc.wait(timeout=RUN_TIMEOUT_S)
    except BaseException:
        for stop in (functools.partial(proc.send_signal, signal.SIGINT), proc.terminate, proc.kill):
            stop()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
                break
        raise


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench compare", description=__doc__.split("\n")[0])
    parser.add_argument("base", metavar="BASE", help="the commit to compare against (e.g. HEAD~1, main)")
    parser.add_argument("head", metavar="HEAD", help="the commit under review")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", default=True, help="the quick set (default)")
    size.add_argument("--full", dest="quick", action="store_false", help="full sizes (~25 min per commit)")
    parser.add_argument("--cases", default="", help="comma-separated benchmarks (default: all of both)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per command (default: the bench's)")
    parser.add_argument(
        "--threshold", type=float, default=THRESHOLD, help="flag changes beyond (0.2 = 20 %%)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the comparison here")
    parser.add_argument("--fail-on-regression", action="store_true", help="exit 3 when a case got worse")
    return parser.parse_args(argv)


def _names(base: Side, head: Side, wanted: str) -> list[str]:
    known = list(dict.fromkeys(head.benches + base.benches))
    names = [n.strip() for n in wanted.split(",") if n.strip()] or known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return names


def measure(base: Side, head: Side, args: argparse.Namespace, work: Path) -> list[str]:
    """Every benchmark on both sides, alternately, first side swapping each time; the proof lines."""
    proofs = prepare(base) + prepare(head)
    extra = (["--quick"] if args.quick else []) + (["--repeats", str(args.repeats)] if args.repeats else [])
    for i, name in enumerate(_names(base, head, args.cases)):
        for side in (base, head) if i % 2 == 0 else (head, base):
            if name not in side.benches:
                _say(f"{side.label} {side.commit[:9]} has no benchmark {name!r}")
                continue
            rows, proof = run_bench(side, name, work, extra)
            side.rows += rows
            proofs.append(proof)
    return proofs


def report(base: Side, head: Side, args: argparse.Namespace, proofs: list[str], elapsed: float) -> int:
    changes = compare_rows(base.rows, head.rows, args.threshold)
    load = os.getloadavg()[0]
    print(f"## bench compare{' (--quick)' if args.quick else ''}\n")
    print(
        f"BASE {base.commit[:9]} ({base.rev}) vs HEAD {head.commit[:9]} ({head.rev}); ratio = ddbtrigger / "
        f"floor (lower is better); flagged beyond {args.threshold * 100:g} %; {elapsed:.0f} s; "
        f"load average {load:.2f} at the end\n"
    )
    print(render(changes))
    print(f"\n{summary(changes, args.threshold)}\n\nWhich code ran:\n" + "\n".join(f"- {p}" for p in proofs))
    if args.json:
        doc = {
            "base": {"rev": base.rev, "commit": base.commit},
            "head": {"rev": head.rev, "commit": head.commit},
            "quick": args.quick,
            "threshold": args.threshold,
            "elapsed_s": elapsed,
            "load_average_after": load,
            "proofs": proofs,
            "changes": [c.as_json() for c in changes],
        }
        args.json.write_text(json.dumps(doc, indent=2))
    return 3 if args.fail_on_regression and any(c.regression for c in changes) else 0


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # so the worktrees are removed on SIGTERM too


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    started = time.perf_counter()
    try:
        base, head = Side("BASE", args.base), Side("HEAD", args.head)
        for side in (base, head):
            side.commit = resolve(REPO, side.rev)
        with (
            worktrees(REPO, [base.commit, head.commit]) as (base.tree, head.tree),
            tempfile.TemporaryDirectory(prefix="bench-compare-runs-") as work,
        ):
            proofs = measure(base, head, args, Path(work))
        return report(base, head, args, proofs, time.perf_counter() - started)
    except UsageError as e:
        print(f"bench compare: {e}", file=sys.stderr)
        return 2
    except CompareError as e:
        print(f"bench compare failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench compare: interrupted; worktrees removed", file=sys.stderr)
        return 130

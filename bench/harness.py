"""Measuring: subprocess runs (wall time, peak RSS, API calls), series statistics, goals, the table.

Every figure comes from a subprocess, because that is what a user runs: interpreter start-up and imports
are part of the cost, for ddbtrigger and for its floor alike. The tool and its floor are run alternately
in one loop, so a slow moment of the machine hits both, and the ratio is taken from the medians.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
HOOK_DIR = BENCH_DIR / "_hook"


class BenchError(Exception):
    """A benchmarked command failed: the benchmark found a bug, or its fixture is wrong."""


class Unavailable(Exception):
    """The feature a benchmark measures does not exist (yet): the row is skipped, not failed."""


@dataclass
class Proc:
    """One subprocess run."""

    argv: list[str]
    wall: float
    returncode: int
    stdout: str
    stderr: str
    calls: Counter[str]
    rss_mb: float
    cpu: float = float("nan")
    server_cpu: float = float("nan")

    def check(self, *ok_codes: int) -> Proc:
        if self.returncode not in (ok_codes or (0,)):
            tail = (self.stderr.strip().splitlines() or self.stdout.strip().splitlines() or ["?"])[-1]
            raise BenchError(f"{' '.join(self.argv[:3])}… exited {self.returncode}: {tail[:300]}")
        return self

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except ValueError as e:
            raise BenchError(f"{' '.join(self.argv[:3])}… printed no JSON document: {e}") from None


def base_env() -> dict[str, str]:
    """Fake credentials and no user profile: benchmarks never reach a real account."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DDBTRIGGER_"))}
    env.update(
        AWS_ACCESS_KEY_ID="AKIAFAKEDDBTRIGGERB1",
        AWS_SECRET_ACCESS_KEY="fakeBenchSecret000000000000",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        NO_COLOR="1",
        COLUMNS="160",
    )
    return env


_COMPILED: set[Path] = set()


def byte_compile(env: dict[str, str]) -> None:
    """Write the bytecode cache of the ddbtrigger a command will import, and of the floors' modules,
    once per tree: as ``pip install`` does for an installed package. Under ``PYTHONDONTWRITEBYTECODE``
    (set in some shells) an editable checkout never gets one, and every run would compile ddbtrigger's
    modules from source (~60-75 ms of CPU for ``plan``) while the floors' libraries load theirs."""
    trees = [REPO, *(Path(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    dirs = [BENCH_DIR, *(t / "ddbtrigger" for t in trees if (t / "ddbtrigger" / "__init__.py").exists())]
    for directory in dirs:
        if directory not in _COMPILED:
            import compileall

            compileall.compile_dir(directory, quiet=2)
            _COMPILED.add(directory)


def ddbtrigger_cmd() -> list[str]:
    """The installed console script next to this interpreter (what users run)."""
    script = Path(sys.executable).with_name("ddbtrigger")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ddbtrigger"]


def floor_cmd(name: str) -> list[str]:
    return [sys.executable, str(BENCH_DIR / name)]


def run_proc(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    count_calls: bool = True,
    timeout: float = 900,
) -> Proc:
    """Run once: wall time around spawn..reap, the command's own peak RSS, its API calls.

    Peak RSS comes from a small launcher (GNU time, else a bare Python) that waits for the command: the
    kernel charges a child with its parent's peak RSS at exec (fork/vfork share or copy the parent's
    memory), so spawning straight from this process, which holds the emulator, would report this
    process's size instead of the command's.
    """
    full_env = {**base_env(), **(env or {})}
    byte_compile(full_env)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        calls_file = Path(tmp) / "calls.json"
        if count_calls:
            full_env["BENCH_CALLS_FILE"] = str(calls_file)
            full_env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(HOOK_DIR), full_env.get("PYTHONPATH", "")) if p
            )
        out_path, err_path, rss_path = Path(tmp) / "out", Path(tmp) / "err", Path(tmp) / "rss"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            start, server_start = time.perf_counter(), time.process_time()
            proc = subprocess.Popen(
                [*_launcher(rss_path), *argv],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=full_env,
                cwd=cwd or REPO,
                start_new_session=True,
            )
            status = _reap(proc, timeout)
            wall, server_cpu = time.perf_counter() - start, time.process_time() - server_start
        calls: Counter[str] = Counter()
        if calls_file.exists():
            calls.update(json.loads(calls_file.read_text() or "{}"))
        return Proc(
            list(argv),
            wall,
            status,
            out_path.read_text(errors="replace"),
            err_path.read_text(errors="replace"),
            calls,
            *_read_usage(rss_path),
            server_cpu,
        )


_PY_LAUNCHER = """import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(f"{usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def _launcher(rss_path: Path) -> list[str]:
    gnu_time = Path("/usr/bin/time")
    if gnu_time.exists():
        return [str(gnu_time), "-f", "%M %U %S", "-o", str(rss_path)]
    return [sys.executable, "-S", "-c", _PY_LAUNCHER, str(rss_path)]


def _read_usage(path: Path) -> tuple[float, float]:
    """Peak RSS in MiB and CPU seconds (user + system) from the launcher's line.

    GNU time may put a 'Command exited with non-zero status' line first.
    """
    try:
        rss_kb, user, system = path.read_text().strip().splitlines()[-1].split()
        return float(rss_kb) / 1024, float(user) + float(system)
    except (OSError, ValueError, IndexError):
        return float("nan"), float("nan")


def _reap(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """Block until the command ends (no polling delay); kill its whole group after ``timeout``."""
    timed_out: list[bool] = []

    def kill() -> None:
        timed_out.append(True)
        os.killpg(proc.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        _, status = os.waitpid(proc.pid, 0)
    finally:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if timed_out:
        raise BenchError(f"{' '.join(map(str, proc.args))[:200]} timed out after {timeout:.0f} s")
    return proc.returncode


@dataclass
class Series:
    """Repeated runs of one command."""

    label: str
    runs: list[Proc] = field(default_factory=list)

    @property
    def walls(self) -> list[float]:
        return [r.wall for r in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        """Median CPU seconds: less sensitive than wall time to a busy machine."""
        return statistics.median(r.cpu for r in self.runs)

    @property
    def server_cpu(self) -> float:
        """Median CPU seconds of this process (the local AWS) while the command ran."""
        return statistics.median(r.server_cpu for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.rss_mb for r in self.runs)

    @property
    def calls(self) -> Counter[str]:
        """Calls of the median run (every run makes the same calls when the tool is deterministic)."""
        ordered = sorted(self.runs, key=lambda r: r.wall)
        return ordered[len(ordered) // 2].calls

    def summary(self) -> str:
        return f"{self.median:.3f} ({min(self.walls):.3f}–{max(self.walls):.3f})"

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "walls": self.walls,
            "median": self.median,
            "min": min(self.walls),
            "max": max(self.walls),
            "peak_rss_mb": round(self.rss_mb, 1),
            "cpu_median": self.cpu,
            "local_aws_cpu_median": self.server_cpu,
            "calls": dict(self.calls),
        }


@dataclass
class Goal:
    """A goal from issue 8: ``value <= limit`` (or ``>=`` when higher is better)."""

    what: str
    value: float
    limit: float
    higher_is_better: bool = False

    @property
    def met(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit

    def text(self) -> str:
        op = "≥" if self.higher_is_better else "≤"
        return f"{self.what} {self.value:.2f} {op} {self.limit:g} {'✓' if self.met else '✗ MISSED'}"


@dataclass
class Row:
    """One line of the table: a case, the tool's series, the floor's, figures and goals."""

    bench: str
    case: str
    tool: Series | None = None
    floor: Series | None = None
    figures: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.tool and self.floor and self.tool.runs and self.floor.runs:
            return self.tool.median / self.floor.median
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "bench": self.bench,
            "case": self.case,
            "ratio": self.ratio,
            "tool": self.tool.as_json() if self.tool and self.tool.runs else None,
            "floor": self.floor.as_json() if self.floor and self.floor.runs else None,
            "figures": self.figures,
            "error": self.error,
            "skipped": self.skipped,
            "goals": [
                {
                    "what": g.what,
                    "value": g.value,
                    "limit": g.limit,
                    "met": g.met,
                    "higher_is_better": g.higher_is_better,
                }
                for g in self.goals
            ],
        }


def interleave(
    repeats: int,
    subjects: Sequence[tuple[str, Callable[[], Proc]]],
    *,
    before: Callable[[], None] | None = None,
) -> list[Series]:
    """Run every subject once per round, rotating who goes first; ``before`` resets the fixture."""
    series = [Series(label) for label, _ in subjects]
    for i in range(repeats):
        for k in range(len(subjects)):
            j = (i + k) % len(subjects)
            if before:
                before()
            series[j].runs.append(subjects[j][1]())
    return series


def alternate(
    repeats: int,
    tool: Callable[[], Proc],
    floor: Callable[[], Proc],
    *,
    before: Callable[[], None] | None = None,
    tool_label: str = "ddbtrigger",
    floor_label: str = "floor",
) -> tuple[Series, Series]:
    """The tool and its floor, alternately."""
    tool_s, floor_s = interleave(repeats, [(tool_label, tool), (floor_label, floor)], before=before)
    return tool_s, floor_s


def per_unit_calls(calls: Counter[str], units: int) -> str:
    total = sum(calls.values())
    return f"{total / units:.2f}" if units else str(total)


def render_markdown(rows: list[Row]) -> str:
    """The results table (Markdown, so BENCHMARKS.md can hold it as printed)."""
    lines = [
        "| bench | case | ddbtrigger s median (min–max) | floor s median (min–max) | ratio | "
        "figures | goals |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if row.skipped or row.error:
            status = f"skipped: {row.skipped}" if row.skipped else f"ERROR: {row.error}"
            lines.append(f"| {row.bench} | {row.case} | – | – | – | {status} | – |")
            continue
        tool = row.tool.summary() if row.tool and row.tool.runs else "–"
        floor = row.floor.summary() if row.floor and row.floor.runs else "–"
        ratio = f"{row.ratio:.2f}×" if row.ratio is not None else "–"
        figures = list(row.figures)
        if row.tool and row.tool.runs:
            cpu = f"CPU {row.tool.cpu:.2f} s"
            if row.floor and row.floor.runs:
                cpu += f" (floor {row.floor.cpu:.2f} s, {row.tool.cpu / row.floor.cpu:.2f}×)"
            figures.append(cpu)
            if row.tool.server_cpu > 0.05:
                aws = f"local AWS CPU {row.tool.server_cpu:.2f} s"
                if row.floor and row.floor.runs:
                    aws += f" (floor {row.floor.server_cpu:.2f} s)"
                figures.append(aws)
        goals = "; ".join(g.text() for g in row.goals) or "–"
        lines.append(
            f"| {row.bench} | {row.case} | {tool} | {floor} | {ratio} | "
            f"{'; '.join(figures) or '–'} | {goals} |"
        )
    return "\n".join(lines)


def render_calls(rows: list[Row]) -> str:
    """API calls per operation for each measured command (median run)."""
    out = ["| bench | case | who | calls | per operation |", "|---|---|---|---|---|"]
    for row in rows:
        for series in (row.tool, row.floor):
            if not series or not series.runs or not series.calls:
                continue
            ops = ", ".join(f"{op} {n}" for op, n in sorted(series.calls.items()))
            out.append(
                f"| {row.bench} | {row.case} | {series.label} | {sum(series.calls.values())} | {ops} |"
            )
    return "\n".join(out)

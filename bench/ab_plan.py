"""No-op ``plan`` (N=1, N=50) and ``status`` (N=50) at 20 ms: another tree's ddbtrigger against this
tree's, interleaved round by round against one sandbox (order reversed every round). Reports the
median CPU (user + system of the command) and wall time of each, and the API calls of the first round.
``python -m bench.ab_plan /path/to/worktree/of/BASE [ROUNDS]``.

CPU is what these cases are bound by (issue 19), and it moves least on a shared machine; ``bench
compare`` runs each commit's benchmarks one after the other, so minutes of different load can fall
between the two sides of one case. Here both sides run in the same rounds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import fixtures as fx
from bench.env import IDLE_POLL, local_aws
from bench.harness import REPO, Proc, ddbtrigger_cmd, run_proc

SIZE = 50


def main() -> None:
    base_tree, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
    trees = {"base": base_tree, "head": str(REPO)}
    with (
        tempfile.TemporaryDirectory() as tmp,
        local_aws("sandbox", latency_ms=20, poll_interval=IDLE_POLL) as aws,
    ):
        trigs = fx.triggers("abplan", SIZE)
        fx.create_tables_and_functions(aws, trigs)
        specs = {}
        for n in (1, SIZE):
            (Path(tmp) / f"n{n}").mkdir()
            specs[n] = fx.write_spec(Path(tmp) / f"n{n}", trigs[:n])
        fx.apply(aws, specs[SIZE])
        cases = {
            "plan N=1": ["plan", "-f", str(specs[1])],
            f"plan N={SIZE}": ["plan", "-f", str(specs[SIZE])],
            f"status N={SIZE}": ["status", "-f", str(specs[SIZE])],
        }
        for case, args in cases.items():
            argv = [*ddbtrigger_cmd(), *args, "-o", "json", "--endpoint-url", aws.endpoint_url]
            compare_rounds(case, rounds, {name: runner_in(argv, tree) for name, tree in trees.items()})


def runner_in(argv: list[str], tree: str) -> Callable[[], Proc]:
    return lambda: run_proc(argv, env={"PYTHONPATH": tree}).check()


def compare_rounds(case: str, rounds: int, subjects: dict[str, Callable[[], Proc]]) -> None:
    cpu: dict[str, list[float]] = {k: [] for k in subjects}
    wall: dict[str, list[float]] = {k: [] for k in subjects}
    for r in range(rounds):
        for name in list(subjects) if r % 2 == 0 else list(reversed(subjects)):
            proc = subjects[name]()
            cpu[name].append(proc.cpu)
            wall[name].append(proc.wall)
            if r == 0:
                print(f"  {case} {name}: {sum(proc.calls.values())} calls {dict(proc.calls)}", flush=True)
    base_cpu = statistics.median(cpu["base"])
    for name in subjects:
        c, w = statistics.median(cpu[name]), statistics.median(wall[name])
        print(
            f"{case} {name}: CPU {c:.3f} s ({min(cpu[name]):.3f}-{max(cpu[name]):.3f}, "
            f"{c / base_cpu:.2f}x base), wall {w:.3f} s ({min(wall[name]):.3f}-{max(wall[name]):.3f})",
            flush=True,
        )


if __name__ == "__main__":
    main()

"""``redrive`` of N failures over 4 shards at 20 ms: another commit's ddbtrigger, this tree's, and the
floor, interleaved round by round in one sandbox (order reversed every round, queues refilled before
each run). ``python -m bench.ab_redrive 200 3 /path/to/worktree/of/BASE``.

``bench compare`` runs each commit's benchmarks one after the other; on a loaded machine that can put
minutes of different load between the two sides of one case. This runs both in the same rounds.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from bench import fixtures as fx
from bench.cases.redrive import TRIGGERS, _check_drained, _fixture, _refill
from bench.env import local_aws, succeed
from bench.harness import ddbtrigger_cmd, run_proc


def main() -> None:
    total, rounds, base_tree = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    trigs = fx.triggers(f"ab{total}", TRIGGERS)
    with (
        tempfile.TemporaryDirectory() as tmp,
        local_aws("sandbox", latency_ms=20, handlers={t.function: succeed for t in trigs}) as aws,
    ):
        bodies = _fixture(aws, trigs, total // TRIGGERS)
        spec = fx.write_spec(Path(tmp), trigs, enabled=False)
        urls = list(bodies)
        argv = [
            *ddbtrigger_cmd(),
            "redrive",
            "-f",
            str(spec),
            "--yes",
            "-o",
            "json",
            "--concurrency",
            "4",
            "--endpoint-url",
            aws.endpoint_url,
        ]
        subjects = {
            "base": lambda: run_proc(argv, env={"PYTHONPATH": base_tree}),
            "head": lambda: run_proc(argv),
            "floor": lambda: fx.floor(aws, "floor_redrive.py", "-f", str(spec)),
        }
        walls = {k: [] for k in subjects}
        calls = {}
        for r in range(rounds):
            order = list(subjects) if r % 2 == 0 else list(reversed(subjects))
            for name in order:
                _refill(aws, bodies)
                proc = subjects[name]().check()
                _check_drained(aws, urls)
                walls[name].append(proc.wall)
                calls[name] = sum(proc.calls.values())
                print(name, f"{proc.wall:.2f}s", dict(proc.calls) if r == 0 else "", flush=True)
        floor = statistics.median(walls["floor"])
        for name, w in walls.items():
            m = statistics.median(w)
            print(
                f"{name}: median {m:.2f}s ({min(w):.2f}-{max(w):.2f}), {total / m:.1f} failures/s, "
                f"throughput vs floor {floor / m:.2f}x, {calls[name] / total:.2f} calls/failure, "
                f"{total * 10 / m / TRIGGERS:.0f} records/s/shard"
            )


if __name__ == "__main__":
    main()

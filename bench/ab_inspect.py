"""``inspect-dlq`` of 1,000 messages (table and JSON): another tree's ddbtrigger against this tree's,
interleaved round by round against one sandbox (order reversed every round), median CPU and wall.
``python -m bench.ab_inspect /path/to/worktree/of/BASE [ROUNDS] [COUNT]``.

With ``--profile OUT``: run this tree's command once per mode under cProfile (``OUT-table.prof``,
``OUT-json.prof``) instead. With ``--floor``: ``floor_inspect_dlq.py`` runs in the same rounds.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bench import fixtures as fx
from bench.ab_plan import compare_rounds, runner_in
from bench.env import local_aws
from bench.harness import REPO, ddbtrigger_cmd, floor_cmd, run_proc


def main() -> None:
    args = sys.argv[1:]
    profile = args.pop(args.index("--profile") + 1) if "--profile" in args else None
    if profile:
        args.remove("--profile")
    with_floor = "--floor" in args
    if with_floor:
        args.remove("--floor")
    base_tree = args[0] if args else str(REPO)
    rounds = int(args[1]) if len(args) > 1 else 8
    count = int(args[2]) if len(args) > 2 else 1000
    trees = {"base": base_tree, "head": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp, local_aws("sandbox") as aws:
        (trig,) = fx.triggers("abinspect", 1)
        fx.create_tables_and_functions(aws, [trig])
        fx.create_queues_and_mappings(aws, [trig], enabled=False)
        spec = fx.write_spec(Path(tmp), [trig], enabled=False)
        fx.write_items(aws, trig, 10)
        fx.inject(aws, trig.queue, [fx.pointer(fx.read_stream(aws, trig), trig.function)] * count)
        for mode in ("table", "json"):
            tail = ["inspect-dlq", "-f", str(spec), "--output", mode, "--endpoint-url", aws.endpoint_url]
            if profile:
                argv = [sys.executable, "-m", "cProfile", "-o", f"{profile}-{mode}.prof", "-m", "ddbtrigger"]
                run_proc([*argv, *tail], env={"PYTHONPATH": str(REPO)}).check()
                continue
            subjects = {name: runner_in([*ddbtrigger_cmd(), *tail], tree) for name, tree in trees.items()}
            if with_floor:
                floor = [
                    *floor_cmd("floor_inspect_dlq.py"),
                    "-f",
                    str(spec),
                    "--endpoint-url",
                    aws.endpoint_url,
                ]
                subjects["floor"] = runner_in(floor, str(REPO))
            compare_rounds(f"inspect-dlq {count} --output {mode}", rounds, subjects)


if __name__ == "__main__":
    main()

"""Print the figures of the last reliability run (kept in pytest's cache) as Markdown for RELIABILITY.md.

python -m tests.reliability.figures            # from the repository root, after pytest ran
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

CACHE = Path(".pytest_cache/v/reliability")


def load() -> dict[str, dict[str, Any]]:
    if not CACHE.is_dir():
        return {}
    return {p.name: json.loads(p.read_text()) for p in sorted(CACHE.iterdir()) if p.is_file()}


def faults_summary(found: dict[str, dict[str, Any]]) -> list[str]:
    cases = {k: v for k, v in found.items() if k.startswith("faults_") and not k.startswith("faults_inproc")}
    if not cases:
        return []
    total = {"requests": 0, "faults": 0, "throttle": 0, "500": 0, "reset": 0, "lost": 0}
    runs = exit_1 = 0
    for case in cases.values():
        for key in total:
            total[key] += int(case.get(key, 0))
        runs += len(case.get("exits", {}))
        exit_1 += sum(1 for code in case.get("exits", {}).values() if code)
    return [
        f"- fault injection: {len(cases)} cases ({', '.join(sorted(cases))}), {runs} command runs "
        f"({exit_1} exited 1 cleanly), {total['requests']} requests, {total['faults']} faults injected "
        f"(throttle {total['throttle']}, 500 {total['500']}, reset {total['reset']}, "
        f"lost answer {total['lost']}); lost failures 0, messages left invisible 0"
    ]


def main() -> int:
    found = load()
    if not found:
        print("no figures: run pytest tests/reliability first", file=sys.stderr)
        return 1
    lines = []
    if "kill_redrive" in found:
        k = found["kill_redrive"]
        lines.append(
            f"- redrive kills: {k['runs']} runs, {k['kills']} SIGKILLs (phases {k['kill_phases']}), "
            f"{k['failures']} failures / {k['records']} records over 3 shards, {k['deliveries']} "
            f"deliveries, lost = {k['lost']}, duplicates = {k['duplicates']} (seed {k['seed']})"
        )
    if "kill_apply" in found:
        k = found["kill_apply"]
        lines.append(
            f"- apply kills: {k['runs']} runs, {k['kills']} SIGKILLs (steps done at each kill: "
            f"{k['steps_done_at_kill']}), every next apply converged, plan no-op (seed {k['seed']})"
        )
    if "concurrent_apply" in found:
        c = found["concurrent_apply"]
        lines.append(
            f"- concurrent applies: {c['rounds']} rounds of 2 ({c['both_succeeded']} both succeeded, "
            f"{c['one_lost']} with a loser), one mapping per trigger every time"
        )
    lines += faults_summary(found)
    inproc = {k: v for k, v in found.items() if k.startswith("faults_inproc")}
    if inproc:
        timeouts = sum(int(v.get("read-timeout", 0)) for v in inproc.values())
        closed = sum(int(v.get("connection-closed", 0)) for v in inproc.values())
        calls = sum(int(v.get("calls", 0)) for v in inproc.values())
        lines.append(
            f"- in-process redrive with botocore exceptions: {len(inproc)} runs, {calls} sends, "
            f"{timeouts} ReadTimeoutError + {closed} ConnectionClosedError injected; outcomes "
            f"{sorted({str(v.get('outcome')) for v in inproc.values()})}"
        )
    if "fuzz_failures" in found:
        f = found["fuzz_failures"]
        lines.append(
            f"- failure-record fuzzing: {f['inputs']} inputs ({f['failure']} parsed as failures, "
            f"{f['malformed']} malformed), 0 raised, slowest {f['slowest_ms']} ms"
        )
    if "credentials" in found:
        c = found["credentials"]
        lines.append(
            f"- credential scan: {c['runs']} command runs, secret printed 0 times, key id printed "
            f"{c.get('key_id_leaks_without_debug')} times without --debug and by "
            f"{c.get('key_id_leaks_with_debug')} commands with --debug"
        )
    stamps = sorted(v.get("at", "") for v in found.values())
    lines.append(f"- recorded {stamps[0]} .. {stamps[-1]}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

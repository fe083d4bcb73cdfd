"""The benchmarks cannot rot: ``python -m bench all --quick`` runs end to end and prints its table.

No timing is asserted (timings belong in BENCHMARKS.md, not in tests); only that every benchmark ran its
commands successfully, against the sandbox, and reported figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCHES = (
    "startup",
    "plan (no-op)",
    "apply (from nothing)",
    "status",
    "inspect-dlq",
    "redrive",
    "replay",
    "audit",
)


@pytest.mark.e2e
def test_bench_all_quick_exits_0_and_prints_every_benchmark(tmp_path: Path) -> None:
    results = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "all", "--quick", "--json", str(results)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    assert "| bench | case | ddbtrigger s median (min–max) |" in proc.stdout
    for bench in BENCHES:
        assert f"\n| {bench} | " in proc.stdout, f"no row for {bench}:\n{proc.stdout}"
    rows = json.loads(results.read_text())["rows"]
    assert not [r for r in rows if r["error"] or r["skipped"]]
    assert all(r["tool"] and r["tool"]["walls"] for r in rows)
    assert all(r["tool"]["calls"] for r in rows if r["bench"] not in ("startup",))

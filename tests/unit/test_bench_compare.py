"""``python -m bench compare``: the comparison on canned results, the worktrees' cleanup, the exit codes.

No benchmark runs here: the results are built with the harness's own ``Row.as_json`` (the format
``python -m bench --json`` writes), so a change of that format breaks these tests, not the CI report.
"""

from __future__ import annotations

import argparse
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench import compare
from bench.comparison import compare_rows, render, summary
from bench.harness import Proc, Row, Series


def _series(label: str, wall: float, calls: dict[str, int] | None = None) -> Series:
    return Series(label, [Proc([label], wall, 0, "", "", Counter(calls or {}), 30.0, wall)])


def _row(case: str, tool: float, floor: float | None = 1.0, calls: int = 0, **kw: Any) -> dict[str, Any]:
    """A row as ``python -m bench --json`` writes it; ``calls`` API calls in the tool's median run."""
    ops = {"sqs.ReceiveMessage": calls} if calls else None
    fl = _series("floor", floor) if floor is not None else None
    return Row("plan (no-op)", case, _series("ddbtrigger", tool, ops), fl, **kw).as_json()


def _one(base: dict[str, Any], head: dict[str, Any], threshold: float = 0.2) -> Any:
    (change,) = compare_rows([base], [head], threshold)
    return change


def test_a_ratio_25_percent_worse_is_flagged_and_a_regression() -> None:
    change = _one(_row("N=3", 0.8, 1.0), _row("N=3", 2.0, 2.0))  # 0.80× -> 1.00×
    assert change.base_ratio == pytest.approx(0.8)
    assert change.head_ratio == pytest.approx(1.0)
    assert change.change == pytest.approx(0.25)
    assert change.flags == ["worse > 20 %"]
    assert change.regression


def test_raw_seconds_do_not_matter_only_the_ratio() -> None:
    """HEAD ran 3× slower on a busy machine, and so did its floor: no change."""
    change = _one(_row("N=3", 0.5, 1.0), _row("N=3", 1.5, 3.0))
    assert change.change == pytest.approx(0.0)
    assert change.flags == []


@pytest.mark.parametrize(
    ("head", "threshold", "flags"),
    [
        (1.19, 0.2, []),  # within the threshold
        (1.2, 0.2, []),  # at it: not beyond
        (1.21, 0.2, ["worse > 20 %"]),
        (1.15, 0.1, ["worse > 10 %"]),  # --threshold 0.1
        (0.85, 0.2, []),
        (0.79, 0.2, ["better"]),
    ],
)
def test_the_threshold(head: float, threshold: float, flags: list[str]) -> None:
    assert _one(_row("N=1", 1.0), _row("N=1", head), threshold).flags == flags


def test_more_calls_per_operation_is_a_regression_and_fewer_is_better() -> None:
    more = _one(_row("N=3", 1.0, calls=12), _row("N=3", 1.0, calls=18))
    assert (more.base_calls, more.head_calls, more.calls_change) == (12, 18, pytest.approx(0.5))
    assert more.flags == ["more calls > 20 %"] and more.regression
    fewer = _one(_row("N=3", 1.0, calls=18), _row("N=3", 1.0, calls=12))
    assert fewer.flags == ["fewer calls"] and not fewer.regression


def test_a_case_on_one_side_only_is_said_not_flagged() -> None:
    base = [_row("N=1", 1.0), _row("N=5 (gone)", 1.0)]
    head = [_row("N=1", 1.0), _row("N=9 (new)", 1.0)]
    changes = {c.case: c for c in compare_rows(base, head)}
    assert list(changes) == ["N=1", "N=9 (new)", "N=5 (gone)"]  # HEAD's order, then BASE-only cases
    assert changes["N=9 (new)"].notes == ["only in HEAD"]
    assert changes["N=9 (new)"].head_ratio == pytest.approx(1.0) and changes["N=9 (new)"].base_ratio is None
    assert changes["N=5 (gone)"].notes == ["only in BASE"]
    assert not any(c.flags for c in changes.values())
    assert "2 on one side only" in summary(list(changes.values()))


def test_an_error_in_head_only_is_a_regression_and_in_base_only_is_not() -> None:
    broken = Row("plan (no-op)", "N=1", error="plan exited 1: boom").as_json()
    fine = _row("N=1", 1.0)
    in_head = _one(fine, broken)
    assert in_head.flags == ["ERROR in HEAD"] and in_head.regression
    assert in_head.notes == ["HEAD error: plan exited 1: boom"]
    fixed = _one(broken, fine)
    assert fixed.flags == [] and not fixed.regression and fixed.notes == ["BASE error: plan exited 1: boom"]


def test_a_case_without_a_floor_compares_calls_only() -> None:
    change = _one(_row("apply N=2", 1.0, None, calls=26), _row("apply N=2", 9.0, None, calls=26))
    assert change.change is None and change.flags == []
    assert change.notes == ["no floor: calls only"]


def test_the_table_shows_both_ratios_the_change_and_the_flag() -> None:
    changes = compare_rows([_row("N=3", 0.8, calls=12)], [_row("N=3", 1.0, calls=12), _row("N=7", 1.0)])
    table = render(changes)
    assert table.splitlines()[0].startswith("| bench | case | BASE ratio | HEAD ratio | change |")
    assert "| plan (no-op) | N=3 | 0.80× | 1.00× | +25 % | 12 → 12 | worse > 20 % | – |" in table
    assert "| plan (no-op) | N=7 | – | 1.00× | – | – | – | only in HEAD |" in table
    assert summary(changes).startswith("2 case(s): 1 worse by more than 20 % (or broken)")


def _git(repo: Path, *args: str) -> str:
    cmd = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    _git(path, "init", "-q")
    (path / "a.txt").write_text("one\n")
    _git(path, "add", "a.txt")
    _git(path, "commit", "-qm", "one")
    (path / "a.txt").write_text("two\n")
    _git(path, "commit", "-qam", "two")
    return path


def test_worktrees_hold_each_commit_and_are_removed_afterwards(repo: Path) -> None:
    base, head = compare.resolve(repo, "HEAD~1"), compare.resolve(repo, "HEAD")
    with compare.worktrees(repo, [base, head]) as (base_tree, head_tree):
        assert (base_tree / "a.txt").read_text() == "one\n"
        assert (head_tree / "a.txt").read_text() == "two\n"
        assert len(_git(repo, "worktree", "list").splitlines()) == 3
    assert not base_tree.exists() and not head_tree.exists() and not base_tree.parent.exists()
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


@pytest.mark.parametrize("error", [RuntimeError("a run failed"), KeyboardInterrupt()])
def test_worktrees_are_removed_on_an_error_or_ctrl_c(repo: Path, error: BaseException) -> None:
    with pytest.raises(type(error)), compare.worktrees(repo, ["HEAD", "HEAD~1"]) as trees:
        raise error
    assert not any(t.exists() for t in trees)
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


def test_a_commit_that_cannot_be_checked_out_leaves_no_worktree(repo: Path) -> None:
    with pytest.raises(compare.CompareError), compare.worktrees(repo, ["HEAD", "0" * 40]):
        pass
    assert len(_git(repo, "worktree", "list").splitlines()) == 1


def test_a_run_that_imported_another_checkout_voids_the_comparison(tmp_path: Path) -> None:
    side = compare.Side("HEAD", "main", commit="abc", tree=tmp_path / "tree")
    line = compare._check_proof(side, str(tmp_path / "tree" / "ddbtrigger" / "__init__.py"), "bench plan")
    assert line.endswith(f"ddbtrigger from {tmp_path}/tree/ddbtrigger/__init__.py")
    with pytest.raises(compare.CompareError, match="not from its worktree"):
        compare._check_proof(side, "/work/main/ddbtrigger/__init__.py", "bench plan")


def _args(**kw: Any) -> argparse.Namespace:
    return compare.parse(["base", "head", *[f"--{k.replace('_', '-')}" for k, v in kw.items() if v]])


def test_the_report_exits_0_on_a_regression_unless_asked_to_fail(
    capsys: pytest.CaptureFixture[str],
) -> None:
    base = compare.Side("BASE", "HEAD~1", commit="1" * 40, rows=[_row("N=3", 0.8)])
    head = compare.Side("HEAD", "HEAD", commit="2" * 40, rows=[_row("N=3", 1.0)])
    assert compare.report(base, head, _args(), ["proof"], 1.0) == 0
    assert "worse > 20 %" in capsys.readouterr().out
    assert compare.report(base, head, _args(fail_on_regression=True), [], 1.0) == 3
    head.rows = [_row("N=3", 0.85)]
    assert compare.report(base, head, _args(fail_on_regression=True), [], 1.0) == 0


def test_a_bad_commit_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert compare.main(["no-such-commit-xyz", "HEAD"]) == 2
    assert "'no-such-commit-xyz' is not a commit" in capsys.readouterr().err

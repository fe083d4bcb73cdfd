"""The redrive command's presentation: summary table, next steps, progress bar (no AWS)."""

from __future__ import annotations

from rich.console import Console

from ddbtrigger.cli.redrive import BarProgress, draw_report, next_steps, progress_bar
from ddbtrigger.cli.render import Output
from ddbtrigger.core.redrive import FailureResult, RedriveReport, Status

REPORT = RedriveReport(
    (
        FailureResult(
            "0f6c3b1e-1111-2222-3333-444455556666",
            "orders-audit",
            Status.REDRIVEN,
            3,
            deleted=True,
            shard_id="shardId-00000001573689847184-864758bb",
            extra_records=1,
        ),
        FailureResult(
            "m2", "orders-audit", Status.FAILED, 1, "function error (Unhandled): ValueError: [bad]"
        ),
        FailureResult("m3", "orders-audit", Status.EXPIRED, 0, "records trimmed"),
        FailureResult("m4", "orders-audit", Status.MALFORMED, 0, "not JSON"),
    )
)


def draw(report: RedriveReport, *, dry_run: bool = False) -> str:
    console = Console(record=True, width=160, no_color=True)
    draw_report(console, report, dry_run=dry_run)
    return console.export_text()


def test_summary_table_totals_and_markup_safe_errors() -> None:
    text = draw(REPORT)
    assert "redriven 1 (3 records) · failed 1 · expired 1 · malformed 1" in text
    assert "ValueError: [bad]" in text  # rich markup in an error message is shown, not interpreted
    assert "0f6c3b1…55556666" in text and "redriven" in text and "expired" in text


def test_next_steps_say_what_to_do() -> None:
    lines = "\n".join(next_steps(REPORT, dry_run=False))
    assert "possible duplicates" in lines and "--drop-expired" in lines and "inspect-dlq" in lines
    assert "--handler" in lines
    assert next_steps(RedriveReport(()), dry_run=False) == [
        "nothing to redrive: the failure destination is empty"
    ]
    dry = RedriveReport((FailureResult("a", "t", Status.DRY_RUN, 2),))
    assert any("dry run" in line for line in next_steps(dry, dry_run=True))


def test_progress_bar_counts_failures_and_records_with_a_rate() -> None:
    out = Output()
    out.err = Console(record=True, width=150, force_terminal=True, no_color=True)
    with progress_bar(out) as bar:
        progress = BarProgress(bar, dry_run=False)
        progress.start(2, 20)
        progress.advance(FailureResult("a", "t", Status.REDRIVEN, 10), 10)
        progress.advance(FailureResult("b", "t", Status.REDRIVEN, 10), 10)
        tasks = {t.description: t for t in bar.tasks}
        assert (tasks["failures"].completed, tasks["failures"].total) == (2, 2)
        assert (tasks["records"].completed, tasks["records"].total) == (20, 20)
        bar.refresh()
    assert "/s" in out.err.export_text()

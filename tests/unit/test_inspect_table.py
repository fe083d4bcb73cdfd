"""The inspect-dlq table keeps every column at 80 columns: folded, never squeezed away."""

from __future__ import annotations

from rich.console import Console

from ddbtrigger.cli.inspect_dlq import FAILURE_COLUMNS, rich_table


def test_every_column_survives_an_80_column_terminal() -> None:
    row = [
        "11-27 09:39:29",
        "orders-archive",
        "…95772357192-96b5e668",
        "100000…000700",
        "1",
        "RetryAttemptsExhausted",
        "3",
        "Unhandled",
        "expires in 23h59m",
    ]
    console = Console(width=80, record=True, no_color=True)
    console.print(rich_table("Failures", FAILURE_COLUMNS, [(row, False)]))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for cell in row:  # each cell's first characters are on screen (long ones fold onto more lines)
        assert cell[:4] in text, cell

"""The inspect-dlq table at 80 columns: no word broken, no column dropped; stacked when it cannot fit.

issue 13 changed this contract: folding long cells broke values mid-word ("trigg/er", a queue name over
two lines); a table that cannot hold every column unbroken is now drawn stacked (one block per failure).
"""

from __future__ import annotations

from rich.console import Console

from ddbtrigger.cli.inspect_dlq import FAILURE_COLUMNS, rich_table

ROW = [
    "…-1a2b3c4d5e6f",
    "11-27 09:39",
    "orders-archive",
    "…95772357192-96b5e668",
    "100000…000700",
    "1",
    "RetryAttemptsExhausted",
    "3",
    "Unhandled",
    "in 23h59m",
]


def draw(width: int, wide: bool = False) -> str:
    console = Console(width=200 if wide else width, record=True, no_color=True)
    console.print(rich_table("Failures", FAILURE_COLUMNS, [(ROW, False)], width=width, wide=wide))
    return console.export_text()


def test_at_80_columns_every_value_is_whole_and_every_column_named() -> None:
    text = draw(80)
    assert max(len(line) for line in text.splitlines()) <= 80
    for cell in ROW:
        for word in cell.split():
            assert word in text, word
    for column in FAILURE_COLUMNS[1:]:  # stacked: the id heads each block, the others are named
        assert f"{column}: " in text, column


def test_wide_keeps_one_line_per_failure() -> None:
    text = draw(80, wide=True)
    row = next(line for line in text.splitlines() if "RetryAttemptsExhausted" in line)
    assert all(cell in row for cell in ROW)


def test_short_ids_show_clashing_ids_whole_and_shorten_the_rest() -> None:
    from ddbtrigger.cli.render import short_ids

    ids = ["abcdefgh-1111", "abcdefgh-2222", "12345678-3333", "f/aws/lambda/x/aaaa1234abcd", "tiny"]
    assert short_ids(ids) == ["abcdefgh-1111", "abcdefgh-2222", "12345678…", "…1234abcd", "tiny"]
    many = [f"{n:08d}-{n}" for n in range(2000)] + ["00000007-again"]
    shown = short_ids(many)
    assert shown[7] == "00000007-7" and shown[-1] == "00000007-again"
    assert shown[8] == "00000008…"

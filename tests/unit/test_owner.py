"""One trigger-ownership rule for failures in a shared destination (inspect-dlq and redrive)."""

from __future__ import annotations

from dataclasses import dataclass

from ddbtrigger.core.owner import owning_trigger, table_of

STREAM = "arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2024-01-01T00:00:00.000"
FN = "arn:aws:lambda:eu-west-1:123456789012:function:fn"


@dataclass(frozen=True)
class T:
    name: str
    table_name: str
    function: str


def test_table_of_reads_the_stream_arn() -> None:
    assert table_of(STREAM) == "Orders"
    assert table_of("not-an-arn") == ""


def test_only_trigger_of_the_table_owns_it_whatever_the_function() -> None:
    orders, users = T("orders", "Orders", "other"), T("users", "Users", "fn")
    assert owning_trigger(STREAM, FN, [users, orders]) is orders


def test_a_failure_of_another_table_has_no_owner() -> None:
    assert owning_trigger(STREAM, FN, [T("users", "Users", "fn")]) is None


def test_aliases_of_one_function_are_told_apart() -> None:
    """Where inspect-dlq (by function name) and redrive (alias-aware) used to disagree: inspect listed
    the ``green`` failure under ``blue``, the first trigger of that function name."""
    blue, green = T("blue", "Orders", "fn:blue"), T("green", "Orders", "fn:green")
    assert owning_trigger(STREAM, f"{FN}:green", [blue, green]) is green
    assert owning_trigger(STREAM, f"{FN}:blue", [blue, green]) is blue


def test_unknown_function_has_no_owner_and_no_function_goes_to_the_first() -> None:
    a, b = T("a", "Orders", "fn-a"), T("b", "Orders", "fn-b")
    assert owning_trigger(STREAM, FN, [a, b]) is None
    assert owning_trigger(STREAM, "", [a, b]) is a


def test_inspect_and_redrive_agree() -> None:
    from datetime import UTC, datetime

    from ddbtrigger.core.failures import Failure
    from ddbtrigger.usecases.inspect import owner

    at = datetime(2024, 1, 1, tzinfo=UTC)
    failure = Failure("f1", "sqs", "shard-1", "1", "2", 2, STREAM, at, at, "RetryAttemptsExhausted", 3,
                      f"{FN}:green", "req-1")  # fmt: skip
    blue, green = T("blue", "Orders", "fn:blue"), T("green", "Orders", "fn:green")
    assert owner(failure, (blue, green)) == "green"  # type: ignore[arg-type]
    assert owning_trigger(failure.stream_arn, failure.function_arn, [blue, green]) is green

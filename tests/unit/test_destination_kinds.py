"""The per-type descriptor (core.destinations): the only core place that knows sqs, sns and s3."""

from __future__ import annotations

import pytest

from ddbtrigger.core.destinations import KINDS, kind, partition_of, resource_name, type_of_arn


def test_every_type_has_one_kind_and_an_unknown_one_is_refused() -> None:
    assert sorted(KINDS) == ["s3", "sns", "sqs"]
    assert all(kind(t).type == t for t in KINDS)
    with pytest.raises(ValueError, match="unknown destination type 'kinesis'"):
        kind("kinesis")


@pytest.mark.parametrize(
    ("type_", "arn"),
    [
        ("sqs", "arn:aws-cn:sqs:cn-north-1:123456789012:dlq"),
        ("sns", "arn:aws-cn:sns:cn-north-1:123456789012:dlq"),
        ("s3", "arn:aws-cn:s3:::dlq"),
    ],
)
def test_arns_are_built_and_read_back(type_: str, arn: str) -> None:
    built = kind(type_).arn(
        "dlq", partition=partition_of("cn-north-1"), region="cn-north-1", account="123456789012"
    )
    assert built == arn
    assert (type_of_arn(arn), resource_name(arn)) == (type_, "dlq")


def test_pointers_records_and_sizes() -> None:
    assert [t for t, k in KINDS.items() if k.holds_pointers] == ["sqs", "sns"]
    assert kind("sns").enveloped and not kind("sqs").enveloped
    assert kind("sns").max_failure_bytes == 2 * kind("sqs").max_failure_bytes
    assert type_of_arn("arn:aws:lambda:us-east-1:1:function:f") is None
    assert partition_of("us-gov-west-1") == "aws-us-gov"

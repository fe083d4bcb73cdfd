"""Spec -> desired AWS settings, and read-back normalisation."""

from __future__ import annotations

from ddbtrigger.core.desired import (
    ArnContext,
    aws_params,
    destination_arn,
    filled_defaults,
    normalise,
)
from ddbtrigger.core.live import function_ref, same_function
from ddbtrigger.core.spec import OnFailureSpec, TriggerSpec


def test_sentinels_and_missing_values_normalise_to_aws_meaning() -> None:
    assert normalise("maximum_retry_attempts", 10000) == -1
    assert normalise("maximum_record_age_in_seconds", 604800) == -1
    assert normalise("maximum_retry_attempts", None) == -1
    assert normalise("batch_size", None) == 100
    assert normalise("bisect_batch_on_function_error", None) is False
    assert normalise("maximum_retry_attempts", 5) == 5


def test_destination_arns_are_built_from_the_table_account() -> None:
    ctx = ArnContext.from_arn("arn:aws-cn:dynamodb:cn-north-1:111122223333:table/t", region="us-east-1")
    assert (
        destination_arn(OnFailureSpec(type="sqs", name="q"), ctx)
        == "arn:aws-cn:sqs:cn-north-1:111122223333:q"
    )
    assert destination_arn(OnFailureSpec(type="s3", name="b"), ctx) == "arn:aws-cn:s3:::b"
    given = "arn:aws:sns:us-east-1:111122223333:t"
    assert destination_arn(OnFailureSpec(type="sns", arn=given), ctx) == given


def test_aws_params_names_and_clearing() -> None:
    assert aws_params({"report_batch_item_failures": False}) == {"FunctionResponseTypes": []}
    assert aws_params({"filters": []}) == {"FilterCriteria": {}}
    assert aws_params({"destination": None}) == {"DestinationConfig": {}}
    assert aws_params({"enabled": False, "batch_size": 7}) == {"Enabled": False, "BatchSize": 7}


def test_filled_defaults_lists_only_what_the_spec_left_out() -> None:
    t = TriggerSpec.model_validate(
        {"name": "a", "table": "orders", "function": "f", "mapping": {"batch_size": 10}}
    )
    filled = filled_defaults(t)
    assert "batch_size" not in filled
    assert filled["bisect_batch_on_function_error"] is True
    assert filled["maximum_retry_attempts"] == 3
    assert filled["stream.view_type"] == "NEW_AND_OLD_IMAGES"


def test_function_references_match_names_aliases_and_arns() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert function_ref("fn:live") == ("fn", "live")
    assert function_ref(arn + ":$LATEST") == ("fn", None)
    assert same_function("fn", arn)
    assert same_function("fn:live", arn + ":live")
    assert not same_function("fn:live", arn)
    assert not same_function("other", arn)

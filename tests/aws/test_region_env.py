"""AWS_REGION alone is enough, as for the AWS CLI (boto3 itself reads only AWS_DEFAULT_REGION)."""

from __future__ import annotations

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory


def test_aws_region_alone_sets_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert ClientFactory(AwsTarget()).region == "eu-west-3"


def test_explicit_region_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert ClientFactory(AwsTarget(region="ap-south-1")).region == "ap-south-1"

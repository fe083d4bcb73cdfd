"""Done-when for alarms, in the sandbox: a blocked shard drives the iterator-age alarm to ALARM and its
topic is told; ``status`` shows it (exit 3); after ``redrive`` it returns to OK; ``status --metrics``
reads every trigger's series in one GetMetricData call."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from ddbtrigger.cli.app import app
from ddbtrigger.core.loader import load_spec
from ddbtrigger.usecases.status import read_status
from tests.aws.conftest_provision import CallCounter, spec_text, trigger
from tests.aws.conftest_sandbox import FakeClock, is_poison, make_queue, make_table, put, wait_for

ALARM = "ddbtrigger-orders-audit-iterator-age"


@pytest.fixture
def sandbox(metered_sandbox: Any) -> Any:
    """Every sandbox here publishes metrics (tests/conftest.py)."""
    return metered_sandbox


class Gate:
    """A handler that holds a poison pill until the test lets it fail (the clock moves meanwhile)."""

    def __init__(self) -> None:
        self.held = threading.Event()
        self.release = threading.Event()
        self.fixed = False

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self.fixed or not any(is_poison(r) for r in event["Records"]):
            return None
        self.held.set()
        self.release.wait(10)
        raise ValueError("poison pill")


def cli(sb: Any, *args: str) -> Any:
    return CliRunner().invoke(app, list(args), env=sb.environment(), catch_exceptions=False)


def pages(sb: Any, url: str) -> list[str]:
    got = sb.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for m in got:
        sb.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(m["Body"])["NewStateValue"] for m in got]


def state(sb: Any) -> str:
    return str(sb.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateValue"])


def test_a_blocked_shard_fires_the_alarm_pages_the_topic_and_redrive_clears_it(
    sandbox: Any, clock: FakeClock, tmp_path: Path
) -> None:
    sb = sandbox
    make_table(sb, "orders")
    gate = Gate()
    sb.register_handler("orders-fn", gate)
    topic = sb.client("sns").create_topic(Name="oncall")["TopicArn"]
    pager_url, pager_arn = make_queue(sb, "pager")
    sb.client("sns").subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=pager_arn, Attributes={"RawMessageDelivery": "true"}
    )
    path = tmp_path / "s.yaml"
    alarms = {"iterator_age_seconds": {"threshold": 60, "period": 60}, "notify": topic}
    doc = trigger("orders-audit", mapping={"maximum_retry_attempts": 1}, alarms=alarms)
    path.write_text(spec_text(doc, region=sb.region))
    spec = ["-f", str(path)]
    assert cli(sb, "apply", "--yes", *spec).exit_code == 0

    put(sb, "pill", poison=True)
    assert gate.held.wait(10)
    clock.advance(120)  # the pill holds the shard for two minutes: each retry hands it over 120 s old
    gate.release.set()
    wait_for(lambda: state(sb) == "ALARM", what="the iterator-age alarm in ALARM")
    seen: list[str] = []
    wait_for(lambda: seen.extend(pages(sb, pager_url)) or "ALARM" in seen, what="the ALARM page")

    shown = cli(sb, "status", *spec, "-o", "json")
    assert shown.exit_code == 3
    (status,) = json.loads(shown.stdout)["triggers"]
    assert status["alarms"] == [
        {"name": ALARM, "metric": "iterator_age_seconds", "state": "ALARM", "threshold": 60}
    ]
    assert f"alarm {ALARM} in ALARM" in status["attention"]

    dlq = sb.client("sqs").get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    wait_for(
        lambda: (
            sb.client("sqs").get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            == "1"
        ),
        what="the pill in the DLQ",
    )
    gate.fixed = True
    assert cli(sb, "redrive", "--yes", *spec).exit_code == 0
    clock.advance(120)  # the breaching period leaves the evaluation range: nothing blocks any more
    wait_for(lambda: state(sb) == "OK", what="the alarm back to OK")
    wait_for(lambda: seen.extend(pages(sb, pager_url)) or "OK" in seen, what="the OK page")
    (after,) = json.loads(cli(sb, "status", *spec, "-o", "json").stdout)["triggers"]
    assert after["alarms"][0]["state"] == "OK"
    # only the mapping's last result (PROBLEM until its next good batch) still asks for a look
    assert after["attention"] == ["last result PROBLEM"]


def test_status_metrics_reads_every_triggers_series_in_one_call(sandbox: Any, tmp_path: Path) -> None:
    sb = sandbox
    make_table(sb, "orders")
    make_table(sb, "payments")
    sb.register_handler("orders-fn", lambda e, c: None)
    sb.register_handler("payments-fn", lambda e, c: None)
    path = tmp_path / "s.yaml"
    path.write_text(
        spec_text(
            trigger("orders-audit"),
            trigger("payments-sync", table="payments", function="payments-fn"),
            region=sb.region,
        )
    )
    assert cli(sb, "apply", "--yes", "-f", str(path)).exit_code == 0
    put(sb, "a")
    put(sb, "b", table="payments")
    session = boto3.Session()
    counter = CallCounter(session)
    factory = ClientFactory(AwsTarget(region=sb.region, endpoint_url=sb.endpoint_url), session=session)
    triggers = list(load_spec(path.read_text(), str(path)).triggers)

    def invoked() -> bool:
        report = read_status(factory, triggers, shards=False, metrics=True, hours=1)
        return all(sum(v or 0 for v in t.series.get("invocations", ())) >= 1 for t in report.triggers)

    wait_for(invoked, what="both functions' invocations in the series")
    counter.reset()
    report = read_status(factory, triggers, shards=False, metrics=True, hours=1)
    assert counter.calls.count("GetMetricData") == 2  # the 15-minute values, and every series
    assert counter.calls.count("DescribeAlarms") == 1  # every trigger's alarms at once
    assert report.window is not None and report.window.count <= 48
    for t in report.triggers:
        assert set(t.series) == {"iterator_age_ms", "invocations", "errors", "failures_waiting"}
        assert len(t.series["invocations"]) == report.window.count

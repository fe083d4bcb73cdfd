"""``plan``/``destroy`` tell the truth (issue 13): the TRIM_HORIZON replay warning, a one-line no-op
plan, one line per resource, and ``destroy --force`` naming what it deletes. The installed
``ddbtrigger`` as a subprocess against a moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ddbtrigger.aws.clients import AwsTarget, ClientFactory
from tests.aws.conftest_provision import make_function, make_table, spec_text, trigger

pytestmark = pytest.mark.e2e

QUIET = ["DDBT006", "DDBT011"]  # the pointer and no-alarm reminders: these specs want no lint lines


def world(moto_server: str, tmp_path: Path, *triggers: dict[str, Any]) -> tuple[ClientFactory, list[str]]:
    factory = ClientFactory(AwsTarget(region="us-east-1", endpoint_url=moto_server))
    make_table(factory, "orders")
    for name in dict.fromkeys(t["function"] for t in triggers):
        make_function(factory, name)
    spec = tmp_path / "ddbtrigger.yaml"
    spec.write_text(spec_text(*triggers))
    return factory, ["--endpoint-url", moto_server, "-f", str(spec)]


def put(factory: ClientFactory, key: str) -> None:
    factory.client("dynamodb").put_item(TableName="orders", Item={"pk": {"S": key}})


def mapping_change(doc: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in doc["changes"] if c["resource"] == "mapping")


def test_destroy_then_apply_warns_that_trim_horizon_replays_the_stream(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    factory, where = world(moto_server, tmp_path, trigger(lint_ignore=QUIET))
    first = run_cli("plan", *where, "-o", "json")
    assert "warnings" not in mapping_change(json.loads(first.stdout)), "an empty stream replays nothing"
    assert run_cli("apply", *where, "--yes").returncode == 0
    put(factory, "order-1")
    assert run_cli("destroy", *where, "--yes").returncode == 0

    planned = run_cli("plan", *where, "-o", "json")
    doc = json.loads(planned.stdout)
    (warning,) = mapping_change(doc)["warnings"]
    assert "TRIM_HORIZON" in warning and "24 h" in warning
    assert doc["warnings"] == [f"orders-audit: mapping: {warning}"]
    table = run_cli("plan", *where, env={"COLUMNS": "200"})
    assert "warning: starts at TRIM_HORIZON on a stream that already holds records" in table.stdout
    applied = run_cli("apply", *where, "--yes", env={"COLUMNS": "200"})
    assert applied.returncode == 0 and "already holds records" in applied.stdout


def test_latest_mapping_on_a_stream_with_records_is_not_warned(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    factory, where = world(
        moto_server, tmp_path, trigger(mapping={"starting_position": "LATEST"}, lint_ignore=QUIET)
    )
    put(factory, "order-1")
    doc = json.loads(run_cli("plan", *where, "-o", "json").stdout)
    assert mapping_change(doc)["action"] == "create" and "warnings" not in doc


def test_a_no_op_plan_is_one_line(moto_server: str, run_cli: Any, tmp_path: Path) -> None:
    two = [trigger(lint_ignore=QUIET), trigger("orders-archive", function="archive-fn", lint_ignore=QUIET)]
    _, where = world(moto_server, tmp_path, *two)
    assert run_cli("apply", *where, "--yes").returncode == 0
    clean = run_cli("plan", *where)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip() == "No changes. 2 triggers up to date."


def test_a_changed_trigger_gets_details_and_the_others_one_line(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    two = [trigger(lint_ignore=QUIET), trigger("orders-archive", function="archive-fn", lint_ignore=QUIET)]
    _, where = world(moto_server, tmp_path, *two)
    assert run_cli("apply", *where, "--yes").returncode == 0
    two[1]["mapping"] = {"batch_size": 7}
    Path(where[-1]).write_text(spec_text(*two))
    shown = run_cli("plan", *where, env={"COLUMNS": "120"}).stdout
    assert "trigger orders-archive" in shown and "batch_size: 100 → 7" in shown
    assert "trigger orders-audit" not in shown and "no-op" not in shown
    assert (
        shown.strip().splitlines()[-1]
        == "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete. 1 trigger up to date."
    )


def test_destroy_disable_stream_lists_a_shared_stream_once(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    two = [trigger(lint_ignore=QUIET), trigger("orders-archive", function="archive-fn", lint_ignore=QUIET)]
    _, where = world(moto_server, tmp_path, *two)
    assert run_cli("apply", *where, "--yes").returncode == 0
    destroyed = run_cli("destroy", *where, "--yes", "--disable-stream", env={"COLUMNS": "120"})
    assert destroyed.returncode == 0, destroyed.stderr
    assert destroyed.stdout.count("delete stream") + destroyed.stdout.count("view_type:") == 1
    doc = json.loads(run_cli("plan", *where, "-o", "json").stdout)
    assert [c["action"] for c in doc["changes"] if c["resource"] == "stream"] == ["create", "no-op"]


def _queue_exists(factory: ClientFactory) -> bool:
    urls = factory.client("sqs").list_queues().get("QueueUrls", [])
    return any(u.endswith("/orders-audit-dlq") for u in urls)


def test_destroy_force_yes_states_the_failures_it_deletes(
    moto_server: str, run_cli: Any, tmp_path: Path
) -> None:
    factory, where = world(moto_server, tmp_path, trigger(lint_ignore=QUIET))
    assert run_cli("apply", *where, "--yes").returncode == 0
    url = factory.client("sqs").get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    for _ in range(3):
        factory.client("sqs").send_message(QueueUrl=url, MessageBody="{}")
    refused = run_cli("destroy", *where, "--force")  # no terminal, no --yes
    assert refused.returncode == 2 and _queue_exists(factory)
    forced = run_cli("destroy", *where, "--force", "--yes", env={"COLUMNS": "200"})
    assert forced.returncode == 0, forced.stderr
    assert "deletes 3 failure(s) with their destinations: 3 in sqs orders-audit-dlq" in forced.stderr
    assert not _queue_exists(factory)


def _on_a_terminal(argv: list[str], answer: str) -> tuple[int, str]:
    """Run ``ddbtrigger ARGV`` with a pseudo-terminal as stdin, typing ``answer``."""
    import os
    import pty
    import subprocess

    from tests.conftest import ddbtrigger_executable

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*ddbtrigger_executable(), *argv],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    os.write(leader, f"{answer}\n".encode())
    _, err = proc.communicate(timeout=60)
    os.close(leader)
    return proc.returncode, err


@pytest.mark.parametrize(("answer", "deleted"), [("2", False), ("3", True)])
def test_destroy_force_asks_for_the_number_of_failures(
    moto_server: str, tmp_path: Path, answer: str, deleted: bool
) -> None:
    factory, where = world(moto_server, tmp_path, trigger(lint_ignore=QUIET))
    url = factory.client("sqs").create_queue(
        QueueName="orders-audit-dlq", tags={"ddbtrigger:trigger": "orders-audit"}
    )["QueueUrl"]
    for _ in range(3):
        factory.client("sqs").send_message(QueueUrl=url, MessageBody="{}")
    code, err = _on_a_terminal(["destroy", *where, "--force"], answer)
    assert "Type 3 to delete them" in err
    assert (code, _queue_exists(factory)) == ((0, False) if deleted else (2, True)), err

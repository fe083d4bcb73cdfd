"""Security: encrypted managed destinations, S3 public access blocked, least-privilege policies, item
images hidden unless ``--show-images``, no credential value ever printed, the sandbox on loopback only.

Every command's stdout and stderr (also with ``--debug``, also on errors) is scanned for the fake
credentials that ``tests/conftest.py`` sets (``AKIAFAKEDDBTRIGGER01`` / ``fakeSecretDdbtrigger...``).
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.reliability.world import FailureWorld, cli_env, make_table, record_figures, run

MARKER = "PersonalDataMarker"
SECURE_SPEC = """\
version: 1
triggers:
  - name: sec-sqs
    table: sec-table-0
    function: sec-fn-0
    on_failure: {type: sqs, name: sec-dlq}
  - name: sec-sns
    table: sec-table-1
    function: sec-fn-1
    on_failure: {type: sns, name: sec-topic, inspect_queue: sec-topic-tap}
  - name: sec-s3
    table: sec-table-2
    function: sec-fn-2
    on_failure: {type: s3, name: sec-failures-bucket}
"""
# IAM actions that take no resource-level permission: "*" is the only valid resource for them.
UNSCOPABLE = {
    "lambda:ListEventSourceMappings",
    "cloudwatch:GetMetricData",
    "cloudwatch:GetMetricStatistics",
    "sts:GetCallerIdentity",
    "sqs:ListQueues",
    "sns:ListTopics",
    "s3:ListAllMyBuckets",
    "dynamodb:ListStreams",
    "lambda:ListFunctions",
}


def printed(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# -- destinations -------------------------------------------------------------------------------------
@pytest.fixture
def applied(tmp_path: Path) -> Any:
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=0.2, state_seconds=0) as sb:
        for i in range(3):
            make_table(sb, f"sec-table-{i}")
            sb.register_handler(f"sec-fn-{i}", lambda event, context: None)
        spec = tmp_path / "secure.yaml"
        spec.write_text(SECURE_SPEC)
        result = run(["apply", "-f", str(spec), "--yes"], cli_env(sb.endpoint_url), cwd=tmp_path, timeout=180)
        assert result.returncode == 0, result.stderr[-2000:]
        yield sb, result


def queue_encrypted(sb: Any, name: str) -> bool:
    sqs = sb.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return attrs.get("SqsManagedSseEnabled") == "true" or bool(attrs.get("KmsMasterKeyId"))


def test_managed_destinations_are_encrypted_and_s3_is_private(applied: Any) -> None:
    sb, _ = applied
    assert queue_encrypted(sb, "sec-dlq"), "the managed SQS destination is not encrypted"
    assert queue_encrypted(sb, "sec-topic-tap"), "the SNS topic's inspect queue is not encrypted"
    sns = sb.client("sns")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":sec-topic"))
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId"), (
        "SNS topic not encrypted"
    )
    s3 = sb.client("s3")
    rules = s3.get_bucket_encryption(Bucket="sec-failures-bucket")["ServerSideEncryptionConfiguration"][
        "Rules"
    ]
    assert rules and rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    block = s3.get_public_access_block(Bucket="sec-failures-bucket")["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


# -- policies -----------------------------------------------------------------------------------------
POLICY_SPEC = """\
version: 1
triggers:
  - name: a
    table: orders
    function: fn
    on_failure: {type: sqs, name: dlq}
  - name: b
    table: arn:aws:dynamodb:us-east-1:111122223333:table/other
    function: fn2:live
    on_failure: {type: sns, name: topic, inspect_queue: tap}
  - name: c
    table: third
    function: arn:aws:lambda:us-east-1:111122223333:function:fn3
    on_failure: {type: s3, name: bucket-x, prefix: failures/}
"""


def statements(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(action, resource) pairs; a ``*`` resource narrowed by an ARN condition counts as that ARN."""
    pairs = []
    for st in document["Statement"]:
        assert st["Effect"] == "Allow"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        scoped = [
            value
            for operator in ("ArnLike", "ArnEquals")
            for values in st.get("Condition", {}).get(operator, {}).values()
            for value in (values if isinstance(values, list) else [values])
        ]
        if resources == ["*"] and scoped and all(v.startswith("arn:") for v in scoped):
            resources = scoped
        pairs += [(a, r) for a in actions for r in resources]
    return pairs


def test_policies_have_no_wildcard_action_and_scope_resources_to_arns(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(POLICY_SPEC)
    result = run(["policy", "-f", str(spec), "--output", "json"], cli_env("http://127.0.0.1:9"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    documents = [*doc["function_roles"].values(), *doc["operator"].values()]
    assert len(doc["operator"]) >= 6 and len(doc["function_roles"]) == 3
    pairs = [pair for d in documents for pair in statements(d)]
    assert pairs
    wild_actions = {a for a, _ in pairs if "*" in a}
    assert not wild_actions, f"wildcard actions: {wild_actions}"
    unscoped = {(a, r) for a, r in pairs if not r.startswith("arn:") and a not in UNSCOPABLE}
    assert not unscoped, f"resources not scoped to an ARN: {unscoped}"
    broad = {(a, r) for a, r in pairs if r.startswith("arn:") and r.split(":", 5)[-1] in ("*", "")}
    assert not broad, f"ARNs that name no resource: {broad}"
    for a, r in pairs:  # a resource ARN names the spec's table, queue, topic, bucket or function
        if r.startswith("arn:aws:dynamodb"):
            assert any(f"table/{t}" in r for t in ("orders", "other", "third")), (a, r)


# -- item images --------------------------------------------------------------------------------------
@pytest.fixture
def images_world(tmp_path: Path) -> Any:
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(poll_interval=0.2, state_seconds=0) as sb:
        world = FailureWorld(
            sb, tmp_path, shards=1, per_shard=5, rng=random.Random(3), prefix="img", marker=MARKER
        )
        yield world, cli_env(sb.endpoint_url)


def test_item_images_are_hidden_unless_show_images(images_world: Any, tmp_path: Path) -> None:
    world, env = images_world
    spec = ["-f", str(world.spec)]
    hidden = [
        run(["inspect-dlq", *spec, "--hydrate"], env, cwd=tmp_path),
        run(["inspect-dlq", *spec, "--hydrate", "--output", "json"], env, cwd=tmp_path),
        run(["inspect-dlq", *spec, "--hydrate", "--export", str(tmp_path / "x.jsonl")], env, cwd=tmp_path),
        run(["redrive", *spec, "--dry-run", "--yes"], env, cwd=tmp_path),
        run(["redrive", *spec, "--dry-run", "--yes", "--output", "json"], env, cwd=tmp_path),
    ]
    for result in hidden:
        assert result.returncode == 0, printed(result)[-2000:]
        assert MARKER not in printed(result), f"an item image was printed: {result.args[1:]}"
    assert MARKER not in (tmp_path / "x.jsonl").read_text(), "the export holds item images"
    shown = run(["inspect-dlq", *spec, "--hydrate", "--show-images", "--output", "json"], env, cwd=tmp_path)
    assert shown.returncode == 0 and MARKER in shown.stdout, "--show-images does not show the images"
    done = run(["redrive", *spec, "--yes", "--output", "json"], env, cwd=tmp_path)
    assert done.returncode == 0 and MARKER not in printed(done)
    assert world.depth() == (0, 0)


# -- credentials --------------------------------------------------------------------------------------
def command_lines(world: FailureWorld, tmp: Path) -> list[list[str]]:
    spec = ["-f", str(world.spec)]
    return [
        ["validate", *spec],
        ["plan", *spec],
        ["status", *spec],
        ["status", *spec, "--output", "json"],
        ["inspect-dlq", *spec, "--hydrate"],
        ["redrive", *spec, "--dry-run", "--yes"],
        ["policy", *spec],
        ["export", "--table", world.tables[0], "--output", "json"],
        ["apply", *spec, "--yes"],
        ["redrive", *spec, "--yes"],
        ["destroy", *spec, "--yes", "--force"],
    ]


def error_lines(world: FailureWorld, tmp: Path) -> list[list[str]]:
    """Commands that fail: a missing table, a bad spec, an unknown profile, a missing file."""
    bad = tmp / "bad.yaml"
    bad.write_text("version: 1\ntriggers:\n  - name: x\n    table: nope-table\n    function: nope\n")
    spec = ["-f", str(world.spec)]
    return [
        ["plan", "-f", str(bad)],
        ["inspect-dlq", "-f", str(bad)],
        ["status", *spec, "--profile", "no-such-profile"],
        ["redrive", "-f", str(tmp / "missing.yaml"), "--yes"],
    ]


def scan(runs: list[list[str]], tmp: Path, env: dict[str, str], *, debug: bool) -> dict[str, list[str]]:
    """Run the commands; returns what leaked, by credential value, with the commands that leaked it."""
    leaks: dict[str, list[str]] = {FAKE_KEY_ID: [], FAKE_SECRET: []}
    prefix = ["--debug"] if debug else []
    for args in runs:
        result = run([*prefix, *args], env, cwd=tmp, timeout=120)
        text = printed(result)
        for value in leaks:
            if value in text:
                leaks[value].append(" ".join(args[:1]))
    return leaks


@pytest.mark.slow
def test_no_credential_value_is_ever_printed(images_world: Any, tmp_path: Path, request: Any) -> None:
    world, env = images_world
    runs = command_lines(world, tmp_path) + error_lines(world, tmp_path)
    leaks = scan(runs, tmp_path, env, debug=False)
    assert leaks == {FAKE_KEY_ID: [], FAKE_SECRET: []}, f"credentials printed by: {leaks}"
    debug_runs = [
        ["inspect-dlq", "-f", str(world.spec), "--hydrate"],
        ["redrive", "-f", str(world.spec), "--dry-run", "--yes"],
        *error_lines(world, tmp_path)[1:3],
    ]
    debug_leaks = scan(debug_runs, tmp_path, env, debug=True)
    assert debug_leaks[FAKE_SECRET] == [], f"the secret key was printed with --debug by: {debug_leaks}"
    unreachable = run(
        ["--debug", "status", "-f", str(world.spec), "--endpoint-url", "http://127.0.0.1:9"],
        env,
        cwd=tmp_path,
        timeout=180,
    )
    assert unreachable.returncode == 1 and FAKE_SECRET not in printed(unreachable)
    record_figures(
        request.config,
        "credentials",
        {
            "runs": len(runs) + len(debug_runs) + 1,
            "secret_leaks": 0,
            "key_id_leaks_without_debug": 0,
            "key_id_leaks_with_debug": len(debug_leaks[FAKE_KEY_ID]),
        },
    )


def test_debug_output_never_prints_the_access_key_id(tmp_path: Path) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("version: 1\ntriggers:\n  - name: x\n    table: some-table\n    function: fn\n")
    env = cli_env("http://127.0.0.1:9")
    result = run(["--debug", "status", "-f", str(spec)], env, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert FAKE_KEY_ID not in printed(result)


# -- the sandbox's socket ----------------------------------------------------------------------------
def listening_addresses(port: int) -> set[str]:
    """The local addresses listening on ``port`` (from /proc/net/tcp and tcp6; no traffic is sent)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A = LISTEN
                found.add(address)
    return found


def test_sandbox_listens_on_loopback_only() -> None:
    from ddbtrigger.sandbox import Sandbox

    with Sandbox(state_seconds=0) as sb:
        port = int(sb.endpoint_url.rsplit(":", 1)[1])
        assert sb.endpoint_url.startswith("http://127.0.0.1:")
        assert listening_addresses(port) == {"0100007F"}, listening_addresses(port)  # 127.0.0.1, only


def test_debug_log_does_not_print_item_images(images_world: Any, tmp_path: Path) -> None:
    world, env = images_world
    result = run(["--debug", "inspect-dlq", "-f", str(world.spec), "--hydrate"], env, cwd=tmp_path)
    assert result.returncode == 0, printed(result)[-2000:]
    assert MARKER not in printed(result)

"""``ddbtrigger demo``: the whole lifecycle, offline, against an embedded sandbox, in under a minute.

The demo runs the real ``ddbtrigger`` commands (the CLI app, in this process, handed in by the ``demo``
command: the sandbox never imports the cli) aimed at the sandbox
through ``AWS_ENDPOINT_URL``, and before each step prints the command a user would type against real AWS.
Its handlers live here (not in ``examples/``) so the demo works from a plain ``pip install``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddbtrigger.errors import EXIT_INTERRUPTED

SPEC = """\
# The demo's spec: config.example.yaml with the failures kept small enough to watch.
version: 1
region: us-east-1
defaults:
  mapping:
    maximum_retry_attempts: 2
triggers:
  - name: orders-audit
    table: orders
    stream:
      view_type: NEW_AND_OLD_IMAGES
    function: orders-audit
    mapping:
      starting_position: TRIM_HORIZON
      batch_size: 10
      bisect_batch_on_function_error: true
      maximum_record_age_in_seconds: 3600
      report_batch_item_failures: true
      filters:
        - eventName: [INSERT, MODIFY]
      tags: {team: payments}
    on_failure:
      type: sqs
      name: orders-audit-dlq
    alarms:                          # a small threshold and period so the demo sees it fire and clear
      iterator_age_seconds: {threshold: 1, period: 10}
      notify: arn:aws:sns:us-east-1:123456789012:orders-oncall
  - name: orders-archive
    table: orders
    function: orders-archive
    mapping:
      batch_size: 100
    on_failure:
      type: s3
      name: orders-archive-failures
    lint_ignore: [DDBT005, DDBT011]
"""

ITEMS = 10
POISON_INDEX = 6
WAIT_SECONDS = 30
ALARM = "ddbtrigger-orders-audit-iterator-age"
TOPIC = "orders-oncall"
CHOKE_SECONDS = 0.3  # the buggy function works a while before it fails: the pill holds its shard


Cli = Callable[[list[str]], int]
"""Runs one ``ddbtrigger`` command line in this process and returns its exit code (the demo is handed
the real app by the ``demo`` command, so the sandbox never imports the cli)."""


class StickyInterrupt:
    """Ctrl-C that cannot be lost. Python runs a signal's handler wherever the main thread is, and
    when that is a finalizer (a weakref callback, a ``__del__``) the ``KeyboardInterrupt`` is printed
    as "Exception ignored" and dropped: the demo then ran to the end and exited 0 (seen in CI). The
    handler here also records the signal, and the demo checks the record at every step and wait; the
    dropped one is not printed as a traceback (``sys.unraisablehook``): Ctrl-C is not an error."""

    def __init__(self) -> None:
        self.seen = False
        self._previous: Any = None
        self._previous_hook: Any = None

    def __enter__(self) -> StickyInterrupt:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._previous_hook

    def _handle(self, signum: int, frame: Any) -> None:
        self.seen = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            self.seen = True  # dropped where it landed: raised again by the next check
            return
        self._previous_hook(unraisable)

    def check(self) -> None:
        """Raise again an interrupt that was swallowed where it first landed."""
        if self.seen:
            raise KeyboardInterrupt


def flushed(cli: Cli, args: list[str]) -> int:
    """One command, its output flushed before and after so the demo's own lines interleave in order."""
    sys.stdout.flush()
    try:
        return cli(args)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


class DemoFailed(Exception):
    """A step did not do what the demo expects."""


def is_poison(record: dict[str, Any]) -> bool:
    return bool(record.get("dynamodb", {}).get("NewImage", {}).get("poison", {}).get("BOOL"))


def buggy_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function as deployed: it chokes on an order flagged ``poison`` (after a while, as a real
    function does: a retry loop, a timeout), so the pill holds its shard long enough to be seen."""
    for record in event.get("Records", []):
        if is_poison(record):
            time.sleep(CHOKE_SECONDS)
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            raise ValueError(f"cannot audit order {key}: unexpected 'poison' attribute")
    return {"audited": len(event.get("Records", []))}


def fixed_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function after the fix: the odd order is audited like any other."""
    return {"audited": len(event.get("Records", []))}


@dataclass
class Demo:
    """One run: the sandbox, a temporary working directory, and how to print."""

    sandbox: Any
    workdir: Path
    cli: Cli
    echo: Callable[[str], None] = print
    batches: list[int] = field(default_factory=list)
    pager: str = ""  # the queue subscribed to the alarm topic
    interrupt: StickyInterrupt = field(default_factory=StickyInterrupt)

    def watched(self, handler: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any], Any], Any]:
        """The handler, noting the size of each batch orders-audit receives (to show bisect at work)."""

        def run(event: dict[str, Any], context: Any) -> Any:
            self.batches.append(len(event.get("Records", [])))
            return handler(event, context)

        return run

    @property
    def spec(self) -> str:
        return str(self.workdir / "ddbtrigger.yaml")

    def step(self, title: str, real_command: str) -> None:
        self.interrupt.check()
        self.echo("")
        self.echo(f"== {title}")
        self.echo(f"   $ {real_command}")

    def run(self, *args: str, expect: tuple[int, ...] = (0,)) -> int:
        """Run a ddbtrigger command (in-process, through the real CLI) against the sandbox."""
        code = flushed(self.cli, [*args, "--file", self.spec])
        self.interrupt.check()
        if code == EXIT_INTERRUPTED:  # Ctrl-C inside the step: the whole demo stops (and cleans up)
            raise KeyboardInterrupt
        if code not in expect:
            raise DemoFailed(f"`ddbtrigger {' '.join(args)}` exited {code}")
        return code

    def wait(self, what: str, predicate: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.interrupt.check()
            if time.monotonic() > deadline:
                raise DemoFailed(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(0.1)


def _create_resources(demo: Demo) -> None:
    demo.step(
        "Create the table and the two functions (ddbtrigger never deploys functions)",
        "aws dynamodb create-table --table-name orders --attribute-definitions "
        "AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH "
        "--billing-mode PAY_PER_REQUEST",
    )
    demo.echo("   $ aws lambda create-function --function-name orders-audit ... (and orders-archive)")
    demo.sandbox.client("dynamodb").create_table(
        TableName="orders",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    demo.sandbox.register_handler("orders-audit", demo.watched(buggy_handler))
    demo.sandbox.register_handler("orders-archive", buggy_handler)
    demo.echo("   table orders; functions orders-audit and orders-archive (both choke on a poison pill)")
    demo.echo(f"   $ aws sns create-topic --name {TOPIC}   # on-call is told when an alarm changes state")
    demo.pager = _subscribe_pager(demo.sandbox)


def _subscribe_pager(sandbox: Any) -> str:
    """The on-call topic, and a queue subscribed to it (raw delivery) standing in for the pager."""
    sns, sqs = sandbox.client("sns"), sandbox.client("sqs")
    topic = sns.create_topic(Name=TOPIC)["TopicArn"]
    url = sqs.create_queue(QueueName=f"{TOPIC}-pager")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return str(url)


def _alarm_state(demo: Demo) -> str:
    found = demo.sandbox.client("cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
    return str(found[0]["StateValue"]) if found else "missing"


def _pages(demo: Demo) -> list[str]:
    """The alarm notifications the pager queue received so far (``ALARM``/``OK``), consumed."""
    import json

    sqs = demo.sandbox.client("sqs")
    got = sqs.receive_message(QueueUrl=demo.pager, MaxNumberOfMessages=10).get("Messages", [])
    for message in got:
        sqs.delete_message(QueueUrl=demo.pager, ReceiptHandle=message["ReceiptHandle"])
    return [str(json.loads(m["Body"]).get("NewStateValue")) for m in got]


def _see_alarm(demo: Demo, state: str, why: str) -> None:
    """Wait until the iterator-age alarm is in ``state`` and its notification reached the topic."""
    demo.wait(f"alarm {ALARM} to be {state}", lambda: _alarm_state(demo) == state)
    pages: list[str] = []

    def paged() -> bool:
        pages.extend(_pages(demo))
        return state in pages

    demo.wait(f"the {state} notification on {TOPIC}", paged)
    demo.echo(f"   alarm {ALARM}: {state} ({why}); {TOPIC} was notified")


def _apply(demo: Demo) -> None:
    (demo.workdir / "ddbtrigger.yaml").write_text(SPEC)
    demo.step("The spec: two triggers on the orders table (see ddbtrigger.yaml)", "cat ddbtrigger.yaml")
    demo.echo("   " + SPEC.replace("\n", "\n   ").rstrip())
    demo.step("Review the plan", "ddbtrigger plan")
    demo.run("plan")
    demo.step("Apply it: stream, failure destinations, mappings, in a safe order", "ddbtrigger apply --yes")
    if demo.run("apply", "--yes", expect=(0, 1)) != 0:
        demo.echo("   apply stopped part-way; as it says, a rerun continues from what is live:")
        demo.step("Apply again", "ddbtrigger apply --yes")
        demo.run("apply", "--yes")


def _write_items(demo: Demo) -> None:
    demo.step(
        f"Write {ITEMS} orders; order-{POISON_INDEX} is a poison pill",
        'aws dynamodb batch-write-item --request-items file://orders.json   # order-6 has "poison": true',
    )
    requests = []
    for i in range(ITEMS):
        item: dict[str, Any] = {"pk": {"S": f"order-{i}"}, "total": {"N": str(10 * (i + 1))}}
        if i == POISON_INDEX:
            item["poison"] = {"BOOL": True}
        requests.append({"PutRequest": {"Item": item}})
    demo.sandbox.client("dynamodb").batch_write_item(RequestItems={"orders": requests})


def _destination_counts(demo: Demo) -> tuple[int, int]:
    sqs, s3 = demo.sandbox.client("sqs"), demo.sandbox.client("s3")
    url = sqs.get_queue_url(QueueName="orders-audit-dlq")["QueueUrl"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    queued = sum(int(v) for v in attributes.values())
    objects = s3.list_objects_v2(Bucket="orders-archive-failures").get("KeyCount", 0)
    return queued, int(objects)


def _watch_the_pill(demo: Demo) -> None:
    demo.step(
        "Watch Lambda bisect the batch, retry the pill, then send it to the failure destinations",
        "ddbtrigger status   # repeat until the destination depth is 1",
    )
    started = time.monotonic()
    demo.wait("the poison pill to reach both destinations", lambda: _destination_counts(demo) == (1, 1))
    demo.echo(
        f"   the pill landed in SQS (a pointer) and S3 (the records) after {time.monotonic() - started:.1f}s;"
        " the other orders were delivered"
    )
    _see_alarm(demo, "ALARM", "the pill held the shard: its iterator age passed 1 s")
    sizes = ", ".join(str(n) for n in demo.batches)
    demo.echo(
        f"   orders-audit saw batches of {sizes} records: bisect split the failing batch until the pill"
    )
    demo.echo(
        "   was alone, retried it twice (maximum_retry_attempts: 2), then sent its pointer to the queue"
    )
    demo.step("Status: mappings, shards, last processing result, destination depth", "ddbtrigger status")
    demo.run("status", expect=(0, 3))  # 3: attention needed (a failure waits)
    demo.step("Read what the destinations hold, without consuming it", "ddbtrigger inspect-dlq")
    demo.run("inspect-dlq")


def _fix_and_redrive(demo: Demo) -> None:
    demo.step(
        "Fix the function",
        "aws lambda update-function-code --function-name orders-audit "
        "--zip-file fileb://fixed.zip   # and orders-archive",
    )
    demo.sandbox.register_handler("orders-audit", fixed_handler)
    demo.sandbox.register_handler("orders-archive", fixed_handler)
    demo.step(
        "Redrive: records back from the stream (SQS) or the S3 object, invoked, then deleted",
        "ddbtrigger redrive --yes",
    )
    demo.run("redrive", "--yes")
    demo.step("The destinations are empty", "ddbtrigger inspect-dlq")
    demo.run("inspect-dlq")
    if _destination_counts(demo) != (0, 0):
        raise DemoFailed("the destinations are not empty after the redrive")
    demo.step("The alarm clears once a period passes without a blocked shard", "ddbtrigger status")
    _see_alarm(demo, "OK", "nothing blocks the shard any more")
    demo.run("status")


def run_demo(cli: Cli, *, keep: bool = False, echo: Callable[[str], None] = print) -> int:
    """Run every step through ``cli`` (the real app, in this process: a subprocess per step would
    double the demo's time); 0 when the tour went as described, 1 (with the reason) when a step did not,
    130 on Ctrl-C (the sandbox stopped and, unless ``keep``, the temporary directory removed)."""
    import shutil

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="ddbtrigger-demo-"))
    try:
        with StickyInterrupt() as interrupt:
            failed = _tour(workdir, cli, echo, interrupt)
            interrupt.check()  # one swallowed while the sandbox stopped
    except KeyboardInterrupt:
        kept = f"; kept {workdir}" if keep else ""
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        echo(f"\ndemo interrupted: the sandbox is stopped and its files removed{kept}")
        return EXIT_INTERRUPTED
    if failed is not None:
        echo(f"\ndemo failed: {failed} (files kept in {workdir})")
        return 1
    echo(
        f"\nDone in {time.monotonic() - started:.0f}s: applied, isolated a poison pill (its alarm fired), "
        "inspected it, fixed, redrove, the destinations are empty and the alarm is OK."
    )
    echo(
        "Next: point the same commands at your account (drop AWS_ENDPOINT_URL) with your own ddbtrigger.yaml."
    )
    if keep:
        echo(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def _tour(
    workdir: Path, cli: Cli, echo: Callable[[str], None], interrupt: StickyInterrupt
) -> DemoFailed | None:
    """Every stage against a fresh embedded sandbox (stopped on the way out, whatever happens);
    the environment is restored afterwards. Returns why a stage failed, if one did."""
    from ddbtrigger.sandbox.server import Sandbox

    saved = dict(os.environ)
    try:
        with Sandbox(poll_interval=0.1) as sandbox:
            os.environ.update({**sandbox.environment(), "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"})
            for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "DDBTRIGGER_FILE"):
                os.environ.pop(name, None)
            demo = Demo(sandbox, workdir, cli, echo, interrupt=interrupt)
            echo(
                f"ddbtrigger demo: an embedded sandbox (a local AWS) on {sandbox.endpoint_url}; "
                f"working in {workdir}"
            )
            echo("Every step shows the command you would run against real AWS.")
            for stage in (_create_resources, _apply, _write_items, _watch_the_pill, _fix_and_redrive):
                stage(demo)
    except DemoFailed as e:
        return e
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return None

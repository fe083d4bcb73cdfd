"""The floor for ``inspect-dlq``: receive 10 at a time holding them invisible, then release them all.

SQS has no peek. The least work that reads every message once without consuming it: ReceiveMessage (10,
a visibility timeout long enough for the scan), decode each body, and at the end set every message's
visibility back to 0, 10 per ChangeMessageVisibilityBatch. Prints one line per trigger.

``--confirm-wait N``: confirm the first empty short poll with one long poll of N seconds before ending
(real SQS short polls sample a subset of its servers, so an empty one does not prove the queue empty;
ddbtrigger confirms with a 1-second long poll).
"""

from __future__ import annotations

import json

from floorlib import clients, parse, triggers


def scan(sqs: object, url: str, confirm_wait: int = 0) -> tuple[int, int]:
    held: list[str] = []
    failures = malformed = 0
    wait = 0
    try:
        while True:
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,  # type: ignore[attr-defined]
                VisibilityTimeout=900,
                WaitTimeSeconds=wait,
            ).get("Messages", [])
            if not got and (wait or not confirm_wait):
                break
            wait = 0 if got else confirm_wait
            for message in got:
                held.append(message["ReceiptHandle"])
                try:
                    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
                    failures += bool(info["shardId"] and info["startSequenceNumber"])
                except (ValueError, KeyError, TypeError):
                    malformed += 1
    finally:
        for start in range(0, len(held), 10):
            entries = [
                {"Id": str(i), "ReceiptHandle": h, "VisibilityTimeout": 0}
                for i, h in enumerate(held[start : start + 10])
            ]
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)  # type: ignore[attr-defined]
    return failures, malformed


def main() -> None:
    args = parse(__doc__ or "", lambda p: p.add_argument("--confirm-wait", type=int, default=0))
    spec, trigs = triggers(args)
    (sqs,) = clients(args, spec, "sqs")
    for trig in trigs:
        url = sqs.get_queue_url(QueueName=trig["on_failure"]["name"])["QueueUrl"]
        failures, malformed = scan(sqs, url, args.confirm_wait)
        print(f"{trig['name']}: {failures} failure(s), {malformed} malformed")


if __name__ == "__main__":
    main()

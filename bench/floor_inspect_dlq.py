"""The floor for ``inspect-dlq``: receive 10 at a time holding them invisible, then release them all.

SQS has no peek. The least work that reads every message once without consuming it: ReceiveMessage (10,
a visibility timeout long enough for the scan), decode each body, and at the end set every message's
visibility back to 0, 10 per ChangeMessageVisibilityBatch. Prints one line per trigger.
"""

from __future__ import annotations

import json

from floorlib import clients, parse, triggers


def scan(sqs: object, url: str) -> tuple[int, int]:
    held: list[str] = []
    failures = malformed = 0
    try:
        while True:
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,  # type: ignore[attr-defined]
                VisibilityTimeout=900,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                break
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
    args = parse(__doc__ or "")
    spec, trigs = triggers(args)
    (sqs,) = clients(args, spec, "sqs")
    for trig in trigs:
        url = sqs.get_queue_url(QueueName=trig["on_failure"]["name"])["QueueUrl"]
        failures, malformed = scan(sqs, url)
        print(f"{trig['name']}: {failures} failure(s), {malformed} malformed")


if __name__ == "__main__":
    main()

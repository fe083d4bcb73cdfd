"""The sandbox's event source mapping emulator behaves as Lambda's pollers do."""

from __future__ import annotations

import json
from typing import Any

from ddbtrigger.core.failures import Failure, parse_failure
from tests.aws.conftest_sandbox import (
    Recorder,
    create_mapping,
    make_queue,
    make_table,
    put,
    receive,
    stays_false,
    stream_sequence_numbers,
    wait_for,
)


def _setup(
    sb: Any, handler: Any, *, records: int = 10, poison_at: int | None = 6
) -> tuple[str, list[str], str, str]:
    stream = make_table(sb)
    assert stream
    sb.register_handler("orders-audit", handler)
    for i in range(records):
        put(sb, f"k{i}", poison=i == poison_at)
    url, arn = make_queue(sb)
    return stream, stream_sequence_numbers(sb, stream), url, arn


def test_bisect_isolates_the_poison_pill_and_delivers_the_rest_once(sandbox: Any) -> None:
    recorder = Recorder()
    stream, seqs, url, dlq = _setup(sandbox, recorder)
    mapping = create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=10,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    assert mapping["LastProcessingResult"] == "No records processed"

    pointers = wait_for(lambda: receive(sandbox, url), what="the pointer in the queue")
    wait_for(lambda: len(recorder.delivered) == 9, what="the other nine records")

    assert len(pointers) == 1
    info = pointers[0]["DDBStreamBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[6]
    assert info["batchSize"] == 1
    assert info["streamArn"] == stream
    assert pointers[0]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert pointers[0]["requestContext"]["approximateInvokeCount"] == 3
    assert pointers[0]["responseContext"]["functionError"] == "Unhandled"
    assert sorted(recorder.delivered) == sorted(s for i, s in enumerate(seqs) if i != 6)
    assert len(set(recorder.delivered)) == 9
    assert sum(batch == [seqs[6]] for batch in recorder.batches) == 3  # first try + 2 retries
    lam = sandbox.client("lambda")
    wait_for(
        lambda: lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK",
        what="LastProcessingResult OK after the last batch",
    )


def test_the_pointer_parses_as_a_failure(sandbox: Any) -> None:
    stream, seqs, url, dlq = _setup(sandbox, Recorder(), records=3, poison_at=1)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=1,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    body = wait_for(lambda: sandbox.client("sqs").receive_message(QueueUrl=url).get("Messages"))[0]["Body"]
    failure = parse_failure(body, id="m1", source="sqs")
    assert isinstance(failure, Failure), failure
    assert failure.start_sequence_number == seqs[1]
    assert failure.approximate_invoke_count == 1


def test_without_bisect_the_whole_batch_goes_to_the_destination(sandbox: Any) -> None:
    recorder = Recorder()
    stream, seqs, url, dlq = _setup(sandbox, recorder)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=10,
        BisectBatchOnFunctionError=False,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    pointer = wait_for(lambda: receive(sandbox, url))[0]
    info = pointer["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == (
        seqs[0],
        seqs[-1],
        10,
    )
    assert pointer["requestContext"]["approximateInvokeCount"] == 2
    assert recorder.delivered == []


def test_partial_batch_response_checkpoints_at_the_lowest_failure(sandbox: Any) -> None:
    recorder = Recorder(partial=True)
    stream, seqs, url, dlq = _setup(sandbox, recorder)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=10,
        MaximumRetryAttempts=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    pointer = wait_for(lambda: receive(sandbox, url))[0]
    info = pointer["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (seqs[6], seqs[9])
    assert info["batchSize"] == 4
    assert recorder.batches[0] == seqs
    assert recorder.batches[1] == seqs[6:]  # the retry starts at the checkpoint
    assert recorder.delivered[:6] == seqs[:6]


def test_a_malformed_partial_response_fails_the_whole_batch(sandbox: Any) -> None:
    recorder = Recorder(response={"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]})
    stream, seqs, url, dlq = _setup(sandbox, recorder, records=4, poison_at=None)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=10,
        MaximumRetryAttempts=0,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    info = wait_for(lambda: receive(sandbox, url))[0]["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"]) == (seqs[0], seqs[3])


def test_records_past_the_maximum_age_go_to_the_destination(sandbox: Any, clock: Any) -> None:
    recorder = Recorder()
    stream, seqs, url, dlq = _setup(sandbox, recorder, records=1, poison_at=0)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=10,
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    wait_for(lambda: len(recorder.batches) >= 2, what="retries of the failing record")
    assert receive(sandbox, url) == []
    clock.advance(61)
    pointer = wait_for(lambda: receive(sandbox, url))[0]
    assert pointer["requestContext"]["condition"] == "RecordAgeExceeded"
    assert pointer["DDBStreamBatchInfo"]["startSequenceNumber"] == seqs[0]


def test_disabled_mapping_pauses_and_resumes_where_it_stood(sandbox: Any) -> None:
    recorder = Recorder()
    stream, seqs, _, _ = _setup(sandbox, recorder, records=2, poison_at=None)
    mapping = create_mapping(sandbox, stream, "orders-audit", BatchSize=10, Enabled=False)
    assert stays_false(lambda: recorder.batches, sandbox)
    lam = sandbox.client("lambda")
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    wait_for(lambda: recorder.delivered == seqs)
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    put(sandbox, "later")
    assert stays_false(lambda: len(recorder.delivered) > 2, sandbox)
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    wait_for(lambda: len(recorder.delivered) == 3)
    assert len(recorder.batches) == 2


def test_stays_false_sees_a_delivery_the_emulator_makes(sandbox: Any) -> None:
    """The negative check itself can fail: it lasts until the pollers really looked, not a window."""
    recorder = Recorder()
    stream, _, _, _ = _setup(sandbox, recorder, records=1, poison_at=None)
    create_mapping(sandbox, stream, "orders-audit")
    assert not stays_false(lambda: recorder.batches, sandbox)
    scans, looks = sandbox.mapping_progress()
    assert scans >= 3 and looks and all(n >= 1 for n in looks.values())


def test_deleting_the_mapping_stops_delivery(sandbox: Any) -> None:
    recorder = Recorder()
    stream, _, _, _ = _setup(sandbox, recorder, records=1, poison_at=None)
    mapping = create_mapping(sandbox, stream, "orders-audit")
    wait_for(lambda: len(recorder.delivered) == 1)
    sandbox.client("lambda").delete_event_source_mapping(UUID=mapping["UUID"])
    put(sandbox, "after-delete")
    assert stays_false(lambda: len(recorder.delivered) > 1, sandbox)


def test_filters_drop_records_before_batching(sandbox: Any) -> None:
    recorder = Recorder()
    stream = make_table(sandbox)
    assert stream
    sandbox.register_handler("orders-audit", recorder)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=10,
        FilterCriteria={
            "Filters": [
                {
                    "Pattern": json.dumps(
                        {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["a"]}}}}
                    )
                },
                {"Pattern": json.dumps({"eventName": ["REMOVE"]})},
            ]
        },
    )
    put(sandbox, "1", kind="a")
    put(sandbox, "2", kind="b")
    put(sandbox, "1", kind="a")  # MODIFY: filtered out
    sandbox.client("dynamodb").delete_item(TableName="orders", Key={"pk": {"S": "2"}})
    seqs = stream_sequence_numbers(sandbox, stream)
    wait_for(lambda: len(recorder.delivered) == 2)
    assert stays_false(lambda: len(recorder.delivered) > 2, sandbox)
    assert recorder.delivered == [seqs[0], seqs[3]]


def test_latest_starts_at_the_end_of_the_shard_when_created(sandbox: Any) -> None:
    recorder = Recorder()
    stream, seqs, _, _ = _setup(sandbox, recorder, records=3, poison_at=None)
    create_mapping(sandbox, stream, "orders-audit", StartingPosition="LATEST")
    put(sandbox, "new")
    wait_for(lambda: recorder.delivered)
    assert recorder.delivered == [stream_sequence_numbers(sandbox, stream)[3]]
    assert not set(seqs) & set(recorder.delivered)


def test_batches_hold_at_most_batch_size_records_in_order(sandbox: Any) -> None:
    recorder = Recorder()
    stream, seqs, _, _ = _setup(sandbox, recorder, records=7, poison_at=None)
    create_mapping(sandbox, stream, "orders-audit", BatchSize=3)
    wait_for(lambda: len(recorder.delivered) == 7)
    assert [len(b) for b in recorder.batches] == [3, 3, 1]
    assert recorder.delivered == seqs


def test_batching_window_gathers_records_written_apart(sandbox: Any) -> None:
    recorder = Recorder()
    stream, _, _, _ = _setup(sandbox, recorder, records=0)
    create_mapping(sandbox, stream, "orders-audit", BatchSize=100, MaximumBatchingWindowInSeconds=1)
    put(sandbox, "a")
    assert stays_false(lambda: recorder.batches, sandbox)  # the window holds the first record back
    put(sandbox, "b")
    wait_for(lambda: len(recorder.delivered) == 2, timeout=5)
    assert [len(b) for b in recorder.batches] == [2]


def test_sns_destination_receives_the_pointer(sandbox: Any) -> None:
    stream, seqs, url, queue_arn = _setup(sandbox, Recorder(), records=1, poison_at=0)
    sns = sandbox.client("sns")
    topic = sns.create_topic(Name="orders-dlq")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic}},
    )
    envelope = wait_for(lambda: receive(sandbox, url))[0]
    assert envelope["Type"] == "Notification"
    assert json.loads(envelope["Message"])["DDBStreamBatchInfo"]["startSequenceNumber"] == seqs[0]


def test_s3_destination_keeps_the_whole_invocation(sandbox: Any) -> None:
    stream, seqs, _, _ = _setup(sandbox, Recorder(), records=2, poison_at=1)
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="orders-failures")
    mapping = create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=1,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::orders-failures"}},
    )
    keys = wait_for(
        lambda: [o["Key"] for o in s3.list_objects_v2(Bucket="orders-failures").get("Contents", [])]
    )
    shard = sandbox.client("dynamodbstreams").describe_stream(StreamArn=stream)["StreamDescription"][
        "Shards"
    ][0]
    assert keys[0].startswith(f"aws/lambda/{mapping['UUID']}/{shard['ShardId']}/")
    body = s3.get_object(Bucket="orders-failures", Key=keys[0])["Body"].read()
    failure = parse_failure(body, id=keys[0], source="s3")
    assert isinstance(failure, Failure), failure
    assert failure.records is not None
    assert [r["dynamodb"]["SequenceNumber"] for r in failure.records] == [seqs[1]]
    assert failure.records[0]["eventSourceARN"] == stream


def test_unbounded_retries_block_the_shard_until_the_stream_trims_the_record(
    sandbox: Any, clock: Any
) -> None:
    sandbox.model.retention_seconds = 120
    recorder = Recorder()
    stream, seqs, url, dlq = _setup(sandbox, recorder, records=2, poison_at=0)
    create_mapping(
        sandbox,
        stream,
        "orders-audit",
        BatchSize=1,
        MaximumRetryAttempts=-1,
        MaximumRecordAgeInSeconds=-1,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    wait_for(lambda: len(recorder.batches) >= 3, what="retries of the pill")
    assert recorder.delivered == []  # the record behind the pill waits
    clock.advance(121)
    pointer = wait_for(lambda: receive(sandbox, url))[0]
    assert pointer["DDBStreamBatchInfo"]["startSequenceNumber"] == seqs[0]
    assert recorder.delivered == []  # the record behind it was trimmed too: lost, as on AWS

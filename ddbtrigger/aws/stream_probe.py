"""Does a stream already hold records? The cheap read behind ``plan``'s TRIM_HORIZON replay warning.

One GetShardIterator (TRIM_HORIZON) and one GetRecords (Limit=1) per open shard, stopping at the first
record; only called for mappings about to be created or replaced, so a no-op plan costs nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ddbtrigger.aws.errors import translate_errors
from ddbtrigger.aws.stream_records import describe_shards

if TYPE_CHECKING:
    from ddbtrigger.aws.clients import ClientFactory


def stream_holds_records(factory: ClientFactory, stream_arn: str) -> bool:
    """True when an open shard of the stream has a record at its trim horizon."""
    client = factory.client("dynamodbstreams")
    shards = describe_shards(client, stream_arn)
    open_shards = [s for s in shards if "EndingSequenceNumber" not in s.get("SequenceNumberRange", {})]
    with translate_errors(f"read the stream {stream_arn}"):
        for shard in open_shards:
            iterator = client.get_shard_iterator(
                StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            ).get("ShardIterator")
            if iterator and client.get_records(ShardIterator=iterator, Limit=1).get("Records"):
                return True
    return False

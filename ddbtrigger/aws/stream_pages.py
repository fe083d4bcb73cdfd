"""Read a whole DynamoDB stream forward, shard by shard (``tail`` and ``replay``).

The shards are DescribeStream's, in lineage order (``core.shards``); each shard is read through the
shared ``aws.stream_records.ShardReaders`` (one paced reader per shard, a fresh iterator when one
expires), so tail and replay keep to the per-shard read budget the mapping shares: AWS allows about
five GetRecords calls per second per shard across every reader.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ddbtrigger.aws.stream_records import ShardReaders, describe_shards
from ddbtrigger.core.shards import Shard, ordered

FOLLOW_READS_PER_SECOND = 1.0
"""While following, one GetRecords per second per shard: the mapping keeps most of the budget."""
CATCH_UP_READS_PER_SECOND = 2.0
"""Reading history once (tail without --follow, replay): still well under the mapping's share."""


class StreamPages:
    """``usecases.tail.StreamSource`` (and replay's reads) over a Streams client."""

    def __init__(
        self,
        streams_client: Any,
        *,
        reads_per_second: float = CATCH_UP_READS_PER_SECOND,
        sleep: Callable[[float], None] = time.sleep,
        readers: ShardReaders | None = None,
    ) -> None:
        self.client = streams_client
        self.readers = readers or ShardReaders(
            lambda _arn: streams_client, max_calls_per_second=reads_per_second, sleep=sleep
        )

    def shards(self, stream_arn: str) -> list[Shard]:
        """Every shard of the stream, parents before children."""
        return ordered(Shard.from_aws(s) for s in describe_shards(self.client, stream_arn))

    def page(self, stream_arn: str, shard_id: str) -> tuple[list[dict[str, Any]], bool]:
        """The shard's next page (boto3's shape) and whether the shard has ended."""
        return self.readers.get(stream_arn, shard_id).read_page()

    def start_at_latest(self, stream_arn: str, shard_id: str) -> None:
        """Read the shard from what is written next (``tail --follow`` without ``--since``)."""
        self.readers.get(stream_arn, shard_id).open("LATEST")

    @property
    def calls(self) -> int:
        return self.readers.calls


class AwsReplayGateway(StreamPages):
    """``usecases.replay.ReplayGateway``: the stream read through redrive's shard readers, delivered
    through redrive's invoker (one reader cache, one invoke path)."""

    def __init__(self, factory: Any, *, reads_per_second: float = CATCH_UP_READS_PER_SECOND) -> None:
        from ddbtrigger.aws.redrive_gateway import AwsRedriveGateway

        self.redrive = AwsRedriveGateway(factory, {}, reads_per_second=reads_per_second)
        super().__init__(self.redrive.streams, readers=self.redrive.readers)

    def deliver(self, function: str, event: Any) -> Any:
        return self.redrive.deliver(function, event)

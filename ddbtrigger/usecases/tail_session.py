"""Open ``tail`` on a spec trigger: resolve its stream, build the paced readers, run ``usecases.tail``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ddbtrigger.core.selection import Selection
from ddbtrigger.usecases.stream_target import StreamTarget, from_spec, one_trigger
from ddbtrigger.usecases.tail import Record, StreamSource, follow, history


@dataclass
class TailSession:
    source: StreamSource
    target: StreamTarget
    selection: Selection
    factory: Any

    def history(self) -> Iterator[Record]:
        yield from history(self.source, self.target.stream_arn, self.selection)

    def follow(self, emit: Callable[[Record], None], *, from_now: bool) -> None:
        from ddbtrigger.aws.stream_pages import FOLLOW_READS_PER_SECOND, StreamPages

        source = StreamPages(self.factory.client("dynamodbstreams"), reads_per_second=FOLLOW_READS_PER_SECOND)
        follow(source, self.target.stream_arn, self.selection, emit, from_now=from_now)


def open_tail(factory: Any, triggers: Sequence[Any], selection: Selection) -> TailSession:
    from ddbtrigger.aws.stream_pages import StreamPages

    target = from_spec(factory, one_trigger(triggers, "tail"))
    return TailSession(StreamPages(factory.client("dynamodbstreams")), target, selection, factory)

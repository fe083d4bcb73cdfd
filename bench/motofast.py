"""Make moto's SQS cost per call independent of queue depth, as real SQS's is (bench process only).

moto 5.2.5 scans the whole queue several times per message: every received message asks for the
queue's attributes (three O(n) scans, each reading the clock through a slow datetime path per message), and
ChangeMessageVisibility searches every message's receipt handles. A 10,000-message scan then takes
hours in the emulator, which would measure moto, not ddbtrigger. These patches keep moto's behaviour
(same checks, same errors) but: a fast clock, the visible-message list built with one clock read, the retention check reading the queue's own field, and a
receipt-handle index for ChangeMessageVisibility. They apply to the in-process server only; the
benchmarked commands are separate processes and are not touched.
"""

from __future__ import annotations

import time
from typing import Any

_installed: list[bool] = []


def install() -> None:
    if _installed:
        return
    import moto.sqs.models as m

    slow_unix_time, slow_unix_time_millis = m.unix_time, m.unix_time_millis
    handles: dict[str, Any] = {}

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(slow_unix_time(dt))

    def unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000 if dt is None else float(slow_unix_time_millis(dt))

    original_mark_received = m.Message.mark_received

    def mark_received(self: Any, visibility_timeout: int | None = None) -> None:
        original_mark_received(self, visibility_timeout)
        handles[self.receipt_handle] = self

    def is_valid(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > time.time())

    original_change = m.SQSBackend.change_message_visibility

    def change_message_visibility(
        self: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
    ) -> None:
        queue = self.get_queue(queue_name)
        message = handles.get(receipt_handle)
        if message is None or receipt_handle in queue.deleted_messages:
            return original_change(self, queue_name, receipt_handle, visibility_timeout)  # type: ignore[no-any-return]
        if unix_time_millis() + int(visibility_timeout) * 1000 - message.sent_timestamp > 43200 * 1000:
            return original_change(self, queue_name, receipt_handle, visibility_timeout)  # type: ignore[no-any-return]
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)
        return None

    def messages(self: Any) -> list[Any]:
        now = time.time() * 1000
        return [msg for msg in self._messages if now > msg.visible_at and now >= msg.delayed_until]

    m.unix_time, m.unix_time_millis = unix_time, unix_time_millis
    m.Queue.messages = property(messages)  # type: ignore[method-assign,assignment]
    m.Message.mark_received = mark_received  # type: ignore[method-assign]
    m.SQSBackend.is_message_valid_based_on_retention_period = is_valid  # type: ignore[method-assign]
    m.SQSBackend.change_message_visibility = change_message_visibility  # type: ignore[method-assign]
    _installed.append(True)

"""The sandbox's CloudWatch: a thread that publishes the metrics and evaluates the alarms.

Every ``interval`` seconds (``Sandbox(metrics_interval=...)``, default 1 s) it writes the samples gathered
since the last tick (``metrics.MetricsPublisher``) and then evaluates every metric alarm
(``alarms.AlarmEvaluator``), both on the sandbox's clock. ``tick()`` does the same at once, for tests
that drive a fake clock. It also serves ``DescribeAlarmHistory``, which moto lacks, from the history the
evaluator records.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ddbtrigger.sandbox import handlers
from ddbtrigger.sandbox.alarms import AlarmEvaluator, install_alarm_state
from ddbtrigger.sandbox.handlers import Invocation
from ddbtrigger.sandbox.metric_queries import install_metric_queries
from ddbtrigger.sandbox.metrics import MetricsPublisher
from ddbtrigger.sandbox.patching import Patcher

log = logging.getLogger("ddbtrigger.sandbox")


class Monitoring:
    """``start()`` / ``stop()`` with the sandbox; ``tick()`` publishes and evaluates now."""

    def __init__(
        self, *, clock: Callable[[], float], client: Callable[[str, str], Any], interval: float
    ) -> None:
        self.interval = interval
        self.publisher = MetricsPublisher(clock)
        self.evaluator = AlarmEvaluator(clock=clock, client=client)
        self._stopping = threading.Event()
        self._tick_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def install(self, patcher: Patcher) -> None:
        """Count every invoke (after the invocation log), seed alarm states, serve alarm history, answer
        GetMetricData in linear time (``metric_queries``)."""
        logged = handlers.invocation_observer

        def observe(invocation: Invocation) -> None:
            if logged is not None:
                logged(invocation)
            self.publisher.on_invocation(invocation)

        patcher.set(handlers, "invocation_observer", observe)
        install_alarm_state(patcher)
        install_alarm_history(patcher)
        install_metric_queries(patcher)

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def tick(self) -> None:
        with self._tick_lock:
            self.publisher.flush()
            self.evaluator.evaluate()

    def _run(self) -> None:
        while not self._stopping.wait(self.interval):
            try:
                self.tick()
            except Exception:  # a moto reset mid-tick; try again next time
                log.debug("metrics tick failed", exc_info=True)


def install_alarm_history(patcher: Patcher) -> None:
    """``DescribeAlarmHistory`` (by AlarmName and HistoryItemType), newest first."""
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.core.responses import ActionResult

    def describe_alarm_history(response: Any) -> Any:
        name = response._get_param("AlarmName")
        kind = response._get_param("HistoryItemType")
        items = [
            item
            for alarm in response.cloudwatch_backend.alarms.values()
            if not name or alarm.name == name
            for item in getattr(alarm, "sandbox_history", [])
            if not kind or item["HistoryItemType"] == kind
        ]
        items.sort(key=lambda item: item["Timestamp"], reverse=True)
        return ActionResult({"AlarmHistoryItems": items})

    patcher.set(CloudWatchResponse, "describe_alarm_history", describe_alarm_history)

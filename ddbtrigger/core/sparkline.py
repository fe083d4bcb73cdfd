"""The last hours as a picture: CloudWatch points bucketed into fixed periods, drawn as a sparkline.

``status --metrics --hours N`` asks CloudWatch for one point per ``period`` (chosen so N hours fit in
``MARKS`` characters: a line stays readable at 80 columns) and draws each series as block characters
scaled from 0 to the series' maximum. A period with no datapoint is drawn ``·``, distinct from a zero
(``▁``): Lambda publishes IteratorAge only while it invokes, so "no data" and "zero" mean different things.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

MARKS = 48
BLOCKS = "▁▂▃▄▅▆▇█"
NO_DATA = "·"
MIN_PERIOD = 60


@dataclass(frozen=True)
class Window:
    """``count`` periods of ``period`` seconds, the last one ending at ``end``."""

    end: datetime
    period: int
    count: int

    @classmethod
    def of_hours(cls, hours: int, end: datetime) -> Window:
        """A window of ``hours`` in at most ``MARKS`` periods (whole minutes, as CloudWatch wants),
        its end rounded up to a period boundary so successive reads bucket alike."""
        period = max(MIN_PERIOD, math.ceil(hours * 3600 / MARKS / 60) * 60)
        stamp = math.ceil(end.timestamp() / period) * period
        return cls(datetime.fromtimestamp(stamp, end.tzinfo), period, math.ceil(hours * 3600 / period))

    @property
    def start(self) -> datetime:
        return self.end - timedelta(seconds=self.period * self.count)

    def buckets(self, points: Iterable[tuple[datetime, float]], *, combine: str) -> list[float | None]:
        """One value per period (``combine``: "max" or "sum" of the points in it), None where none."""
        out: list[float | None] = [None] * self.count
        for stamp, value in points:
            index = int((stamp - self.start).total_seconds() // self.period)
            if 0 <= index < self.count:
                old = out[index]
                if old is None:
                    out[index] = value
                else:
                    out[index] = old + value if combine == "sum" else max(old, value)
        return out


def sparkline(values: Sequence[float | None]) -> str:
    """Block characters from 0 (``▁``) to the series' maximum (``█``); ``·`` where there is no data."""
    top = max((v for v in values if v is not None), default=0.0)
    marks = []
    for value in values:
        if value is None:
            marks.append(NO_DATA)
        elif top <= 0:
            marks.append(BLOCKS[0])
        else:
            marks.append(BLOCKS[min(len(BLOCKS) - 1, int(value / top * (len(BLOCKS) - 1) + 0.5))])
    return "".join(marks)

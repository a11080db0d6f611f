"""Times the way Chapter 9 (*Handling late data*) writes and shows them.

The engine counts in epoch milliseconds; people read clock times. :func:`at` turns a UTC clock time into
milliseconds, :func:`clock` turns milliseconds back into a day and a clock time to the millisecond (the last
millisecond of a window is where the rules bite), and :func:`readable` does that to every ``*_ms`` column of the
engine's rows.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .engine import END_OF_STREAM, NO_WATERMARK

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def at(text: str) -> int:
    """A UTC time such as ``'2026-11-02 09:05'`` as epoch milliseconds (what a Kafka record timestamp holds)."""
    import pandas as pd

    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)


def clock(ms: int | None) -> str:
    """Epoch milliseconds as ``'Mon 09:05:00.000'`` (UTC); the engine's two sentinel watermarks by name, and an
    empty text for a missing value."""
    import pandas as pd

    if ms is None or pd.isna(ms):
        return ""
    if ms == NO_WATERMARK:
        return "none yet"
    if ms == END_OF_STREAM:
        return "end of stream"
    return pd.Timestamp(int(ms), unit="ms").strftime("%a %H:%M:%S.%f")[:-3]


def readable(rows: Iterable[Any] | "pd.DataFrame") -> "pd.DataFrame":
    """Engine rows (named tuples or a DataFrame) as a DataFrame whose ``*_ms`` columns read ``'Mon 09:05:00.000'``
    and lose their ``_ms`` suffix."""
    import pandas as pd

    frame = pd.DataFrame(rows).copy()
    for column in [c for c in frame.columns if str(c).endswith("_ms")]:
        frame[column] = frame[column].map(clock)
    return frame.rename(columns=lambda c: c.removesuffix("_ms") if isinstance(c, str) else c)

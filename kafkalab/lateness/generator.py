"""The seeded purchase stream of Chapter 9 (*Handling late data*) and the settings of one replay.

:func:`purchase_stream` generates purchases in the order they *arrive*, some of them late; :class:`ReplayParams`
holds everything one replay needs (how to generate the stream, how to window it), and :func:`simulated_run` turns
it into records without Kafka. The chapter sends the same records through a real topic
(:func:`kafkalab.lateness.replay.topic_run_fn`); the replay widget (:mod:`kafkalab.widgets.lateness`) draws them.
"""
from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from typing import Any, Final

from ..errors import LabError
from ..validate import check_all, failures
from .engine import Record

_MS_PER_DAY: Final[int] = 86_400_000


def suggest_start_ms(
    n: int, mean_gap_ms: int, *, now_ms: int | None = None, align_ms: int = 3_600_000, max_age_days: float = 3.0
) -> int:
    """A start for :func:`purchase_stream` whose event times all lie in the recent past (Kafka-friendly)."""
    if now_ms is None:
        now_ms = time.time_ns() // 1_000_000
    span = 2 * n * mean_gap_ms + align_ms  # twice the expected span: the exponential gaps rarely exceed it
    start = now_ms - span
    start -= start % align_ms
    if now_ms - start > max_age_days * _MS_PER_DAY:
        raise LabError(
            f"{n} purchases {mean_gap_ms} ms apart reach back more than {max_age_days:g} days; "
            "use fewer records or a smaller gap (old timestamps fall out of Kafka's time-based retention)"
        )
    return start


def purchase_stream(
    n: int,
    seed: int,
    *,
    out_of_orderness_ms: int = 2_000,
    late_share: float = 0.05,
    late_by_ms: int = 30_000,
    start_ms: int,
    mean_gap_ms: int = 1_000,
) -> list[Record]:
    """A seeded stream of purchases, returned in ARRIVAL order, with event times from ``start_ms`` on.

    Purchase ``i`` happens at ``t_i`` (exponential gaps, mean ``mean_gap_ms``, first at ``start_ms``) and
    reaches us at ``t_i + jitter`` with jitter uniform in ``[0, out_of_orderness_ms]``; a share
    ``late_share`` of purchases are held up a further ``late_by_ms`` (a phone that was offline). The list
    is sorted by that arrival time (``processing_time_ms``). Consequence: with a watermark delay of at least
    ``out_of_orderness_ms``, only held-up purchases can ever be late. Same arguments, same list.
    """
    check_all(n=(n, dict(low=0, whole=True)), seed=(seed, dict(whole=True)),
              out_of_orderness_ms=(out_of_orderness_ms, dict(low=0, whole=True, unit="ms")),
              late_share=(late_share, dict(low=0, high=1)),
              late_by_ms=(late_by_ms, dict(low=0, whole=True, unit="ms")),
              mean_gap_ms=(mean_gap_ms, dict(low=0, low_open=True, unit="ms")),
              start_ms=(start_ms, dict(whole=True, unit="ms")))
    # Only Random.random() is used, so the stream is the same on every Python version.
    rnd = random.Random(seed).random
    t = start_ms
    rows: list[tuple[int, int, Record]] = []
    for i in range(n):
        if i:
            t += int(-mean_gap_ms * math.log(1.0 - rnd()))
        amount = round(2.0 + 118.0 * rnd() * rnd(), 2)
        customer = f"customer-{int(rnd() * 40):02d}"
        arrives = t + int(rnd() * (out_of_orderness_ms + 1))
        if rnd() < late_share:
            arrives += late_by_ms
        rows.append((arrives, i, Record(t, amount, customer, arrives)))
    rows.sort()
    return [r for _, _, r in rows]


@dataclass(frozen=True)
class ReplayParams:
    """Everything one replay needs: how to generate the stream and how to window it."""

    seed: int = 7
    out_of_orderness_ms: int = 2_000
    late_share: float = 0.1
    watermark_delay_ms: int = 2_000
    allowed_lateness_ms: int = 5_000
    window_ms: int = 10_000
    flush: bool = True
    n: int = 300
    late_by_ms: int = 15_000
    mean_gap_ms: int = 250
    start_ms: int = 0

    def problems(self) -> list[str]:
        """Every invalid setting, one line each (empty when all is well)."""
        return failures(window_ms=(self.window_ms, dict(low=1, whole=True, unit="ms")),
                        watermark_delay_ms=(self.watermark_delay_ms, dict(low=0, whole=True, unit="ms")),
                        allowed_lateness_ms=(self.allowed_lateness_ms, dict(low=0, whole=True, unit="ms")),
                        late_share=(self.late_share, dict(low=0, high=1)),
                        out_of_orderness_ms=(self.out_of_orderness_ms, dict(low=0, whole=True, unit="ms")),
                        seed=(self.seed, dict(whole=True)))

    def stream_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`purchase_stream`."""
        d = asdict(self)
        keep = ("seed", "out_of_orderness_ms", "late_share", "late_by_ms", "start_ms", "mean_gap_ms", "n")
        return {k: d[k] for k in keep}


def simulated_run(params: ReplayParams) -> list[Record]:
    """The stream straight from the generator, no Kafka: the default ``run_fn`` for tests and offline use."""
    return purchase_stream(**params.stream_kwargs())

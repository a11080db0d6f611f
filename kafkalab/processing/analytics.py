"""Real-time analytics on the payment stream: revenue per event-time minute and the top merchants.

Taught in Chapter 8, *Processing streaming data* (the live dashboard). The dashboard widget lives in
:mod:`kafkalab.widgets.dashboard`; this module is the arithmetic behind it, with no Kafka and no plotting, so that it
can be tested on its own and fed one batch at a time.

Minutes are **event time**: a payment counts in the minute its ``ts_ms`` falls in (UTC, aligned to whole minutes),
whenever it arrives. A payment that turns up late simply adds to an older minute: the totals are the same in any
arrival order. Amounts are summed in integer cents, so the totals do not depend on the order of float additions
either.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import LabError
from ..validate import count

MINUTE_MS = 60_000


def minute_of(ts_ms: int) -> int:
    """The start (epoch ms) of the UTC minute that ``ts_ms`` falls in: 09:03:59.999 belongs to 09:03:00."""
    return ts_ms - ts_ms % MINUTE_MS


def to_cents(amount: float) -> int:
    """An amount in euros as whole cents (``12.345`` rounds to 1235: half away from zero, as a till does)."""
    cents = abs(amount) * 100
    whole = int(cents + 0.5 + 1e-9)
    return whole if amount >= 0 else -whole


@dataclass
class LiveAggregate:
    """Running totals over the payments seen so far; :meth:`update` takes one batch at a time.

    ``revenue_cents``: event-time minute start -> cents; ``merchant_cents``: merchant -> cents;
    ``merchant_count``: merchant -> payments. ``batches`` counts the calls to :meth:`update`.
    """

    revenue_cents: dict[int, int] = field(default_factory=dict)
    payments_per_minute: Counter = field(default_factory=Counter)
    merchant_cents: Counter = field(default_factory=Counter)
    merchant_count: Counter = field(default_factory=Counter)
    payments: int = 0
    batches: int = 0
    last_event_ms: int | None = None

    def add(self, payment: Mapping) -> None:
        """Count one payment (a dict with ``ts_ms``, ``merchant`` and ``amount``)."""
        try:
            ts, merchant, cents = int(payment["ts_ms"]), str(payment["merchant"]), to_cents(float(payment["amount"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise LabError(f"payment {dict(payment)!r:.80}: needs ts_ms, merchant and amount ({exc})") from None
        minute = minute_of(ts)
        self.revenue_cents[minute] = self.revenue_cents.get(minute, 0) + cents
        self.payments_per_minute[minute] += 1
        self.merchant_cents[merchant] += cents
        self.merchant_count[merchant] += 1
        self.payments += 1
        self.last_event_ms = ts if self.last_event_ms is None else max(self.last_event_ms, ts)

    def update(self, batch: Iterable[Mapping]) -> int:
        """Count a batch of payments (what one ``poll()`` returned); returns how many it held."""
        n = 0
        for payment in batch:
            self.add(payment)
            n += 1
        self.batches += 1
        return n

    def revenue_per_minute(self) -> list[tuple[int, float]]:
        """(minute start ms, revenue in euros), oldest minute first."""
        return [(m, self.revenue_cents[m] / 100) for m in sorted(self.revenue_cents)]

    def top_merchants(self, n: int = 5) -> list[tuple[str, float, int]]:
        """The ``n`` merchants with the most revenue: (merchant, euros, payments); ties broken by name."""
        n = count("n", n)
        ranked = sorted(self.merchant_cents.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(m, cents / 100, self.merchant_count[m]) for m, cents in ranked]

    @property
    def total(self) -> float:
        """All revenue so far, in euros."""
        return sum(self.revenue_cents.values()) / 100


def aggregate(payments: Iterable[Mapping], batch_size: int | None = None) -> LiveAggregate:
    """The aggregate of ``payments``, fed in batches of ``batch_size`` (all at once if None)."""
    agg = LiveAggregate()
    items = list(payments)
    if batch_size is None:
        agg.update(items)
        return agg
    batch_size = count("batch_size", batch_size)
    for i in range(0, len(items), batch_size):
        agg.update(items[i:i + batch_size])
    return agg


def revenue_table(agg: LiveAggregate):
    """Revenue per event-time minute as a DataFrame (minute as HH:MM UTC, payments, revenue in euros)."""
    import pandas as pd

    rows = [{"minute (UTC)": pd.Timestamp(m, unit="ms", tz="UTC").strftime("%H:%M"),
             "payments": agg.payments_per_minute[m], "revenue (EUR)": eur}
            for m, eur in agg.revenue_per_minute()]
    return pd.DataFrame(rows, columns=["minute (UTC)", "payments", "revenue (EUR)"])


def merchants_table(agg: LiveAggregate, n: int = 5):
    """The top ``n`` merchants as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(agg.top_merchants(n), columns=["merchant", "revenue (EUR)", "payments"])

"""Checkers for "Processing streaming data" (notebooks/08_processing.ipynb).

The expected answers come from the chapter's own modules (:mod:`kafkalab.processing.rules`,
:mod:`kafkalab.processing.analytics`), so a checker and the chapter can never disagree; the assert messages name the usual mistakes.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

from ..processing.analytics import aggregate, minute_of
from ..processing.rules import AlertEngine, Rules, incident_stream
from ..datagen import EPOCH_MS
from . import passed

#: Exercise 1: one customer's payments, as (label, epoch ms) on 2026-11-02 UTC, judged with max_per_minute=3.
_BASE_MS = EPOCH_MS + 3_600_000  # 2026-11-02 10:00:00 UTC
EXERCISE_TIMES = [
    ("10:00:10.000", _BASE_MS + 10_000),
    ("10:00:20.000", _BASE_MS + 20_000),
    ("10:00:40.000", _BASE_MS + 40_000),
    ("10:00:59.999", _BASE_MS + 59_999),
    ("10:01:00.000", _BASE_MS + 60_000),
    ("10:01:10.000", _BASE_MS + 70_000),
    ("10:01:20.000", _BASE_MS + 80_000),
    ("10:01:30.000", _BASE_MS + 90_000),
    ("10:01:40.000", _BASE_MS + 100_000),
]
EXERCISE_RULES = Rules(max_per_minute=3)


def exercise_payments() -> list[dict]:
    """Exercise 1's payments (all 10 EUR at the bakery by customer C042)."""
    return [{"payment_id": f"E{i:02d}", "customer_id": "C042", "merchant": "bakery", "method": "card",
             "amount": 10.0, "currency": "EUR", "ts_ms": ts} for i, (_, ts) in enumerate(EXERCISE_TIMES)]


def _whole(answer: object, what: str) -> int:
    assert answer is not None, f"replace None with your answer: {what}"
    assert not isinstance(answer, bool), f"answer with a number ({what}), not True/False"
    assert isinstance(answer, numbers.Real), f"answer with a number ({what}), not {type(answer).__name__}"
    assert float(answer).is_integer(), f"{answer} is not a whole number ({what})"
    return int(answer)


def check_velocity_alerts(answer: object) -> None:
    """Exercise 1: how many velocity alerts do :data:`EXERCISE_TIMES` raise with ``max_per_minute=3``?"""
    n = _whole(answer, "the number of velocity alerts")
    alerts = [a for a in AlertEngine(EXERCISE_RULES).run(exercise_payments()) if a.rule == "velocity"]
    expected = len(alerts)
    if n != expected:
        hints = []
        if n == 3:
            hints.append("one alert per minute and customer: the payment that goes over the limit raises it, the "
                         "ones after it in the same minute raise nothing new (no alert storm)")
        if n == 1:
            hints.append("10:00:59.999 still belongs to the minute from 10:00:00; the next minute starts at "
                         "10:01:00.000 exactly")
        if n == 0:
            hints.append("the limit is 3 per minute: the 4th payment in one minute is over it")
        if n > 3:
            hints.append("windows are whole UTC minutes (tumbling), not the 60 seconds before each payment")
        if not hints:
            hints.append("count the payments in each whole UTC minute; a minute with more than 3 gives one alert")
        raise AssertionError(f"{n} is not the number of velocity alerts: " + "; ".join(hints))
    per_minute = {}
    for _, ts in EXERCISE_TIMES:
        per_minute[minute_of(ts)] = per_minute.get(minute_of(ts), 0) + 1
    counts = " and ".join(str(c) for _, c in sorted(per_minute.items()))
    passed(f"{counts} payments in the two minutes: {expected} alerts, raised by "
           f"{' and '.join(a.payment_id for a in alerts)}")


def amount_alerts(factor: float, n: int = 900) -> list:
    """The amount alerts of the course's incident stream with ``amount_factor=factor`` (other rules default)."""
    return [a for a in AlertEngine(Rules(amount_factor=factor)).run(incident_stream(n)) if a.rule == "amount"]


def check_amount_factor(answer: object, most: int = 3) -> None:
    """Exercise 2: the smallest whole ``amount_factor`` ≥ 2 that raises at most ``most`` amount alerts and still
    catches the planted payment X0100."""
    k = _whole(answer, "a whole amount_factor")
    assert k >= 2, f"amount_factor={k}: the rule needs a factor greater than 1 (start at 2)"
    expected = next(f for f in range(2, 1000) if len(amount_alerts(f)) <= most)
    got = amount_alerts(k)
    assert "X0100" in {a.payment_id for a in got}, (
        f"with amount_factor={k} the planted 2,450 EUR payment X0100 is no longer caught: too high")
    assert len(got) <= most, (
        f"amount_factor={k} still raises {len(got)} amount alerts, more than {most}: an alert storm that people "
        f"learn to ignore; try a larger factor")
    assert k == expected, (
        f"amount_factor={k} works, but {expected} is the smallest that does: each step up hides real outliers "
        f"too, so stop at the first factor that meets the budget")
    passed(f"amount_factor={k} raises {len(got)} amount alerts ({', '.join(a.payment_id for a in got)}); "
           f"{k - 1} would raise {len(amount_alerts(k - 1))}")


def check_busiest_minute(answer: object, payments: Sequence[Mapping]) -> None:
    """Exercise 3: the event-time minute with the most revenue, as ``("HH:MM", euros)``."""
    import pandas as pd

    assert answer is not None, 'replace None with your answer, e.g. ("09:07", 1234.56)'
    assert isinstance(answer, (tuple, list)) and len(answer) == 2, (
        'answer with a pair: ("HH:MM", revenue in euros)')
    label, euros = answer
    agg = aggregate(payments)
    minutes = agg.revenue_per_minute()
    assert minutes, "the payments are empty: read them from the topic first"
    best_ms, best = max(minutes, key=lambda m: (m[1], -m[0]))
    want = pd.Timestamp(best_ms, unit="ms", tz="UTC").strftime("%H:%M")
    by_count = max(agg.payments_per_minute.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    if str(label) != want:
        hint = ""
        if str(label) == pd.Timestamp(by_count, unit="ms", tz="UTC").strftime("%H:%M") and by_count != best_ms:
            hint = ": that minute has the most payments, not the most revenue"
        elif str(label) not in {pd.Timestamp(m, unit="ms", tz="UTC").strftime("%H:%M") for m, _ in minutes}:
            hint = (": no payment happened in that minute; use the event time ts_ms (UTC), not the time the "
                    "record arrived")
        raise AssertionError(f"{label} is not the busiest minute{hint}")
    assert isinstance(euros, numbers.Real) and not isinstance(euros, bool), "give the revenue as a number of euros"
    assert abs(float(euros) - best) < 0.005, (
        f"the minute is right but {euros} is not its revenue: add up every amount in it (in euros, not cents)")
    passed(f"{want} UTC took {best:,.2f} EUR in {agg.payments_per_minute[best_ms]} payments")

"""Exercises of "Processing streaming data" (notebooks/08_processing.ipynb).

The expected answers come from the chapter's own modules (``kafkalab.processing.rules``, ``kafkalab.processing.analytics``), so a
checker and the chapter can never disagree; the messages name the usual mistakes.
"""
from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from . import _lab
from .answers import type_name
from .core import Mistake, exercise
from .verdicts import NotYet, WrongType

CHAPTER = "processing"

#: Exercise 1: one customer's payments, as (label, offset in ms from 10:00:00 UTC on 2026-11-02).
EXERCISE_TIMES_FROM_10 = [
    ("10:00:10.000", 10_000), ("10:00:20.000", 20_000), ("10:00:40.000", 40_000), ("10:00:59.999", 59_999),
    ("10:01:00.000", 60_000), ("10:01:10.000", 70_000), ("10:01:20.000", 80_000), ("10:01:30.000", 90_000),
    ("10:01:40.000", 100_000),
]
MAX_PER_MINUTE = 3


def _base_ms() -> int:
    return _lab.datagen().EPOCH_MS + 3_600_000  # 2026-11-02 10:00:00 UTC


def exercise_payments() -> list[dict]:
    """Exercise 1's payments (all 10 EUR at the bakery by customer C042)."""
    base = _base_ms()
    return [{"payment_id": f"E{i:02d}", "customer_id": "C042", "merchant": "bakery", "method": "card",
             "amount": 10.0, "currency": "EUR", "ts_ms": base + offset}
            for i, (_, offset) in enumerate(EXERCISE_TIMES_FROM_10)]


def _whole(answer: object, what: str) -> int:
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise WrongType(f"answer with a number ({what}), not {type_name(answer)}")
    if not float(answer).is_integer():
        raise WrongType(f"{answer} is not a whole number ({what})")
    return int(answer)


def _count_by_minutes(ctx: dict) -> int:
    """The reference, by hand: a whole UTC minute with more than the limit gives one alert."""
    per_minute = Counter(p["ts_ms"] // 60_000 for p in exercise_payments())
    return sum(1 for n in per_minute.values() if n > MAX_PER_MINUTE)


@exercise(
    CHAPTER,
    title="One burst: how many velocity alerts?",
    kind="concept",
    expects="a number of alerts",
    hints=[
        "The velocity rule counts a customer's payments per whole UTC minute (tumbling windows), not over the 60 "
        "seconds before each payment.",
        "10:00:59.999 is still in the minute from 10:00:00; 10:01:00.000 starts the next one. A minute over the "
        "limit raises ONE alert, at the payment that goes over it.",
    ],
    solution='''
burst_engine = AlertEngine(Rules(max_per_minute=3))
velocity_solution = len([a for a in burst_engine.run(exercise_payments()) if a.rule == "velocity"])
''',
    reference=_count_by_minutes,
    mistakes=[
        Mistake("one alert per minute and customer", answer=3),
        Mistake("10:00:59.999 still belongs to the minute from 10:00:00", answer=1),
        Mistake("the 4th payment in one minute is over it", answer=0),
        Mistake("windows are whole UTC minutes (tumbling)", answer=6),
        Mistake("is not a whole number", answer=2.5, kind="wrong type"),
        Mistake("answer with a number", answer="2", kind="wrong type"),
    ],
)
def velocity_alerts(answer) -> str:
    """Exercise 1: how many velocity alerts do the exercise's payments raise with ``max_per_minute=3``?"""
    n = _whole(answer, "the number of velocity alerts")
    alerting, analytics = _lab.alerting(), _lab.analytics()
    alerts = [a for a in alerting.AlertEngine(alerting.Rules(max_per_minute=MAX_PER_MINUTE)).run(exercise_payments())
              if a.rule == "velocity"]
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
        raise NotYet(f"{n} is not the number of velocity alerts: " + "; ".join(hints))
    per_minute = Counter(analytics.minute_of(p["ts_ms"]) for p in exercise_payments())
    counts = " and ".join(str(c) for _, c in sorted(per_minute.items()))
    return (f"{counts} payments in the two minutes: {expected} alerts, raised by "
            f"{' and '.join(a.payment_id for a in alerts)}")


# ----------------------------------------------------------------------------------------------- Exercise 2

_AMOUNT_CACHE: dict[tuple[float, int], list] = {}


def amount_alerts(factor: float, n: int = 900) -> list:
    """The amount alerts of the course's incident stream with ``amount_factor=factor`` (other rules default)."""
    key = (factor, n)
    if key not in _AMOUNT_CACHE:  # the stream and the rules never change: each factor is worked out once
        alerting = _lab.alerting()
        _AMOUNT_CACHE[key] = [a for a in alerting.AlertEngine(alerting.Rules(amount_factor=factor))
                              .run(alerting.incident_stream(n)) if a.rule == "amount"]
    return _AMOUNT_CACHE[key]


def _smallest_factor(ctx: dict) -> int:
    return next(k for k in range(2, 100) if len(amount_alerts(k)) <= 3)


@exercise(
    CHAPTER,
    title="A threshold without an alert storm",
    kind="concept",
    expects="a whole amount_factor, 2 or more",
    hints=[
        "Try the factors in order, 2, 3, 4 ..., counting the amount alerts on `incident_stream(900)` for each.",
        "`next(k for k in range(2, 100) if len(amount_alerts(k)) <= 3)`, where `amount_alerts(k)` runs "
        "`AlertEngine(Rules(amount_factor=k))` and keeps the alerts whose rule is \"amount\".",
    ],
    solution='''
def amount_alerts_for(factor):
    return [a for a in AlertEngine(Rules(amount_factor=factor)).run(incident_stream(900)) if a.rule == "amount"]

factor_solution = next(k for k in range(2, 100) if len(amount_alerts_for(k)) <= 3)
print([a.payment_id for a in amount_alerts_for(factor_solution)])
''',
    reference=_smallest_factor,
    mistakes=[
        Mistake("the rule needs a factor greater than 1", answer=1),
        Mistake("is no longer caught: too high", answer=150),
        Mistake("an alert storm that people learn to ignore", answer=10),
        Mistake("is the smallest that does", make=lambda ctx: _smallest_factor(ctx) + 2),
        Mistake("is not a whole number", answer=12.5, kind="wrong type"),
        Mistake("answer with a number", answer="12", kind="wrong type"),
    ],
)
def amount_factor(answer, *, most: int = 3) -> str:
    """Exercise 2: the smallest whole ``amount_factor`` >= 2 that raises at most ``most`` amount alerts and still
    catches the planted payment X0100."""
    k = _whole(answer, "a whole amount_factor")
    if k < 2:
        raise NotYet(f"amount_factor={k}: the rule needs a factor greater than 1 (start at 2)")
    expected = next(f for f in range(2, 1000) if len(amount_alerts(f)) <= most)
    got = amount_alerts(k)
    if "X0100" not in {a.payment_id for a in got}:
        raise NotYet(f"with amount_factor={k} the planted 2,450 EUR payment X0100 is no longer caught: too high")
    if len(got) > most:
        raise NotYet(f"amount_factor={k} still raises {len(got)} amount alerts, more than {most}: an alert storm that "
                     f"people learn to ignore; try a larger factor")
    if k != expected:
        raise NotYet(f"amount_factor={k} works, but {expected} is the smallest that does: each step up hides real "
                     f"outliers too, so stop at the first factor that meets the budget")
    return (f"amount_factor={k} raises {len(got)} amount alerts ({', '.join(a.payment_id for a in got)}); "
            f"{k - 1} would raise {len(amount_alerts(k - 1))}")


# ----------------------------------------------------------------------------------------------- Exercise 3


def live_payments() -> list[dict]:
    """What the chapter feeds into ``processing-live``: the first 600 payments of the incident stream."""
    return _lab.alerting().incident_stream(900)[:600]


def _hhmm(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M")


def _busiest_by_hand(ctx: dict, by: str = "revenue") -> tuple[str, float]:
    """The reference, without kafkalab.analytics: sum amounts per whole UTC minute of event time."""
    revenue: dict[int, float] = {}
    count: Counter = Counter()
    for p in live_payments():
        minute = p["ts_ms"] - p["ts_ms"] % 60_000
        revenue[minute] = revenue.get(minute, 0.0) + p["amount"]
        count[minute] += 1
    if by == "count":
        minute = max(count, key=lambda m: (count[m], -m))
    else:
        minute = max(revenue, key=lambda m: (round(revenue[m], 2), -m))
    return _hhmm(minute), round(revenue[minute], 2)


@exercise(
    CHAPTER,
    title="The busiest minute by revenue",
    kind="concept",
    expects='a pair ("HH:MM", revenue in euros)',
    hints=[
        "Read `processing-live` from the start (a consumer with `group_id=None`), then let "
        "`aggregate(payments).revenue_per_minute()` add up each minute.",
        "Minutes come from the event time `ts_ms` (UTC), not from when a record arrived; the busiest minute is the "
        "one with the largest revenue, not the most payments.",
    ],
    solution='''
import contextlib
import json

with contextlib.closing(consumer(LIVE, group_id=None, value_deserializer=json.loads, consumer_timeout_ms=1000)) as c:
    read_back = [record.value for record in c]
minute_totals = aggregate(read_back)
top_minute_ms, top_euros = max(minute_totals.revenue_per_minute(), key=lambda m: m[1])
busiest_solution = (pd.Timestamp(top_minute_ms, unit="ms", tz="UTC").strftime("%H:%M"), top_euros)
''',
    reference=_busiest_by_hand,
    mistakes=[
        Mistake("that minute has the most payments, not the most revenue",
                make=lambda ctx: _busiest_by_hand(ctx, by="count")),
        Mistake("no payment happened in that minute; use the event time ts_ms (UTC)", answer=("17:24", 1000.0)),
        Mistake("the minute is right but", make=lambda ctx: (_busiest_by_hand(ctx)[0], _busiest_by_hand(ctx)[1] * 100)),
        Mistake("give the revenue as a number of euros",
                make=lambda ctx: (_busiest_by_hand(ctx)[0], str(_busiest_by_hand(ctx)[1])), kind="wrong type"),
        Mistake('answer with a pair: ("HH:MM", revenue in euros)', answer="09:11", kind="wrong type"),
    ],
)
def busiest_minute(answer, *, payments: Sequence[Mapping] | None = None) -> str:
    """Exercise 3: the event-time minute with the most revenue, as ``("HH:MM", euros)``. ``payments`` defaults to
    what the chapter feeds into processing-live."""
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        raise WrongType('answer with a pair: ("HH:MM", revenue in euros)')
    label, euros = answer
    agg = _lab.analytics().aggregate(live_payments() if payments is None else payments)
    minutes = agg.revenue_per_minute()
    if not minutes:
        raise NotYet("the payments are empty: read them from the topic first")
    best_ms, best = max(minutes, key=lambda m: (m[1], -m[0]))
    want = _hhmm(best_ms)
    by_count = max(agg.payments_per_minute.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    if str(label) != want:
        hint = ""
        if str(label) == _hhmm(by_count) and by_count != best_ms:
            hint = ": that minute has the most payments, not the most revenue"
        elif str(label) not in {_hhmm(m) for m, _ in minutes}:
            hint = (": no payment happened in that minute; use the event time ts_ms (UTC), not the time the record "
                    "arrived")
        raise NotYet(f"{label} is not the busiest minute{hint}")
    if isinstance(euros, bool) or not isinstance(euros, numbers.Real):
        raise WrongType(f"give the revenue as a number of euros, not {type_name(euros)}")
    if abs(float(euros) - best) >= 0.005:
        raise NotYet(f"the minute is right but {euros} is not its revenue: add up every amount in it (in euros, not "
                     f"cents)")
    return f"{want} UTC took {best:,.2f} EUR in {agg.payments_per_minute[best_ms]} payments"

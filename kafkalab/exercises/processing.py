"""Exercises of "Processing streaming data" (notebooks/08_processing.ipynb).

The expected answers come from the chapter's own modules (``kafkalab.processing.rules``,
``kafkalab.processing.analytics``), so a checker and the chapter can never disagree; the messages name the usual
mistakes. Exercises 1 to 3 are worked out; Exercise 4 (:func:`alert_rule`) runs the learner's own alert rule inside
the chapter's alerting service, on a consumer group over topics of its own.
"""
from __future__ import annotations

import contextlib
import numbers
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone

from . import _lab
from .answers import type_name
from .core import Mistake, call_learner, exercise
from .scratch import scratch_group, scratch_topic
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
        "Read `processing-live` back with `read_to_end(LIVE)` (each record's value is a JSON payment), then let "
        "`aggregate(payments).revenue_per_minute()` add up each minute.",
        "Minutes come from the event time `ts_ms` (UTC), not from when a record arrived; the busiest minute is the "
        "one with the largest revenue, not the most payments.",
    ],
    solution='''
read_back = [json.loads(record.value) for record in read_to_end(LIVE)]
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


# ----------------------------------------------------------------------------------------------- Exercise 4

RULE_NAME = "double-charge"
REPEAT_WITHIN_MS = 120_000  # "at most 2 minutes after", inclusive
RULE_MEMBERS = 2

#: Planted payments, as (id, customer, merchant, amount, ms after 09:00:00 UTC), each pair a case the rule must get
#: right: a double charge, one exactly 2 minutes later, one 2 minutes and 1 ms later, the same amount at another
#: merchant, the same payment by another customer (C012 and C015 share a partition of the three, so one consumer
#: sees both, in order), another amount at the same merchant, and a repeat 400 s later.
PLANTED_REPEATS = (
    ("D01", "C003", "cinema", 12.40, 40_000), ("D02", "C003", "cinema", 12.40, 70_000),
    ("D03", "C005", "bakery", 3.80, 100_000), ("D04", "C005", "bakery", 3.80, 220_000),
    ("D05", "C008", "pharmacy", 17.25, 130_000), ("D06", "C008", "pharmacy", 17.25, 250_001),
    ("D07", "C010", "florist", 25.00, 160_000), ("D08", "C010", "garage", 25.00, 180_000),
    ("D09", "C012", "cafe", 4.50, 200_000), ("D10", "C015", "cafe", 4.50, 210_000),
    ("D11", "C014", "bakery", 6.20, 230_000), ("D12", "C014", "bakery", 6.30, 260_000),
    ("D13", "C018", "cinema", 9.90, 20_000), ("D14", "C018", "cinema", 9.90, 420_000),
)
#: What each planted payment that must NOT alert tests, in the words of the message (most telling first).
_TRAPS = {
    "D10": "the earlier payment was another customer's: keep what you remember in `state`, which is the "
           "customer's own (a variable outside the function is shared by every customer)",
    "D08": "the earlier payment of the same amount was at another merchant",
    "D12": "the earlier payment at that merchant was of a different amount",
    "D14": "the earlier payment was 400 seconds before: only repeats within 2 minutes count",
    "D06": "it came 2 minutes and 1 ms after the first, which is more than 2 minutes",
}
#: A record the service cannot parse: it goes to the dead-letter topic and never reaches the rule.
POISON = b'{"payment_id": "D99", "customer_id": "C003", "amou'


def rule_exercise_payments() -> list[dict]:
    """Exercise 4's stream: the first 300 payments of the incident stream (09:00 to 09:07:30 UTC) and the planted
    repeats of :data:`PLANTED_REPEATS`, in event-time order."""
    base = _lab.datagen().EPOCH_MS
    planted = [{"payment_id": pid, "customer_id": c, "merchant": m, "method": "card", "amount": amount,
                "currency": "EUR", "ts_ms": base + offset} for pid, c, m, amount, offset in PLANTED_REPEATS]
    return sorted(_lab.alerting().incident_stream(300) + planted, key=lambda p: (p["ts_ms"], p["payment_id"]))


def _double_charge_reference(payment, state):
    """The reference rule (the solution's, written out again): a repeat of an earlier payment of the customer at
    the same merchant, for the same amount, at most 2 minutes before."""
    earlier = [p for p in state.get("recent", []) if payment["ts_ms"] - p["ts_ms"] <= REPEAT_WITHIN_MS]
    repeat = next((p for p in earlier if (p["merchant"], p["amount"]) == (payment["merchant"], payment["amount"])),
                  None)
    state["recent"] = earlier + [payment]
    if repeat is None:
        return None
    return f"{payment['amount']:.2f} EUR at {payment['merchant']} again, {payment['ts_ms'] - repeat['ts_ms']} ms later"


def expected_repeats() -> list[str]:
    """The payment ids the rule must alert on, worked out offline with the reference rule."""
    alerting = _lab.alerting()
    engine = alerting.AlertEngine(custom={RULE_NAME: _double_charge_reference})
    return sorted(a.payment_id for a in engine.run(rule_exercise_payments()) if a.rule == RULE_NAME)


def _guarded(rule: Callable) -> Callable:
    """The learner's rule as the service calls it: an exception or a wrong return type becomes one line."""

    def judged(payment, state):
        text = call_learner(rule, payment, state, what="your rule")
        if text is not None and not isinstance(text, str):
            raise WrongType(f"your rule returned {type_name(text)} ({text!r:.40}): return the alert's text, a str, "
                            f"or None when the payment raises no alert")
        return text

    return judged


def _run_in_service(rule: Callable, payments: list[dict]) -> tuple[list[str], int]:
    """Stream ``payments`` (and :data:`POISON`) through the chapter's alerting service with ``rule`` added, on
    topics of its own: the payment ids of the rule's alerts as written to the alerts topic, and how many records
    the dead-letter topic holds."""
    service = _lab.alert_service()
    with scratch_topic(CHAPTER, "payments", partitions=3) as pay, \
            scratch_topic(CHAPTER, "alerts", partitions=3) as alerts, \
            scratch_topic(CHAPTER, "dlq") as dlq, scratch_group(CHAPTER, "rule") as group:
        with contextlib.closing(_lab.json_producer(linger_ms=20)) as p:
            for payment in payments:
                p.send(pay, key=payment["customer_id"], value=payment)
            p.flush(timeout=30)
        with contextlib.closing(_lab.producer()) as p:
            p.send(pay, key=b"C003", value=POISON)
            p.flush(timeout=30)
        service.run_service(pay, alerts, dlq, members=RULE_MEMBERS, group=group, custom={RULE_NAME: _guarded(rule)})
        written = [a["payment_id"] for a in service.read_alerts(alerts) if a["rule"] == RULE_NAME]
        dead = sum(_lab.end_offsets(dlq).values())
    return written, dead


def _first_of_each_customer(payments: list[dict]) -> dict[str, str]:
    firsts: dict[str, str] = {}
    for p in payments:
        firsts.setdefault(p["customer_id"], p["payment_id"])
    return {pid: c for c, pid in firsts.items()}


# The anticipated mistakes, as a learner might write them.
def _rule_remembers_first(payment, state):
    state.setdefault("seen", []).append(payment)
    for p in state["seen"]:
        if p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"] \
                and payment["ts_ms"] - p["ts_ms"] <= 120_000:
            return "repeat"
    return None


def _rule_never_remembers(payment, state):
    for p in state.get("seen", []):
        if p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"]:
            return "repeat"
    return None


def _rule_ignores_merchant(payment, state):
    seen = state.setdefault("seen", [])
    hit = any(p["amount"] == payment["amount"] and payment["ts_ms"] - p["ts_ms"] <= 120_000 for p in seen)
    seen.append(payment)
    return "repeat" if hit else None


def _rule_strictly_within(payment, state):
    seen = state.setdefault("seen", [])
    hit = any(p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"]
              and payment["ts_ms"] - p["ts_ms"] < 120_000 for p in seen)
    seen.append(payment)
    return "repeat" if hit else None


def _rule_ignores_time(payment, state):
    seen = state.setdefault("seen", [])
    hit = any(p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"] for p in seen)
    seen.append(payment)
    return "repeat" if hit else None


def _rule_with_shared_memory():
    """A rule that remembers payments in a list outside the function: every customer's payments end up in it."""
    seen: list[dict] = []

    def double_charge(payment, state):
        hit = any(p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"]
                  and 0 <= payment["ts_ms"] - p["ts_ms"] <= 120_000 for p in seen)
        seen.append(payment)
        return "repeat" if hit else None

    return double_charge


def _rule_with_a_typo(payment, state):
    return "repeat" if payment["shop"] in state else None


def _rule_returns_true(payment, state):
    seen = state.setdefault("seen", [])
    hit = any(p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"]
              and payment["ts_ms"] - p["ts_ms"] <= 120_000 for p in seen)
    seen.append(payment)
    return hit


@exercise(
    CHAPTER,
    title="Write an alert rule: the double charge",
    kind="code",
    expects="a function double_charge(payment, state) that returns a text or None",
    hints=[
        "`state` is a dict the service keeps for this customer: empty at their first payment, and the same dict "
        "again at their next one. Store the payments you need to remember in it, e.g. under `state[\"recent\"]`.",
        "Judge first, remember afterwards: compare the payment with the earlier ones in `state`, then add it. "
        "Added first, it would match itself.",
        "A repeat is an earlier payment with the same `merchant` and the same `amount` whose `ts_ms` is at most "
        "120,000 ms before this one (`<=`: exactly 2 minutes still counts). Return a short text for it, else None.",
    ],
    solution='''
def double_charge_rule(payment, state):
    """Alert when the customer paid the same merchant the same amount at most 2 minutes before."""
    earlier = [p for p in state.get("recent", []) if payment["ts_ms"] - p["ts_ms"] <= 120_000]
    repeat = next((p for p in earlier
                   if p["merchant"] == payment["merchant"] and p["amount"] == payment["amount"]), None)
    state["recent"] = earlier + [payment]  # remember it only after judging it
    if repeat is None:
        return None
    return f"{payment['amount']:.2f} EUR at {payment['merchant']} again, {payment['ts_ms'] - repeat['ts_ms']} ms later"
''',
    reference="double_charge_rule",
    live=True,
    mistakes=[
        Mistake("matched itself", answer=_rule_remembers_first),
        Mistake("raised no alert", answer=_rule_never_remembers),
        Mistake("at another merchant", answer=_rule_ignores_merchant),
        Mistake("exactly 2 minutes", answer=_rule_strictly_within),
        Mistake("400 seconds before", answer=_rule_ignores_time),
        Mistake("another customer's", make=lambda ctx: _rule_with_shared_memory()),
        Mistake("your rule raised KeyError: 'shop'", answer=_rule_with_a_typo),
        Mistake("return the alert's text, a str", answer=_rule_returns_true, kind="wrong type"),
    ],
)
def alert_rule(rule) -> str:
    """Exercise 4: ``rule(payment, state)`` returns an alert's text for a payment that repeats one of the same
    customer at the same merchant, for the same amount, at most 2 minutes earlier (else ``None``). The checker
    writes the exercise's payments (and one unreadable record) to a fresh three-partition topic, runs the chapter's
    alerting service over it with two consumers and the rule added, reads the alerts topic back and compares the
    rule's alerts with the reference."""
    payments = rule_exercise_payments()
    expected = expected_repeats()
    written, dead = _run_in_service(rule, payments)
    got = sorted(set(written))
    if got == expected:
        if len(written) != len(got):
            raise NotYet("some alerts were written twice in one run: return one text per payment")
        return (f"your rule, run by the alerting service with {RULE_MEMBERS} consumers sharing 3 partitions, raised "
                f"exactly the reference's {len(expected)} alerts ({', '.join(expected)}) and none for the "
                f"{len(_TRAPS)} look-alikes; the unreadable record went to the dead-letter topic ({dead} record) "
                f"and never reached your rule")
    if not got:
        raise NotYet("your rule raised no alert at all: remember each payment in `state` (the service hands you "
                     "the same dict at the customer's next payment), then compare the next ones with what is there")
    firsts = _first_of_each_customer(payments)
    first_alerted = sorted(set(got) & set(firsts))
    if first_alerted:
        pid = first_alerted[0]
        raise NotYet(f"{pid}, the first payment of customer {firsts[pid]}, raised an alert although nothing came "
                     f"before it: your rule added the payment to its memory before judging it, so it matched itself. "
                     f"Judge first, then remember")
    extra, missing = sorted(set(got) - set(expected)), sorted(set(expected) - set(got))
    for pid, why in _TRAPS.items():
        if pid in extra:
            raise NotYet(f"your rule raised an alert for {pid}, but {why}")
    if "D04" in missing:
        raise NotYet("no alert for D04, which repeats D03 exactly 2 minutes (120,000 ms) later: 'at most 2 minutes' "
                     "includes exactly 2 minutes, so compare with <=")
    if extra:
        raise NotYet(f"your rule raised an alert for {extra[0]}, which repeats no payment of the same customer at the "
                     f"same merchant and amount within 2 minutes")
    raise NotYet(f"no alert for {missing[0]}, which repeats an earlier payment of the same customer, merchant and "
                 f"amount within 2 minutes")

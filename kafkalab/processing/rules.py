"""The rules of the alerting service: two per-customer rules with a little state, applied to one payment at a time.

Taught in Chapter 8, *Processing streaming data*.

The rules, per customer (the record key), judged on **event time** (the payment's ``ts_ms``), never on the clock:

* **velocity**: more than ``max_per_minute`` payments in one UTC minute (tumbling windows aligned to the minute,
  ``[09:03:00.000, 09:04:00.000)``). The payment that goes one over the limit raises one alert; later payments in
  the same minute add nothing, so a burst gives one alert, not a storm. Per customer, counts are kept for the
  newest ``keep_minutes`` minutes seen; a payment for an older minute is too late for this rule (and still goes
  through the amount rule).
* **amount**: an amount strictly greater than ``amount_factor`` × the median of the customer's previous
  ``history`` amounts, once at least ``warmup`` previous payments are known. Every amount joins the history
  afterwards, outliers included.

Alert ids are deterministic (``velocity-C007-<minute start ms>``, ``amount-<payment id>``): a consumer that
processes a record twice after a crash (at-least-once) writes the same id twice, and whoever reads the alerts
can drop the repeat. The state is per key and all records of a key sit in one partition, so the alerts do not
depend on how many consumers share the work (the tests check exactly that).

A **rule of your own** plugs in beside the two (``AlertEngine(custom={"double-charge": rule})``): a function
``rule(payment, state)`` that returns the alert's text, or ``None`` for no alert. ``state`` is a dict the engine
keeps for that rule and that customer, empty at the customer's first payment and handed back with every later
one, so the rule keeps its memory per key like the built-in rules. Its alerts have the id
``<rule name>-<payment id>``.

Everything here is pure: no Kafka. :mod:`kafkalab.processing.service` runs it inside a consumer group.
"""
from __future__ import annotations

import json
import re
import statistics
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field

from ..errors import LabError
from ..validate import count, number

MINUTE_MS = 60_000
REQUIRED = {"payment_id": str, "customer_id": str, "merchant": str, "amount": (int, float), "ts_ms": int}
BUILT_IN = ("velocity", "amount")

#: A rule of your own: ``rule(payment, state)`` returns the alert's text, or ``None`` (see the module docstring).
CustomRule = Callable[[dict, dict], "str | None"]


@dataclass(frozen=True)
class Rules:
    """The thresholds of both rules (defaults tuned to the course's seeded payments)."""

    max_per_minute: int = 6
    amount_factor: float = 10.0
    warmup: int = 5
    history: int = 20
    keep_minutes: int = 2

    def __post_init__(self) -> None:
        for name in ("max_per_minute", "warmup", "history", "keep_minutes"):
            count(name, getattr(self, name), where=" in Rules")
        number("amount_factor", self.amount_factor, low=1, low_open=True, where=" in Rules")
        if self.warmup > self.history:
            raise LabError(f"Rules(warmup={self.warmup}, history={self.history}): the warm-up cannot need more "
                           "payments than the history keeps")


@dataclass(frozen=True)
class Alert:
    """One alert, as written (JSON) to the alerts topic, keyed by customer."""

    alert_id: str
    rule: str  # "velocity", "amount" or the name of a rule of your own
    customer_id: str
    payment_id: str  # the payment that raised it
    ts_ms: int  # its event time
    value: float  # payments in the minute, or the amount (a rule of your own: the amount)
    threshold: float  # the limit it went over (a rule of your own has none: 0)
    detail: str

    def to_dict(self) -> dict:
        return asdict(self)


class PoisonMessage(ValueError):
    """A record the service cannot read (not JSON, a missing field, a wrong type): it goes to the dead-letter topic."""


def parse_payment(value: bytes | str | None) -> dict:
    """Decode one payment record's value, or raise :class:`PoisonMessage` saying what is wrong with it."""
    if value is None:
        raise PoisonMessage("empty value (a tombstone?)")
    try:
        doc = json.loads(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PoisonMessage(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise PoisonMessage(f"JSON {type(doc).__name__}, not an object")
    for name, kind in REQUIRED.items():
        if name not in doc:
            raise PoisonMessage(f"no field {name!r}")
        if isinstance(doc[name], bool) or not isinstance(doc[name], kind):
            raise PoisonMessage(f"field {name!r} is {type(doc[name]).__name__}")
    if doc["amount"] < 0:
        raise PoisonMessage("negative amount")
    return doc


def minute_of(ts_ms: int) -> int:
    """Start of the UTC minute holding ``ts_ms`` (the velocity rule's window)."""
    return ts_ms - ts_ms % MINUTE_MS


def _clock(ms: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M:%S")


@dataclass
class CustomerState:
    """What the engine remembers about one customer: counts of recent minutes and recent amounts."""

    minutes: dict[int, int] = field(default_factory=dict)
    amounts: deque = field(default_factory=deque)
    custom: dict[str, dict] = field(default_factory=dict)  # rule name -> that rule's own dict for this customer


def check_custom_rules(custom: Mapping[str, CustomRule] | None) -> dict[str, CustomRule]:
    """Rules of your own by name: lower-case names with hyphens (they start alert ids), functions as values."""
    out = dict(custom or {})
    for name, rule in out.items():
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9-]*", name) or name in BUILT_IN:
            raise LabError(f"custom rule name {name!r}: use lower-case letters, digits and hyphens, such as "
                           f"'double-charge', and not {' or '.join(map(repr, BUILT_IN))}")
        if not callable(rule):
            raise LabError(f"custom rule {name!r} is a {type(rule).__name__}; give a function rule(payment, state)")
    return out


class AlertEngine:
    """Applies :class:`Rules` (and rules of your own, ``custom``) to payments one at a time; state is per customer
    and starts empty."""

    def __init__(self, rules: Rules = Rules(), custom: Mapping[str, CustomRule] | None = None) -> None:
        self.rules = rules
        self.custom = check_custom_rules(custom)
        self.state: dict[str, CustomerState] = {}
        self.processed = 0

    def process(self, payment: Mapping) -> list[Alert]:
        """The alerts that one payment raises (0 to 2, plus one per rule of your own), updating the customer's
        state."""
        r = self.rules
        customer, pid, ts, amount = payment["customer_id"], payment["payment_id"], payment["ts_ms"], payment["amount"]
        st = self.state.setdefault(customer, CustomerState(amounts=deque(maxlen=r.history)))
        self.processed += 1
        out = []
        minute = minute_of(ts)
        newest = max(st.minutes, default=minute)
        if minute > newest - r.keep_minutes * MINUTE_MS:  # recent enough to count
            st.minutes[minute] = st.minutes.get(minute, 0) + 1
            for old in [m for m in st.minutes if m <= max(newest, minute) - r.keep_minutes * MINUTE_MS]:
                del st.minutes[old]
            n = st.minutes[minute]
            if n == r.max_per_minute + 1:
                out.append(Alert(f"velocity-{customer}-{minute}", "velocity", customer, pid, ts, n, r.max_per_minute,
                                 f"{n} payments by {customer} in the minute from {_clock(minute)} "
                                 f"(limit {r.max_per_minute})"))
        if len(st.amounts) >= r.warmup:
            usual = statistics.median(st.amounts)
            limit = r.amount_factor * usual
            if amount > limit:
                out.append(Alert(f"amount-{pid}", "amount", customer, pid, ts, amount, round(limit, 2),
                                 f"{amount:.2f} EUR from {customer} is over {r.amount_factor:g} × their median "
                                 f"of {usual:.2f} EUR"))
        st.amounts.append(amount)
        for name, rule in self.custom.items():
            text = rule(payment, st.custom.setdefault(name, {}))
            if text:
                out.append(Alert(f"{name}-{pid}", name, customer, pid, ts, float(amount), 0.0, str(text)))
        return out

    def run(self, payments: Iterable[Mapping]) -> list[Alert]:
        """All alerts raised by ``payments``, in order."""
        return [a for p in payments for a in self.process(p)]


# ------------------------------------------------------------------------------------------ course data
def incident_stream(n: int = 900, seed: int = 6) -> list[dict]:
    """The seeded payments of :func:`kafkalab.datagen.payments`, plus two planted incidents, in event-time order.

    * a card-testing burst: customer C007 makes eight payments of 1.00 to 1.07 EUR within 40 seconds;
    * a stolen-card purchase: customer C013 spends 2,450 EUR at the garage.

    Planted payments have ids starting with ``X``.
    """
    from ..datagen import EPOCH_MS, payments

    base = payments(n, seed=seed)
    span = n * 1500
    burst_at = EPOCH_MS + span // 3 - (EPOCH_MS + span // 3) % MINUTE_MS + 10_000  # 10 s into a minute
    planted = [{"payment_id": f"X{i:04d}", "customer_id": "C007", "merchant": "florist", "method": "card",
                "amount": round(1.0 + i / 100, 2), "currency": "EUR", "ts_ms": burst_at + i * 5_000}
               for i in range(8)]
    planted.append({"payment_id": "X0100", "customer_id": "C013", "merchant": "garage", "method": "card",
                    "amount": 2450.0, "currency": "EUR", "ts_ms": EPOCH_MS + (2 * span) // 3 + 700})
    return sorted(base + planted, key=lambda p: (p["ts_ms"], p["payment_id"]))


def first_per_id(alerts: Iterable[Mapping]) -> list[dict]:
    """Alert documents with repeats dropped (the first of each ``alert_id`` is kept, in the order given).

    What a notifier does before it pages anybody: under at-least-once delivery the same alert can be written
    twice, and the deterministic id is what makes the repeat recognisable.
    """
    seen: set[str] = set()
    out = []
    for a in alerts:
        if a["alert_id"] not in seen:
            seen.add(a["alert_id"])
            out.append(dict(a))
    return out


def alerts_table(alerts: Iterable[Alert | Mapping]):
    """Alerts as a DataFrame sorted by event time then id (event time as HH:MM:SS UTC)."""
    import pandas as pd

    rows = [a.to_dict() if isinstance(a, Alert) else dict(a) for a in alerts]
    rows.sort(key=lambda a: (a["ts_ms"], a["alert_id"]))
    for a in rows:
        a["time (UTC)"] = _clock(a["ts_ms"])
    cols = ["time (UTC)", "rule", "customer_id", "payment_id", "value", "threshold", "alert_id"]
    return pd.DataFrame(rows, columns=cols)

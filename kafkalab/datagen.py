"""Seeded course data: the payment events every chapter produces (first used in "Starting Kafka 101").

The same seed always gives the same events, so notebook outputs can be compared strictly under nbval.
"""
from __future__ import annotations

import random
from datetime import datetime, timezone

from .validate import count

CUSTOMERS = [f"C{n:03d}" for n in range(1, 21)]
MERCHANTS = ["bookshop", "cafe", "grocer", "pharmacy", "cinema", "bakery", "garage", "florist"]
METHODS = ["card", "card", "card", "wallet", "transfer"]
#: A fixed, past start time for event timestamps (2026-11-02 09:00 UTC): reruns produce identical records.
EPOCH_MS = int(datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc).timestamp() * 1000)


def payment(i: int, rng: random.Random, start_ms: int = EPOCH_MS, gap_ms: int = 1500) -> dict:
    """One payment event; ``i`` gives it a stable id and timestamp."""
    customer = rng.choice(CUSTOMERS)
    return {
        "payment_id": f"P{i:05d}",
        "customer_id": customer,
        "merchant": rng.choice(MERCHANTS),
        "method": rng.choice(METHODS),
        "amount": round(rng.lognormvariate(3.0, 0.8), 2),
        "currency": "EUR",
        "ts_ms": start_ms + i * gap_ms,
    }


def payments(n: int, seed: int = 6, start_ms: int = EPOCH_MS, gap_ms: int = 1500) -> list[dict]:
    """``n`` payment events, deterministic for a given ``seed``; keyed naturally by ``customer_id``."""
    n = count("n", n, low=0)
    rng = random.Random(seed)
    return [payment(i, rng, start_ms, gap_ms) for i in range(n)]

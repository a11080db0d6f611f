"""The logic of Chapter 5's topology in plain Python: the reference both stream processors must match.

``streams/PaymentsApp.java`` (Kafka Streams) and :func:`kafkalab.streams.quix.quix_run` (Quix Streams) filter small
payments, keep three fields (amount in cents), join each payment with its customer's tier, and count and sum per
customer. :func:`expected` does the same over a list, with no Kafka, and the chapter compares record for record.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ..datagen import CUSTOMERS

#: Payments below this amount (euros) are filtered out: the same constant as ``PaymentsApp.MIN_AMOUNT``.
MIN_AMOUNT = 10.0
#: Customer tiers, cycled over the customers.
TIERS = ("basic", "silver", "gold")


def customer_changelog() -> list[tuple[str, dict | None]]:
    """The records of the customers topic, in the order they are written: a table's history.

    C001..C019 get a tier; then C003 is upgraded twice, C007 is downgraded, and C019 is deleted with a
    tombstone (a record with no value). C020 never appears. Same data on every call.
    """
    rows: list[tuple[str, dict | None]] = [
        (c, {"tier": TIERS[i % len(TIERS)]}) for i, c in enumerate(CUSTOMERS) if c != "C020"
    ]
    rows += [("C003", {"tier": "silver"}), ("C003", {"tier": "gold"}), ("C007", {"tier": "basic"}), ("C019", None)]
    return rows


def table_of(changelog: Iterable[tuple[str, dict | None]]) -> dict[str, dict]:
    """What a table sees after reading ``changelog`` in order: the latest value per key, tombstones deleted."""
    table: dict[str, dict] = {}
    for key, value in changelog:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return dict(sorted(table.items()))


def slim(payment: dict) -> dict:
    """mapValues: the fields the rest needs, with the amount in whole cents (as ``PaymentsApp.slim``)."""
    return {"payment_id": payment["payment_id"], "merchant": payment["merchant"],
            "amount_cents": round(payment["amount"] * 100)}


def add(payment: dict, totals: dict) -> dict:
    """The aggregator: one more payment in a customer's count and sum (as ``PaymentsApp.add``)."""
    return {"count": totals["count"] + 1, "sum_cents": totals["sum_cents"] + payment["amount_cents"]}


ZERO = {"count": 0, "sum_cents": 0}


def expected(payments: Iterable[dict], customers: dict[str, dict]) -> tuple[list[tuple[str, dict]], dict[str, list[dict]]]:
    """The reference result for ``payments`` against a complete customer table.

    Returns the enriched payments as (customer, value) in input order, and every customer's sequence of
    totals updates. Plain Python, no Kafka: what both stream processors must produce.
    """
    enriched: list[tuple[str, dict]] = []
    updates: dict[str, list[dict]] = defaultdict(list)
    for pay in payments:
        key = pay["customer_id"]
        if pay["amount"] < MIN_AMOUNT or key not in customers:  # filter, then the inner join
            continue
        value = {**slim(pay), "tier": customers[key]["tier"]}
        enriched.append((key, value))
        updates[key].append(add(value, updates[key][-1] if updates[key] else ZERO))
    return enriched, dict(sorted(updates.items()))

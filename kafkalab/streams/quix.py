"""Chapter 5's topology again, in Quix Streams 3, over the same topics: the Python twin of ``PaymentsApp.java``."""
from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass

from ..io.clients import quiet_imports
from ..io.connection import connection
from ..io.quix import bounded_run
from .reference import MIN_AMOUNT, ZERO, add, slim
from .topics import topic_names


@dataclass
class QuixResult:
    """What the Quix Streams application produced."""

    enriched: list[tuple[str, dict]]
    updates: dict[str, list[dict]]
    consumer_group: str


def quix_run(prefix: str = "streams", *, idle_timeout_s: float = 2.0) -> QuixResult:
    """The same topology in Quix Streams 3, over the same topics, from offset 0; returns what it computed.

    - ``filter`` and ``apply`` are Kafka Streams' filter and mapValues;
    - ``join_asof(customers, how="inner")`` is Quix's stream-table join: it stores the customers topic in a
      state store and, for each payment, takes the customer's latest record *at or before the payment's
      timestamp* (Kafka Streams' KStream-KTable join takes the table's value at processing time; here every
      customer record is older than every payment, so both see the same table);
    - ``apply(..., stateful=True)`` keeps each customer's count and sum in Quix's state (RocksDB), per key.

    One bounded run (:func:`kafkalab.io.quix.bounded_run`: a fresh consumer group, deleted afterwards), state in a
    temporary folder, no changelog topics, and ``app.run(timeout=...)``, which returns once no message has arrived
    for that long.
    """
    with quiet_imports():
        from quixstreams import Application

    names = topic_names(prefix)
    enriched: list[tuple[str, dict]] = []

    def add_to_totals(payment: dict, state) -> dict:
        totals = add(payment, state.get("totals", ZERO))
        state.set("totals", totals)
        return totals

    with bounded_run(f"{prefix}-quix") as group, tempfile.TemporaryDirectory(prefix="streams-quix-state-") as state_dir:
        app = Application(
            broker_address=connection().quix(), consumer_group=group, auto_offset_reset="earliest",
            state_dir=state_dir, use_changelog_topics=False, auto_create_topics=False,
            loglevel="WARNING", broker_availability_timeout=30,
        )
        payments = app.dataframe(app.topic(names["payments"], key_deserializer="str", value_deserializer="json"))
        customers = app.dataframe(app.topic(names["customers"], key_deserializer="str", value_deserializer="json"))
        joined = (
            payments.filter(lambda p: p["amount"] >= MIN_AMOUNT)
            .apply(slim)
            .join_asof(customers, how="inner", on_merge=lambda p, c: {**p, "tier": c["tier"]})
        )
        joined = joined.update(lambda value, key, ts, headers: enriched.append((key, value)), metadata=True)
        joined.apply(add_to_totals, stateful=True)
        rows = app.run(timeout=idle_timeout_s, collect=True, metadata=True)
    updates: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        updates[row["_key"]].append({"count": row["count"], "sum_cents": row["sum_cents"]})
    return QuixResult(enriched, dict(sorted(updates.items())), group)

"""Chapter 5's topology again, in Quix Streams 3, over the same topics: the Python twin of ``PaymentsApp.java``;
and :func:`run_pipeline`, which runs a pipeline someone else wrote (the chapter's exercise) once over a topic.
"""
from __future__ import annotations

import contextlib
import logging
import tempfile
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..errors import LabError
from ..io.clients import quiet_imports
from ..io.connection import connection
from ..io.quix import bounded_run
from ..io.read import read_to_end
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


@contextlib.contextmanager
def _silent_quix() -> Iterator[None]:
    """Quix logs a failing row with its traceback; the caller reports the error itself, in one line."""
    log = logging.getLogger("quixstreams")
    was = log.level
    log.setLevel(logging.CRITICAL + 1)  # its child loggers (quixstreams.app ...) inherit the level
    try:
        yield
    finally:
        log.setLevel(was)


def run_pipeline(build: Callable, input_topic: str, output_topic: str, *, idle_timeout_s: float = 1.0,
                 max_runtime_s: float = 60.0) -> list[tuple[str | None, object]]:
    """Run ``build(sdf)`` once over ``input_topic`` and return what it wrote to ``output_topic``.

    ``build`` gets the ``StreamingDataFrame`` of ``input_topic`` (str keys, JSON values) and returns the dataframe
    whose records go to ``output_topic`` (same key, JSON value). One bounded run from offset 0: a fresh consumer
    group (:func:`kafkalab.io.quix.bounded_run`), state in a temporary folder, no changelog topics; it stops once
    no record has arrived for ``idle_timeout_s`` (a timer stops it after ``max_runtime_s`` whatever happens).
    Returns ``(key, value)`` pairs in partition and offset order.

    What ``build`` or the functions it chains raise comes out unchanged (Quix's own log of the failing row is
    silenced); a ``build`` that does not return a ``StreamingDataFrame`` raises ``TypeError``.
    """
    import json

    with quiet_imports():
        from quixstreams import Application
        from quixstreams.dataframe import StreamingDataFrame

    with bounded_run("streams-quix-check") as group, \
            tempfile.TemporaryDirectory(prefix="streams-quix-state-") as state_dir, _silent_quix():
        app = Application(
            broker_address=connection().quix(), consumer_group=group, auto_offset_reset="earliest",
            state_dir=state_dir, use_changelog_topics=False, auto_create_topics=False,
            loglevel=None, broker_availability_timeout=30,
        )
        sdf = app.dataframe(app.topic(input_topic, key_deserializer="str", value_deserializer="json"))
        out = build(sdf)
        if not isinstance(out, StreamingDataFrame):
            raise TypeError(f"the function returned {'None' if out is None else type(out).__name__}, not the "
                            f"StreamingDataFrame it built")
        out.to_topic(app.topic(output_topic, key_serializer="str", value_serializer="json"))
        watchdog = threading.Timer(max_runtime_s, app.stop)  # in case it never gets its partitions
        watchdog.start()
        try:
            app.run(timeout=idle_timeout_s)
        finally:
            stopped_by_watchdog = not watchdog.is_alive()
            watchdog.cancel()
    if stopped_by_watchdog:
        raise LabError(f"the Quix Streams application did not finish reading {input_topic} within "
                       f"{max_runtime_s:g} s; is the broker overloaded? (`python -m kafkalab doctor`)")
    return [(None if r.key is None else r.key.decode(), None if r.value is None else json.loads(r.value))
            for r in read_to_end(output_topic)]

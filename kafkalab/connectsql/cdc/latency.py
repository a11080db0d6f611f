"""Commit-to-sink latency: how long a source commit takes to reach the sink table, directly and through Flink SQL
(Chapter 7 and `make bench`)."""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from ...errors import LabError
from ...wait import wait_until
from .common import new_run_id
from .database import CUSTOMERS, _table, create_shop, drop_schema, execute, rows
from .pipeline import REVENUE_SOURCE_SQL, create_revenue_table, revenue_statements, start_job, stop_job, wait_until_same
from .source_sink import _delete_topics, create_sink, create_source, drop_sink, drop_source


# -------------------------------------------------------------------------------------------------- measurement
@dataclass
class Latency:
    """Commit-to-sink latencies of a burst of changes, in milliseconds."""

    samples_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.samples_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    def summary(self) -> dict:
        return {"n": len(self.samples_ms), "median_ms": round(self.median_ms, 1), "p95_ms": round(self.p95_ms, 1),
                "max_ms": round(max(self.samples_ms), 1)}


def commit_to_sink(change: Callable[[int], None], landed: Callable[[], set[int]], n: int = 50,
                   gap_s: float = 0.05, poll_s: float = 0.01, timeout_s: float = 120) -> Latency:
    """Measure how long each of ``n`` committed changes takes to show in the sink.

    ``change(i)`` commits change ``i`` in the source; ``landed()`` returns the indices visible in the sink (one query).
    A thread polls ``landed()`` every ``poll_s`` while the changes are committed ``gap_s`` apart; each latency is
    first seen minus commit time (resolution about ``poll_s`` plus one query).
    """
    committed: dict[int, float] = {}
    seen: dict[int, float] = {}
    done = threading.Event()
    errors: list[BaseException] = []

    def poll():
        while not done.is_set():
            try:
                visible = landed()
            except Exception as e:  # reported after the burst
                errors.append(e)
                return
            now = time.monotonic()
            for i in visible:
                seen.setdefault(i, now)
            time.sleep(poll_s)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        for i in range(n):
            change(i)
            committed[i] = time.monotonic()
            time.sleep(gap_s)
        wait_until(lambda: errors or all(i in seen for i in range(n)), timeout_s=timeout_s,
                   what=f"all {n} changes in the sink", last_seen=lambda: f"{len(seen)} of {n} landed")
    finally:
        done.set()
        watcher.join(5)
    if errors:
        raise LabError(f"reading the sink failed during the measurement: {errors[0]}")
    return Latency([max(0.0, (seen[i] - committed[i]) * 1000) for i in range(n)])


def latency_replica(n: int = 50, gap_s: float = 0.05) -> Latency:
    """Commit-to-row latency of the plain CDC path: a table -> Debezium -> Kafka -> JDBC sink -> a copy of the table.
    Each of ``n`` inserts is its own transaction; everything is created for the run and removed afterwards."""
    run = new_run_id()
    schema = f"bench_{run}"
    execute(f"CREATE SCHEMA {schema}; CREATE TABLE {schema}.items (id INT PRIMARY KEY, v INT NOT NULL); "
            f"CREATE TABLE {schema}.items_copy (id INT PRIMARY KEY, v INT NOT NULL)")
    source = sink = None
    try:
        source = create_source([f"{schema}.items"], run=run)
        sink = create_sink([source.topic(f"{schema}.items")], f"{schema}.items_copy", run=run, dlq=False)
        return commit_to_sink(lambda i: execute(f"INSERT INTO {schema}.items VALUES (%s, %s)", (i, i)),
                              lambda: {r[0] for r in rows(f"SELECT id FROM {schema}.items_copy")}, n, gap_s)
    finally:
        if sink:
            drop_sink(sink)
        if source:
            drop_source(source)
        drop_schema(schema)


def revenue_latency(schema: str, target: str, n: int = 10, gap_s: float = 0.05, first_id: int = 100_000,
                    country: str = "UK") -> Latency:
    """Commit-to-row latency through a running revenue pipeline (source ``schema``, sink table ``target``): ``n``
    payments of 1.00 by a customer in ``country`` (ids ``first_id``, ``first_id + 1`` …), one transaction each; the
    sink row's payment count shows which have landed."""
    from psycopg import sql

    where = sql.SQL("SELECT payments FROM {} WHERE country = %s").format(_table(target))
    found = rows(where, (country,))
    if not found:
        raise LabError(f"{target} has no row for {country}: start the revenue pipeline and wait for its first rows")
    (base,) = found.pop()
    customer = next((c[0] for c in CUSTOMERS if c[2] == country), None)
    if customer is None:
        raise LabError(f"no customer of the shop lives in {country}; choose one of "
                       f"{sorted({c[2] for c in CUSTOMERS})}")
    insert = sql.SQL("INSERT INTO {} VALUES (%s, %s, 1.00)").format(_table(f"{schema}.payments"))

    def landed() -> set[int]:
        now = rows(where, (country,))
        return set(range(now.pop()[0] - base)) if now else set()

    return commit_to_sink(lambda i: execute(insert, (first_id + i, customer)), landed, n, gap_s)


def latency_flink(n: int = 50, gap_s: float = 0.05, t_env=None) -> Latency:
    """Commit-to-row latency of the whole path: a payment committed -> Debezium -> Kafka -> Flink SQL (join with
    customers, revenue per country) -> Kafka -> JDBC sink -> the revenue table. Each of ``n`` payments (one
    transaction each) raises the UK's payment count by one; the sink row shows which have landed."""
    from ..flinksql import table_env

    run = new_run_id()
    schema = f"bench_{run}"
    tables = create_shop(schema)
    target = f"{schema}.revenue_by_country"
    out_topic = f"cdc-{run}-revenue"
    source = sink = job = None
    try:
        source = create_source(tables, run=run)
        create_revenue_table(target)
        sink = create_sink([out_topic], target, run=run, dlq=False, evolve=False)
        job = start_job(t_env or table_env(), revenue_statements(source, schema, out_topic))
        wait_until_same(f"SELECT country, revenue, payments FROM {target}",
                        REVENUE_SOURCE_SQL.format(schema=schema), what="the first revenue rows")
        return revenue_latency(schema, target, n, gap_s)
    finally:
        if job is not None:
            stop_job(job)
        if sink:
            drop_sink(sink)
        if source:
            drop_source(source)
        _delete_topics([out_topic])
        drop_schema(schema)

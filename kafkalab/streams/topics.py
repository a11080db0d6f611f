"""The topics of Chapter 5's application: create them, fill them, read them back, and clean up after a run.

Input topics of a join must be **co-partitioned** (same partition count, same partitioner); the customers topic
is compacted because it holds a table. Reading back uses :func:`kafkalab.io.read.read_to_end`, with
``read_committed`` by default, as a downstream consumer of an exactly-once application should.
"""
from __future__ import annotations

import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ..datagen import EPOCH_MS
from ..io.clients import admin, producer
from ..io.groups import committed_offsets, delete_group, idle_groups
from ..io.read import read_to_end
from ..io.topics import end_offsets, recreate_topic
from ..wait import wait_until
from ..io.groups import clear_group_configs
from .reference import table_of

#: Settings for topics whose records carry past event times (the broker deletes by record timestamp).
KEEP_FOREVER = {"retention.ms": "-1"}


def topic_names(prefix: str = "streams") -> dict[str, str]:
    """The four topics of the application for ``prefix``: payments, customers, enriched, totals."""
    return {name: f"{prefix}-{name}" for name in ("payments", "customers", "enriched", "totals")}


def create_topics(prefix: str = "streams", partitions: int = 2) -> dict[str, str]:
    """(Re)create the application's topics empty; the customers topic is compacted (it holds a table).

    Input topics of a join must be **co-partitioned**: the same number of partitions and the same partitioner,
    so that a customer's payments and the customer's table record land in partitions with the same number.
    """
    names = topic_names(prefix)
    for role, name in names.items():
        configs = {"cleanup.policy": "compact"} if role == "customers" else dict(KEEP_FOREVER)
        recreate_topic(name, partitions=partitions, configs=configs)
    return names


def produce_customers(topic: str, rows: Iterable[tuple[str, dict | None]], start_ms: int | None = None) -> int:
    """Write ``rows`` (key, JSON value or ``None`` for a tombstone) in order, one second apart in record time.

    The timestamps start an hour before the first payment, so the table is complete before any payment.
    """
    start_ms = EPOCH_MS - 3_600_000 if start_ms is None else start_ms
    with contextlib.closing(producer(acks="all")) as p:
        futures = [
            p.send(topic, key=key.encode(), value=None if value is None else json.dumps(value).encode(),
                   timestamp_ms=start_ms + i * 1000)
            for i, (key, value) in enumerate(rows)
        ]
        p.flush(timeout=30)
        for f in futures:
            f.get(timeout=10)
    return len(futures)


def produce_payments(topic: str, payments: Iterable[dict]) -> int:
    """Write payment events keyed by ``customer_id``, each stamped with its event time ``ts_ms``."""
    with contextlib.closing(producer(acks="all")) as p:
        futures = [
            p.send(topic, key=pay["customer_id"].encode(), value=json.dumps(pay).encode(), timestamp_ms=pay["ts_ms"])
            for pay in payments
        ]
        p.flush(timeout=30)
        for f in futures:
            f.get(timeout=10)
    return len(futures)


@dataclass(frozen=True)
class Message:
    """One record read back from a topic."""

    partition: int
    offset: int
    key: str | None
    value: dict | None


def read_topic(topic: str, *, committed_only: bool = True, timeout_s: float = 15) -> list[Message]:
    """Every record of ``topic`` from the beginning to its current end, in partition and offset order.

    ``committed_only`` reads with ``isolation.level=read_committed``: records of aborted (or still open)
    transactions are skipped, as a downstream consumer of an exactly-once application should do.
    """
    return [Message(r.partition, r.offset, None if r.key is None else r.key.decode(),
                    None if r.value is None else json.loads(r.value))
            for r in read_to_end(topic, committed_only=committed_only, timeout_s=timeout_s)]


def wait_for_records(topic: str, count: int, *, committed_only: bool = False, timeout_s: float = 60) -> list[Message]:
    """Wait until ``topic`` holds at least ``count`` records (uncommitted ones included by default)."""
    got: list[Message] = []

    def enough() -> tuple[list[Message]] | None:  # a tuple: an empty list is an answer when count is 0
        got[:] = read_topic(topic, committed_only=committed_only)
        return (list(got),) if len(got) >= count else None

    return wait_until(enough, timeout_s=timeout_s, interval_s=0.3, what=f"{count} records in {topic}",
                      last_seen=lambda: f"{len(got)} records",
                      fix="is the application running? (see its log: app.log)")[0]


def wait_caught_up(application_id: str, topics: Iterable[str], *, timeout_s: float = 60) -> dict[tuple[str, int], int]:
    """Wait until the application has committed offsets at the end of every partition of ``topics``.

    That is the honest "done" for a stream processor: it has read, processed and committed everything that
    was in its input when the wait began (a commit also flushes the outputs and the changelogs).
    """
    ends = {(t, p): off for t in topics for p, off in end_offsets(t).items()}
    done: dict[tuple[str, int], int] = {}

    def caught_up() -> tuple[dict] | None:  # a tuple: an input without partitions gives an empty answer
        done.clear()
        done.update(committed_offsets(application_id))
        if all(done.get(tp, 0) >= end for tp, end in ends.items()):
            return ({tp: done.get(tp, 0) for tp in sorted(ends)},)
        return None

    def behind() -> str:
        late = {f"{t}[{p}]": f"{done.get((t, p), 0)}/{end}" for (t, p), end in ends.items()
                if done.get((t, p), 0) < end}
        return f"committed/end {late}"

    return wait_until(caught_up, timeout_s=timeout_s, interval_s=0.3,
                      what=f"{application_id} committing the end of its input", last_seen=behind,
                      fix="is it running? Its log: app.log")[0]


def latest_per_key(messages: Iterable[Message]) -> dict[str, dict]:
    """Read a topic as a table: the last value of each key (in offset order within each partition)."""
    return table_of((m.key, m.value) for m in sorted(messages, key=lambda m: (m.partition, m.offset)))


def updates_per_key(messages: Iterable[Message]) -> dict[str, list[dict]]:
    """Each key's values in the order they were written (keys sorted)."""
    seq: dict[str, list[dict]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: (m.partition, m.offset)):
        seq[m.key].append(m.value)
    return dict(sorted(seq.items()))


def internal_topics(application_id: str) -> list[str]:
    """The topics Kafka Streams created for ``application_id`` (changelogs, repartition topics)."""
    with contextlib.closing(admin()) as a:
        return sorted(t for t in a.list_topics() if t.startswith(application_id + "-"))


def delete_application(application_id: str) -> list[str]:
    """Remove what an application left on the cluster: its internal topics, its group (classic or streams) and the
    group configs set for it.

    Returns the deleted topics. (``kafka-streams-application-reset`` deletes the same topics but keeps the
    group, with its offsets moved back to the start.)
    """
    topics = internal_topics(application_id)
    if topics:
        with contextlib.closing(admin()) as a:
            a.delete_topics(topics)
    delete_group(application_id)  # retries while a killed member is still in the group (session timeout)
    clear_group_configs(application_id)  # settings made for the group outlive it
    return topics


def delete_leftovers(pattern: str = r"^streams-(app|alos|eos|quix)-[0-9a-f]{8}(-|$)") -> list[str]:
    """Delete what earlier, interrupted runs of the chapter left behind: internal topics and idle groups.

    Returns the names removed. Groups that still have members (an application running right now) are kept.
    """
    with contextlib.closing(admin()) as a:
        stale = sorted(t for t in a.list_topics() if re.match(pattern, t))
        if stale:
            a.delete_topics(stale)
    groups = idle_groups(pattern)
    for group in groups:
        delete_group(group)
        clear_group_configs(group)
    return stale + groups

"""Debezium's PostgreSQL source and the JDBC sink on the Connect worker: run-unique connectors, change events,
dead letters (Chapter 6)."""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Callable

from .. import connect
from ...cluster.plugins import DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES
from ...cluster.postgres import DATABASE, PASSWORD, USER
from ...cluster.postgres import connect as pg_connect
from ...config import HOST, settings
from ...errors import LabError
from ...io.read import read_to_end
from ...wait import wait_until
from .common import JSON_WITH_SCHEMAS, SLOT_PREFIX, new_run_id
from .database import _drop_publication, drop_stale_slots, replica_identity_full, slots


# ---------------------------------------------------------------------------------------------- the CDC source
@dataclass(frozen=True)
class Source:
    """A Debezium PostgreSQL source: its connector, topic prefix, slot and publication names (all per run)."""

    run: str
    tables: tuple[str, ...]  # schema.table

    @property
    def name(self) -> str:
        return f"cdc-source-{self.run}"

    @property
    def prefix(self) -> str:
        return f"cdc-{self.run}"

    @property
    def slot(self) -> str:
        return f"{SLOT_PREFIX}{self.run}"

    @property
    def publication(self) -> str:
        return f"{SLOT_PREFIX}{self.run}"

    def topic(self, table: str) -> str:
        """The topic of one captured table: ``<prefix>.<schema>.<table>``."""
        if table not in self.tables:
            raise LabError(f"{table} is not captured by {self.name}; it captures {', '.join(self.tables)}")
        return f"{self.prefix}.{table}"

    @property
    def topics(self) -> list[str]:
        return [self.topic(t) for t in self.tables]


def source_config(source: Source, decimals: str = "double", extra: dict | None = None) -> dict:
    """The Debezium PostgreSQL source's configuration; ``extra`` settings replace or add to it."""
    if decimals not in ("double", "string", "precise"):
        raise LabError(f"decimals={decimals!r}: choose double or string (precise gives base64 bytes in JSON)")
    pg = settings()
    return {
        "connector.class": DEBEZIUM_POSTGRES,
        "tasks.max": "1",
        "database.hostname": HOST,
        "database.port": str(pg.postgres_port),
        "database.user": USER,
        "database.password": PASSWORD,
        "database.dbname": DATABASE,
        # topics are named <topic.prefix>.<schema>.<table>
        "topic.prefix": source.prefix,
        "table.include.list": ",".join(source.tables),
        # PostgreSQL's built-in logical decoding plugin (no server extension to install)
        "plugin.name": "pgoutput",
        "slot.name": source.slot,
        "slot.drop.on.stop": "true",
        # Debezium creates the publication for exactly the captured tables
        "publication.name": source.publication,
        "publication.autocreate.mode": "filtered",
        # NUMERIC columns as JSON numbers (the default, "precise", writes them as base64-encoded bytes)
        "decimal.handling.mode": decimals,
        # a delete event is followed by a tombstone (key, null value) so that compaction can forget the key
        "tombstones.on.delete": "true",
        # how long the task waits for new changes before polling again (default 500 ms)
        "poll.interval.ms": "100",
        # Connect creates the topics (broker defaults for partitions and replication)
        "topic.creation.default.partitions": "-1",
        "topic.creation.default.replication.factor": "-1",
        **JSON_WITH_SCHEMAS,
        **{k: str(v) for k, v in (extra or {}).items()},
    }


def _start_fresh(name: str, cfg: dict, timeout_s: float) -> None:
    """Create connector ``name`` STOPPED, delete any offsets an earlier connector of that name stored, then start it
    and wait until its task runs (a FAILED one raises one line with the cause)."""
    connect.fresh(name, cfg, state="STOPPED", timeout_s=timeout_s)
    connect.resume(name)
    wait_running(name, timeout_s)


def create_source(tables: list[str], run: str | None = None, decimals: str = "double", timeout_s: float = 90,
                  config: dict | None = None) -> Source:
    """Capture ``tables`` (``schema.table``) with a Debezium source; returns once its slot exists, so every change
    committed from then on reaches Kafka (after the snapshot of the rows already there).

    A source of the same ``run`` is reset first (connector, slot, publication and topics removed, stored offsets
    deleted), so a fixed run id gives the same snapshot and events on every run. Sets ``REPLICA IDENTITY FULL`` on
    each table, drops stale course slots, validates the config through Connect (one line naming each invalid
    setting) and reports a failed task in one line with its cause.
    """
    source = Source(run or new_run_id(), tuple(tables))
    cfg = source_config(source, decimals, config)
    connect.check_config(cfg, source.name)
    drop_source(source)  # what an earlier run under this id left (nothing for a new id)
    for table in tables:
        replica_identity_full(table)
    drop_stale_slots()
    _start_fresh(source.name, cfg, timeout_s)

    def slot_ready():
        problem = connect.failure(source.name)
        if problem:
            raise LabError(problem)
        return any(s["slot"] == source.slot for s in slots())

    wait_until(slot_ready, timeout_s=timeout_s, what=f"replication slot {source.slot} created by {source.name}",
               fix=f"see the worker's log ({settings().log_dir / 'connect.log'})")
    return source


def drop_source(source: Source, topics: bool = True) -> None:
    """Delete the source connector, its slot (if it outlived the connector), its publication and its topics (each
    only if it exists). Its offsets stay in Connect's offsets topic: :func:`create_source` deletes them."""
    connect.delete(source.name)

    def slot_gone_or_idle():
        return all(not s["active"] for s in slots() if s["slot"] == source.slot)

    wait_until(slot_gone_or_idle, timeout_s=30, what=f"slot {source.slot} released")
    import psycopg

    with contextlib.closing(pg_connect()) as conn:
        with contextlib.suppress(psycopg.errors.UndefinedObject):  # the stopping task may drop it at the same time
            conn.execute("SELECT pg_drop_replication_slot(%s)", (source.slot,))
        conn.execute(_drop_publication(source.publication))
    if topics:
        _delete_topics(source.topics)


def wait_running(name: str, timeout_s: float = 60) -> dict:
    """Wait until connector ``name`` and its tasks run; a FAILED one raises one line with the cause and the fix."""
    box: dict = {}

    def running():
        try:
            box["status"] = st = connect.status(name)
        except LabError:  # just created: no status yet
            return False
        problem = connect.failure(name, st)
        if problem:
            raise LabError(problem)
        tasks = [t["state"] for t in st.get("tasks", [])]
        return st["connector"]["state"] == "RUNNING" and tasks and all(t == "RUNNING" for t in tasks)

    wait_until(running, timeout_s=timeout_s, what=f"connector {name} RUNNING",
               last_seen=lambda: box.get("status", "no status yet"))
    return box["status"]


def restart(name: str, timeout_s: float = 60) -> dict:
    """Restart a connector's failed tasks (after fixing the cause) and wait until they run; a task that fails
    again raises one line with the new cause."""
    connect.restart(name)
    with contextlib.suppress(LabError):  # the restart is asynchronous: let the old FAILED state clear first
        wait_until(lambda: connect.failure(name) is None, timeout_s=10, what=f"{name} restarting")
    return wait_running(name, timeout_s)


# -------------------------------------------------------------------------------------------------- change events
def change_events(topic: str, timeout_s: float = 15) -> list[dict]:
    """The change events of a Debezium topic, oldest first: ``op`` (c/u/d/r), ``key``, ``before``, ``after``,
    ``ts_ms`` (when the source committed it), ``fields`` (the value schema's field names of ``after``);
    a tombstone is ``{"op": None, "key": …, "tombstone": True}``."""
    out = []
    for r in read_to_end(topic, timeout_s=timeout_s):
        key = json.loads(r.key)["payload"] if r.key else None
        if r.value is None:
            out.append({"op": None, "key": key, "tombstone": True, "offset": r.offset})
            continue
        envelope = json.loads(r.value)
        p = envelope["payload"]
        after_schema = next((f for f in envelope["schema"]["fields"] if f["field"] == "after"), {})
        out.append({"op": p["op"], "key": key, "before": p.get("before"), "after": p.get("after"),
                    "ts_ms": p["source"]["ts_ms"], "tombstone": False, "offset": r.offset,
                    "fields": [f["field"] for f in after_schema.get("fields", [])]})
    return out


def changes(topic: str):
    """:func:`change_events` as a pandas DataFrame (op, key, before, after, source commit time)."""
    import pandas as pd

    events = change_events(topic)
    df = pd.DataFrame([{"offset": e["offset"], "op": e["op"] or "tombstone", "key": e["key"],
                        "before": e.get("before"), "after": e.get("after"),
                        "committed": pd.to_datetime(e["ts_ms"], unit="ms", utc=True) if e.get("ts_ms") else None}
                       for e in events])
    return df


def wait_for_events(topic: str, check: Callable[[list[dict]], bool], what: str, timeout_s: float = 60) -> list[dict]:
    """Read ``topic``'s change events until ``check(events)`` holds; return them."""
    box: dict = {}

    def ready():
        box["events"] = change_events(topic)
        return check(box["events"])

    wait_until(ready, timeout_s=timeout_s, what=what, retry_on=(LabError,),
               last_seen=lambda: [e["op"] for e in box.get("events", [])])
    return box["events"]


# ----------------------------------------------------------------------------------------------- the JDBC sink
@dataclass(frozen=True)
class Sink:
    """A Debezium JDBC sink writing ``topics`` into ``table`` (with a dead-letter topic when ``dlq`` is set)."""

    name: str
    topics: tuple[str, ...]
    table: str
    dlq: str | None = None


def jdbc_connection() -> dict:
    """The JDBC sink's connection settings for the course database (URL, user, password)."""
    return {
        "connection.url": f"jdbc:postgresql://{HOST}:{settings().postgres_port}/{DATABASE}",
        "connection.username": USER,
        "connection.password": PASSWORD,
    }


def sink_config(topics: list[str], table: str, dlq: str | None = None, evolve: bool = True,
                extra: dict | None = None) -> dict:
    """The Debezium JDBC sink's configuration: upsert by the record key, delete on a delete event or tombstone,
    create or widen the table (``evolve``), and send records it cannot convert to ``dlq`` with the error in headers."""
    cfg = {
        "connector.class": DEBEZIUM_JDBC_SINK,
        "tasks.max": "1",
        "topics": ",".join(topics),
        **jdbc_connection(),
        # the table's primary key is the record key; a record whose key exists updates that row
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        # a Debezium delete event or a tombstone (key, null value) deletes the row with that key
        "delete.enabled": "true",
        "collection.name.format": table,
        # "basic": create the table, add columns that appear later; "none": the table must exist and match
        "schema.evolution": "basic" if evolve else "none",
        # a small connection pool (default 5 to 32): one task writes one table
        "connection.pool.min_size": "1",
        "connection.pool.max_size": "2",
        **JSON_WITH_SCHEMAS,
    }
    if dlq:
        cfg.update({
            # keep going past records that fail to convert or transform, and park them in a dead-letter topic
            "errors.tolerance": "all",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.topic.replication.factor": "1",
            # copy the error (exception class, message, stack trace, original topic/partition/offset) into headers
            "errors.deadletterqueue.context.headers.enable": "true",
            "errors.log.enable": "true",
        })
    cfg.update({k: str(v) for k, v in (extra or {}).items()})
    return cfg


def create_sink(topics: list[str], table: str, run: str | None = None, dlq: bool = True, evolve: bool = True,
                timeout_s: float = 90, config: dict | None = None) -> Sink:
    """Start a JDBC sink from ``topics`` into ``table`` (``schema.table``); returns once its task runs.

    A sink of the same ``run`` is reset first: connector deleted, its committed offsets deleted (it reads its topics
    from the start again) and its dead-letter topic emptied."""
    run = run or new_run_id()
    sink = Sink(f"cdc-sink-{run}", tuple(topics), table, f"cdc-{run}-dlq" if dlq else None)
    cfg = sink_config(list(topics), table, sink.dlq, evolve, config)
    connect.check_config(cfg, sink.name)
    connect.delete(sink.name)  # fresh() would too; the dead-letter topic goes only once nothing writes to it
    if sink.dlq:
        _delete_topics([sink.dlq])
    _start_fresh(sink.name, cfg, timeout_s)
    return sink


def drop_sink(sink: Sink, dlq_topic: bool = True) -> None:
    """Delete the sink connector, its consumer group and (``dlq_topic``) its dead-letter topic."""
    connect.delete(sink.name)
    from ...io.clients import admin

    with contextlib.suppress(Exception), contextlib.closing(admin()) as a:
        a.delete_consumer_groups([f"connect-{sink.name}"])
    if dlq_topic and sink.dlq:
        _delete_topics([sink.dlq])


def dead_letters(topic: str, timeout_s: float = 15) -> list[dict]:
    """The records of a dead-letter topic: the original value (text) and Connect's error headers, short names
    (``exception.class.name``, ``exception.message``, ``topic``, ``offset`` …)."""
    out = []
    try:
        records = read_to_end(topic, timeout_s=timeout_s)
    except LabError:  # no dead letter yet: Connect creates the topic with the first one
        return out
    for r in records:
        headers = {k.removeprefix("__connect.errors."): (v.decode(errors="replace") if v is not None else None)
                   for k, v in (r.headers or [])}
        out.append({"value": None if r.value is None else r.value.decode(errors="replace"), "headers": headers})
    return out


def _delete_topics(topics: list[str]) -> None:
    from ...io.topics import delete_topic

    for t in topics:
        with contextlib.suppress(LabError):
            delete_topic(t)



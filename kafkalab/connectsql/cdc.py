"""A database in and out of Kafka: change data capture from PostgreSQL with Debezium, the JDBC sink back into
PostgreSQL (Chapter 6, Kafka Connect), and Flink SQL over the changes (Chapter 7, Streaming SQL).

The path, end to end::

    PostgreSQL tables --(Debezium source: WAL, pgoutput, a replication slot)--> <prefix>.<schema>.<table> topics
      --(Flink SQL: debezium-json changelogs, join, GROUP BY)--> an upsert topic in Connect's JSON envelope
      --(Debezium JDBC sink: upsert by key, delete on tombstone)--> a PostgreSQL table

**Converter: JSON with schemas.** Every connector here uses Connect's ``JsonConverter`` with ``schemas.enable=true``:
each key and value is ``{"schema": …, "payload": …}``. The JDBC sink needs a schema to map fields to columns; this
envelope carries it without a registry, Flink's ``debezium-json`` format reads it
(``'debezium-json.schema-include' = 'true'``), and any client can read it as plain JSON. The price is size: the schema
travels in every record (several times the payload). Avro through the course's registry was the alternative:
Confluent's AvroConverter is not on Maven Central, and Apicurio's converter frames records its own way by default,
which confluent-kafka and Flink's ``avro-confluent`` format do not read without extra configuration.

**Re-runs.** Everything a run creates carries a run id: connector names, the topic prefix, the replication slot and
the publication. Tests and benchmarks take a new one each time (:func:`new_run_id`); a chapter passes a fixed one
(``run="connect"``) so that its names and outputs read the same on every run, and :func:`create_source` and
:func:`create_sink` *reset* what an earlier run under the same id left: the connector, its stored offsets (a source
with old offsets would skip its snapshot, a sink with old committed offsets would skip records), its topics, its slot
and its publication. A slot is a bookmark in the database's write-ahead log that PostgreSQL keeps until its reader
confirms progress; ``slot.drop.on.stop=true`` removes it when the connector stops, and :func:`drop_stale_slots`
(called before each new source) removes course slots that a killed run left behind and that no connector known to
Connect names, so they neither block nor pile up.
"""
from __future__ import annotations

import contextlib
import json
import statistics
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from . import connect
from ..cluster.plugins import DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES
from ..cluster.postgres import DATABASE, PASSWORD, USER
from ..cluster.postgres import connect as pg_connect
from ..config import HOST, settings
from ..errors import LabError
from ..io.read import read_to_end
from ..wait import wait_until

#: Connect's JSON converter with the {schema, payload} envelope, for keys and values.
JSON_WITH_SCHEMAS = {
    "key.converter": connect.JSON_CONVERTER,
    "key.converter.schemas.enable": "true",
    "value.converter": connect.JSON_CONVERTER,
    "value.converter.schemas.enable": "true",
}
#: Every replication slot and publication the course creates starts with this.
SLOT_PREFIX = "kafkalab_"
#: Debezium's ``op`` codes.
OPS = {"r": "read (snapshot)", "c": "create", "u": "update", "d": "delete", "t": "truncate"}


def new_run_id() -> str:
    """A short id that makes this run's connector, slot, publication and topic names unique."""
    return uuid.uuid4().hex[:8]


# --------------------------------------------------------------------------------------------------- the database
def execute(statement: str, params: tuple | dict | None = None) -> int:
    """Run one SQL statement (or several, separated by ``;``, without params) in its own transaction, committed on
    return; returns the number of rows it touched."""
    with contextlib.closing(pg_connect()) as conn:
        cur = conn.execute(statement, params)
        return cur.rowcount


def query(sql: str, params: tuple | dict | None = None):
    """Run a query on the course database and return its rows as a pandas DataFrame."""
    import pandas as pd

    with contextlib.closing(pg_connect()) as conn:
        cur = conn.execute(sql, params)
        columns = [c.name for c in cur.description or []]
        return pd.DataFrame(cur.fetchall(), columns=columns)


def rows(sql: str, params: tuple | dict | None = None) -> set[tuple]:
    """A query's rows as a set of tuples: what two tables are compared on."""
    with contextlib.closing(pg_connect()) as conn:
        return set(conn.execute(sql, params).fetchall())


#: The shop the chapter captures: a few customers in three countries and their payments (amounts in NUMERIC).
CUSTOMERS = [(1, "Ada", "UK"), (2, "Bjorn", "SE"), (3, "Chloe", "FR"), (4, "Dev", "UK"), (5, "Elin", "SE")]
PAYMENTS = [(1, 1, "12.50"), (2, 2, "7.25"), (3, 3, "30.00"), (4, 1, "4.75"), (5, 4, "19.99"), (6, 5, "3.10")]


def create_shop(schema: str) -> list[str]:
    """(Re)create schema ``schema`` with ``customers`` and ``payments`` tables holding :data:`CUSTOMERS` and
    :data:`PAYMENTS`, both with ``REPLICA IDENTITY FULL``; returns the two qualified table names."""
    from psycopg import sql

    s = sql.Identifier(schema)
    with contextlib.closing(pg_connect(autocommit=False)) as conn:
        with conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(s))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(s))
            conn.execute(sql.SQL("CREATE TABLE {}.customers (id INT PRIMARY KEY, name TEXT NOT NULL, "
                                 "country TEXT NOT NULL)").format(s))
            conn.execute(sql.SQL("CREATE TABLE {}.payments (id INT PRIMARY KEY, customer_id INT NOT NULL, "
                                 "amount NUMERIC(10, 2) NOT NULL)").format(s))
            for table in ("customers", "payments"):
                conn.execute(sql.SQL("ALTER TABLE {}.{} REPLICA IDENTITY FULL").format(s, sql.Identifier(table)))
            with conn.cursor() as cur:
                cur.executemany(sql.SQL("INSERT INTO {}.customers VALUES (%s, %s, %s)").format(s), CUSTOMERS)
                cur.executemany(sql.SQL("INSERT INTO {}.payments VALUES (%s, %s, %s)").format(s), PAYMENTS)
    return [f"{schema}.customers", f"{schema}.payments"]


def drop_schema(schema: str) -> None:
    """Drop a schema the chapter or a test created, with everything in it."""
    from psycopg import sql

    with contextlib.closing(pg_connect()) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _table(table: str):
    """``schema.table`` (or ``table``) as a quoted SQL identifier."""
    from psycopg import sql

    return sql.Identifier(*table.split(".", 1))


def _drop_publication(name: str):
    from psycopg import sql

    return sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name))


def replica_identity_full(table: str) -> None:
    """Make UPDATE and DELETE events carry the whole old row (``before``), which Flink's changelog reading needs;
    by default PostgreSQL logs only the old primary key."""
    from psycopg import sql

    with contextlib.closing(pg_connect()) as conn:
        conn.execute(sql.SQL("ALTER TABLE {} REPLICA IDENTITY FULL").format(_table(table)))


# ----------------------------------------------------------------------------------------- slots and publications
def slots() -> list[dict]:
    """The course's replication slots in the course database: name, whether a reader holds it, WAL it retains."""
    with contextlib.closing(pg_connect()) as conn:
        cur = conn.execute(
            "SELECT slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) "
            "FROM pg_replication_slots WHERE database = current_database() AND starts_with(slot_name, %s) "
            "ORDER BY slot_name", (SLOT_PREFIX,))
        return [{"slot": n, "active": a, "retained_wal": w} for n, a, w in cur.fetchall()]


def _names_in_use() -> set[str]:
    """Slot and publication names that connectors known to Connect are configured with."""
    try:
        known = connect.call("GET", "/connectors?expand=info")
    except LabError:  # Connect is down: no connector can be reading
        return set()
    used = set()
    for entry in known.values():
        cfg = entry.get("info", {}).get("config", {})
        used.update(v for k, v in cfg.items() if k in ("slot.name", "publication.name"))
    return used


def drop_stale_slots() -> list[str]:
    """Drop the course's replication slots (and publications) that no reader holds and no connector known to
    Connect names: leftovers of a killed run. Returns what was dropped."""
    import psycopg

    in_use = _names_in_use()
    dropped = []
    with contextlib.closing(pg_connect()) as conn:
        idle = conn.execute("SELECT slot_name FROM pg_replication_slots WHERE database = current_database() "
                            "AND starts_with(slot_name, %s) AND NOT active", (SLOT_PREFIX,)).fetchall()
        for (slot,) in idle:
            if slot not in in_use:
                try:
                    conn.execute("SELECT pg_drop_replication_slot(%s)", (slot,))
                    dropped.append(f"slot {slot}")
                except (psycopg.errors.ObjectInUse, psycopg.errors.UndefinedObject):  # picked up or gone meanwhile
                    pass
        live = {s for (s,) in conn.execute("SELECT slot_name FROM pg_replication_slots").fetchall()}
        pubs = conn.execute("SELECT pubname FROM pg_publication WHERE starts_with(pubname, %s)",
                            (SLOT_PREFIX,)).fetchall()
        for (pub,) in pubs:
            if pub not in in_use and pub not in live:
                conn.execute(_drop_publication(pub))
                dropped.append(f"publication {pub}")
    return dropped


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
    from ..io.clients import admin

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
    from ..io.topics import delete_topic

    for t in topics:
        with contextlib.suppress(LabError):
            delete_topic(t)


# ------------------------------------------------------------------------------ Flink SQL over the change topics
def changelog_options(topic: str, bounded: bool = False) -> str:
    """The ``WITH`` clause of a Flink table that reads a Debezium topic as a changelog (inserts, updates with their
    before image, deletes), from its first record, without end (``bounded``: up to the end it has now)."""
    from .flinksql import kafka_options

    return kafka_options(topic, bounded=bounded, fmt="debezium-json",
                         extra={"debezium-json.schema-include": "true"})


def upsert_options(topic: str) -> str:
    """The ``WITH`` clause of a Flink table written to ``topic`` as upserts: key and value are one text column each
    (raw bytes, e.g. a Connect JSON envelope built in SQL); a deleted key becomes a tombstone."""
    from .flinksql import kafka_properties, with_clause

    return with_clause({"connector": "upsert-kafka", "topic": topic, **kafka_properties(),
                        "key.format": "raw", "value.format": "raw", "value.fields-include": "EXCEPT_KEY"})


def struct_schema(name: str | None, fields: list[tuple[str, str]]) -> dict:
    """Connect's JSON description of a struct of required fields: (field name, Connect type such as ``int32``,
    ``int64``, ``double``, ``string``, ``boolean``)."""
    schema = {"type": "struct", "optional": False,
              "fields": [{"field": f, "type": t, "optional": False} for f, t in fields]}
    return {**schema, "name": name} if name else schema


def envelope(payload: dict, types: dict[str, str], name: str | None = None) -> bytes:
    """A record key or value in Connect's JSON envelope, ``{"schema": …, "payload": …}``, as JsonConverter with
    ``schemas.enable=true`` reads it; ``types`` maps each field to its Connect type."""
    return json.dumps({"schema": struct_schema(name, list(types.items())), "payload": payload}).encode()


def connect_json(struct: str, fields: list[tuple[str, str, str]]) -> str:
    """A Flink SQL expression building Connect's JSON envelope for one row: ``{"schema": <struct>, "payload": …}``.

    ``fields`` are (field name, Connect type such as ``string``/``int64``/``double``, SQL expression). The schema is
    a constant; the payload is ``JSON_OBJECT`` over the expressions, so values are escaped by Flink.
    """
    schema = struct_schema(struct, [(f, t) for f, t, _ in fields])
    constant = json.dumps({"schema": schema}, separators=(",", ":"))[:-1]  # '{"schema":{...}' without the last }
    payload = "JSON_OBJECT(" + ", ".join(f"'{f}' VALUE {expr}" for f, _, expr in fields) + ")"
    return "'" + (constant + ',"payload":').replace("'", "''") + "' || " + payload + " || '}'"


#: Revenue and number of payments per country, over the join of payments with customers (Flink SQL).
REVENUE_SELECT = """SELECT c.country, SUM(CAST(p.amount AS DECIMAL(12, 2))) AS revenue, COUNT(*) AS payments
FROM payments AS p JOIN customers AS c ON p.customer_id = c.id
GROUP BY c.country"""
#: The same question asked of the source tables in PostgreSQL (``{schema}`` is the shop's schema).
REVENUE_SOURCE_SQL = """SELECT c.country, SUM(p.amount)::NUMERIC(12, 2) AS revenue, COUNT(*) AS payments
FROM {schema}.payments AS p JOIN {schema}.customers AS c ON p.customer_id = c.id
GROUP BY c.country"""


def revenue_statements(source: Source, schema: str, out_topic: str) -> list[str]:
    """Flink SQL: the two CDC tables, the upsert output table, and the INSERT that keeps revenue per country in
    ``out_topic`` as Connect JSON (key ``{country}``, value ``{country, revenue, payments}``)."""
    key = connect_json("revenue_key", [("country", "string", "country")])
    value = connect_json("revenue_value", [("country", "string", "country"),
                                           ("revenue", "double", "CAST(revenue AS DOUBLE)"),
                                           ("payments", "int64", "payments")])
    return [
        f"CREATE TEMPORARY TABLE customers (id INT, name STRING, country STRING, PRIMARY KEY (id) NOT ENFORCED)\n"
        f"{changelog_options(source.topic(f'{schema}.customers'))}",
        f"CREATE TEMPORARY TABLE payments (id INT, customer_id INT, amount DOUBLE, PRIMARY KEY (id) NOT ENFORCED)\n"
        f"{changelog_options(source.topic(f'{schema}.payments'))}",
        f"CREATE TEMPORARY TABLE revenue_out (k STRING, v STRING, PRIMARY KEY (k) NOT ENFORCED)\n"
        f"{upsert_options(out_topic)}",
        f"INSERT INTO revenue_out\nSELECT {key},\n       {value}\nFROM ({REVENUE_SELECT})",
    ]


def create_revenue_table(table: str) -> None:
    """The sink's target for revenue per country, with SQL types (NUMERIC, not the double on the wire)."""
    from psycopg import sql

    with contextlib.closing(pg_connect()) as conn:
        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_table(table)))
        conn.execute(sql.SQL("CREATE TABLE {} (country TEXT PRIMARY KEY, revenue NUMERIC(12, 2) NOT NULL, "
                             "payments BIGINT NOT NULL)").format(_table(table)))


def start_job(t_env, statements: list[str]):
    """Run the DDL statements, then submit the last one (an INSERT) as a job that runs until :func:`stop_job`."""
    for ddl in statements[:-1]:
        t_env.execute_sql(ddl)
    return t_env.execute_sql(statements[-1])


def stop_job(result) -> None:
    """Cancel a running Flink job (the TableResult of :func:`start_job`) and wait until it is gone."""
    client = result.get_job_client()
    if client is not None:
        with contextlib.suppress(Exception):  # it may have ended already
            client.cancel().result()


def wait_until_same(actual_sql: str, expected_sql: str, timeout_s: float = 90, what: str = "") -> set[tuple]:
    """Wait until two queries return the same set of rows (a sink table and the same question asked of the
    source); return those rows. A table or column the sink has not created yet counts as "not yet". A timeout
    names what differs."""
    import psycopg

    box: dict = {}

    def same():
        box["a"], box["e"] = rows(actual_sql), rows(expected_sql)
        return box["a"] == box["e"]

    def diff():
        a, e = box.get("a", set()), box.get("e", set())
        return f"missing {sorted(e - a)[:5]}, unexpected {sorted(a - e)[:5]}"

    wait_until(same, timeout_s=timeout_s, what=what or "the sink table equal to the source query",
               last_seen=diff, interval_s=0.3,
               retry_on=(psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn))
    return box["a"]


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
    from .flinksql import table_env

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

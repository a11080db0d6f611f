"""The course database side of change data capture: SQL helpers, the shop schema, replication slots and
publications (Chapter 6)."""
from __future__ import annotations

import contextlib

from .. import connect
from ...cluster.postgres import connect as pg_connect
from ...errors import LabError
from .common import SLOT_PREFIX


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



"""Flink SQL over the change topics: changelog tables, the Connect-JSON envelope an upsert topic needs for the JDBC
sink, the revenue pipeline, and comparing the sink table with the source (Chapter 7)."""
from __future__ import annotations

import contextlib
import json

from ...cluster.postgres import connect as pg_connect
from ...wait import wait_until
from .database import _table, rows
from .source_sink import Source


# ------------------------------------------------------------------------------ Flink SQL over the change topics
def changelog_options(topic: str, bounded: bool = False) -> str:
    """The ``WITH`` clause of a Flink table that reads a Debezium topic as a changelog (inserts, updates with their
    before image, deletes), from its first record, without end (``bounded``: up to the end it has now)."""
    from ..flinksql import kafka_options

    return kafka_options(topic, bounded=bounded, fmt="debezium-json",
                         extra={"debezium-json.schema-include": "true"})


def upsert_options(topic: str) -> str:
    """The ``WITH`` clause of a Flink table written to ``topic`` as upserts: key and value are one text column each
    (raw bytes, e.g. a Connect JSON envelope built in SQL); a deleted key becomes a tombstone."""
    from ..flinksql import kafka_properties, with_clause

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



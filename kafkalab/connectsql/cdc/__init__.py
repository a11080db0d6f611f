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

The helpers live in one module per part of the path (:mod:`.database`, :mod:`.source_sink`, :mod:`.pipeline`,
:mod:`.latency`); the chapters call them as ``cdc.<name>``, and the names are gathered here for that.
"""
from ...cluster.plugins import DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES  # the two connector classes
from .common import JSON_WITH_SCHEMAS, OPS, SLOT_PREFIX, new_run_id
from .database import (CUSTOMERS, PAYMENTS, create_shop, drop_schema, drop_stale_slots, execute, query,
                       replica_identity_full, rows, slots)
from .source_sink import (Sink, Source, change_events, changes, create_sink, create_source, dead_letters,
                          drop_sink, drop_source, jdbc_connection, restart, sink_config, source_config,
                          wait_for_events, wait_running)
from .pipeline import (REVENUE_SELECT, REVENUE_SOURCE_SQL, changelog_options, connect_json, create_revenue_table,
                       envelope, revenue_statements, start_job, stop_job, struct_schema, upsert_options,
                       wait_until_same)
from .latency import Latency, commit_to_sink, latency_flink, latency_replica, revenue_latency

__all__ = [
    "CUSTOMERS", "DEBEZIUM_JDBC_SINK", "DEBEZIUM_POSTGRES", "JSON_WITH_SCHEMAS", "Latency", "OPS", "PAYMENTS", "REVENUE_SELECT", "REVENUE_SOURCE_SQL",
    "SLOT_PREFIX", "Sink", "Source", "change_events", "changelog_options", "changes", "commit_to_sink",
    "connect_json", "create_revenue_table", "create_shop", "create_sink", "create_source", "dead_letters",
    "drop_schema", "drop_sink", "drop_source", "drop_stale_slots", "envelope", "execute", "jdbc_connection",
    "latency_flink", "latency_replica", "new_run_id", "query", "replica_identity_full", "restart",
    "revenue_latency", "revenue_statements", "rows", "sink_config", "slots", "source_config", "start_job",
    "stop_job", "struct_schema", "upsert_options", "wait_for_events", "wait_running", "wait_until_same",
]

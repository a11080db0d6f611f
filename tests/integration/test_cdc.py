"""kafkalab.connectsql.cdc against the real stack: PostgreSQL, the Connect worker with Debezium's source and JDBC sink, Kafka and
Flink SQL. Each test captures its own schema with run-unique connector, slot, publication and topic names, and
removes them at teardown. PostgreSQL and Connect are started here if the course cluster does not run them yet."""
from __future__ import annotations

import uuid

import pytest

from kafkalab.connectsql import cdc, connect
from kafkalab.io import clients, topics
from kafkalab.cluster.plugins import DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES
from kafkalab.cluster.maven import pinned
from kafkalab.errors import LabError
from kafkalab.wait import wait_until


@pytest.fixture
def lab(postgres_and_connect):
    """A schema of this test's own plus a list where the test registers what to remove at teardown."""
    run = uuid.uuid4().hex[:8]
    made: dict = {"schema": f"t_{run}", "run": run, "sources": [], "sinks": [], "jobs": [], "topics": []}
    yield made
    for job in made["jobs"]:
        cdc.stop_job(job)
    for sink in made["sinks"]:
        cdc.drop_sink(sink)
    for source in made["sources"]:
        cdc.drop_source(source)
    for topic in made["topics"]:
        topics.delete_topic(topic)
    cdc.drop_schema(made["schema"])


def capture(lab, tables=None) -> cdc.Source:
    tables = tables or cdc.create_shop(lab["schema"])
    source = cdc.create_source(tables, run=lab["run"])
    lab["sources"].append(source)
    return source


def sink(lab, topics, table, **kw) -> cdc.Sink:
    s = cdc.create_sink(topics, table, run=lab["run"] + kw.pop("suffix", ""), **kw)
    lab["sinks"].append(s)
    return s


def test_both_debezium_plugins_load_on_the_pinned_worker(postgres_and_connect):
    assert connect.worker()["version"] == pinned("kafka.version")  # the worker is the broker's release
    assert {DEBEZIUM_POSTGRES, DEBEZIUM_JDBC_SINK} <= set(connect.plugins())


def test_insert_update_delete_become_change_events_with_images_and_a_tombstone(lab):
    source = capture(lab)
    schema = lab["schema"]
    topic = source.topic(f"{schema}.payments")
    cdc.execute(f"INSERT INTO {schema}.payments VALUES (100, 2, 8.40)")
    cdc.execute(f"UPDATE {schema}.payments SET amount = 9.60 WHERE id = 100")
    cdc.execute(f"DELETE FROM {schema}.payments WHERE id = 100")
    events = cdc.wait_for_events(topic, lambda ev: any(e["tombstone"] for e in ev), "the delete's tombstone")
    snapshot = [e for e in events if e["op"] == "r"]
    assert sorted(e["after"]["id"] for e in snapshot) == [p[0] for p in cdc.PAYMENTS]
    live = [e for e in events if e["op"] != "r"]
    assert [e["op"] for e in live] == ["c", "u", "d", None]
    create, update, delete, tombstone = live
    assert create["before"] is None and create["after"] == {"id": 100, "customer_id": 2, "amount": 8.4}
    # REPLICA IDENTITY FULL: the update and the delete carry the whole old row
    assert update["before"] == {"id": 100, "customer_id": 2, "amount": 8.4}
    assert update["after"] == {"id": 100, "customer_id": 2, "amount": 9.6}
    assert delete["before"] == {"id": 100, "customer_id": 2, "amount": 9.6} and delete["after"] is None
    assert tombstone["key"] == delete["key"] == {"id": 100}
    assert create["ts_ms"] <= update["ts_ms"] <= delete["ts_ms"]


def test_an_added_column_flows_through_to_the_events_and_the_sink(lab):
    source = capture(lab)
    schema = lab["schema"]
    topic = source.topic(f"{schema}.payments")
    replica = f"{schema}.payments_copy"
    sink(lab, [topic], replica, dlq=False)
    cdc.execute(f"ALTER TABLE {schema}.payments ADD COLUMN note TEXT")
    cdc.execute(f"INSERT INTO {schema}.payments VALUES (200, 3, 1.00, 'gift')")
    events = cdc.wait_for_events(topic, lambda ev: any(e["op"] == "c" for e in ev), "the insert after ALTER TABLE")
    create = next(e for e in events if e["op"] == "c")
    assert create["after"]["note"] == "gift" and "note" in create["fields"]
    assert "note" not in next(e for e in events if e["op"] == "r")["fields"]  # older events keep the old schema
    cdc.wait_until_same(f"SELECT id, customer_id, amount::numeric(10,2), note FROM {replica}",
                        f"SELECT id, customer_id, amount, note FROM {schema}.payments")


def test_the_jdbc_sink_upserts_by_key_and_deletes(lab):
    source = capture(lab)
    schema = lab["schema"]
    replica = f"{schema}.customers_copy"
    sink(lab, [source.topic(f"{schema}.customers")], replica, dlq=False)
    same = (f"SELECT id, name, country FROM {replica}", f"SELECT id, name, country FROM {schema}.customers")
    cdc.wait_until_same(*same, what="the snapshot copied")
    cdc.execute(f"UPDATE {schema}.customers SET country = 'DE' WHERE id = 1")
    cdc.execute(f"INSERT INTO {schema}.customers VALUES (9, 'Ines', 'PT')")
    cdc.execute(f"DELETE FROM {schema}.customers WHERE id = 2")
    copied = cdc.wait_until_same(*same, what="the update, insert and delete copied")
    assert (1, "Ada", "DE") in copied and (9, "Ines", "PT") in copied and not any(r[0] == 2 for r in copied)
    # upserts: one row per key, however many events the key had
    assert cdc.rows(f"SELECT count(*), count(DISTINCT id) FROM {replica}") == {(len(copied), len(copied))}


def input_topic(lab, what: str) -> str:
    """A fresh topic for records the test writes itself, and the test's schema (empty) for the sink's table."""
    topic = f"test-cdc-{what}-{lab['run']}"
    topics.recreate_topic(topic)
    lab["topics"].append(topic)
    cdc.execute(f"CREATE SCHEMA {lab['schema']}")
    return topic


def send_points(topic: str, *records: tuple[int, int | None]) -> None:
    """(id, points) records in Connect's JSON envelope; points None sends a value that is not JSON at all."""
    with clients.producer() as p:
        for i, pts in records:
            key = cdc.envelope({"id": i}, {"id": "int32"})
            value = b"this is not JSON" if pts is None else cdc.envelope({"id": i, "points": pts},
                                                                         {"id": "int32", "points": "int32"})
            p.send(topic, key=key, value=value)
        p.flush()


def test_a_poison_record_goes_to_the_dead_letter_topic_with_its_error(lab):
    topic = input_topic(lab, "dlq-in")
    table = f"{lab['schema']}.scores"
    s = sink(lab, [topic], table, dlq=True)
    send_points(topic, (1, 10), (2, None), (3, 30))  # the second is the poison record
    cdc.wait_until_same(f"SELECT id, points FROM {table}", "SELECT * FROM (VALUES (1, 10), (3, 30)) AS v",
                        what="the two good records written")
    (letter,) = wait_until(lambda: cdc.dead_letters(s.dlq), timeout_s=30, what="a dead letter")
    assert letter["value"] == "this is not JSON"
    assert letter["headers"]["topic"] == topic and letter["headers"]["offset"] == "1"
    assert letter["headers"]["exception.class.name"] == "org.apache.kafka.connect.errors.DataException"
    assert "serialization error" in letter["headers"]["exception.message"]
    assert connect.states(s.name) == ("RUNNING", ["RUNNING"])  # the sink kept going


def test_an_invalid_config_is_refused_in_one_line_before_anything_is_created(lab):
    source = cdc.Source(lab["run"], (f"{lab['schema']}.payments",))
    bad = cdc.source_config(source, extra={"plugin.name": "wal2jsn", "database.port": "not-a-port"})
    with pytest.raises(LabError) as err:
        connect.check_config(bad)
    line = str(err.value)
    assert "\n" not in line and line.startswith(f"invalid config for {DEBEZIUM_POSTGRES}: ")
    assert "plugin.name: " in line and "database.port: " in line
    assert source.name not in connect.connectors()


def test_a_failed_task_is_found_through_rest_then_fixed_and_restarted(lab):
    topic = input_topic(lab, "fail-in")
    table = f"{lab['schema']}.points"
    # schema.evolution=none: the sink may not create the table, and it does not exist
    name = f"cdc-sink-{lab['run']}"
    cfg = cdc.sink_config([topic], table, evolve=False)
    connect.create(name, cfg)
    lab["sinks"].append(cdc.Sink(name, (topic,), table))
    send_points(topic, (1, 5))
    connect.wait_for_failure(name, timeout_s=60)
    line = connect.failure(name)
    assert line.startswith(f"{name} task 0 FAILED: ") and "\n" not in line
    assert "restart" in line and "points" in line  # the cause names the missing table
    with pytest.raises(LabError, match="FAILED"):
        cdc.wait_running(name, timeout_s=5)
    cdc.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, points INT NOT NULL)")  # the fix
    cdc.restart(name)
    cdc.wait_until_same(f"SELECT id, points FROM {table}", "SELECT 1, 5", what="the record written after the fix")
    assert connect.failure(name) is None


def test_flink_revenue_per_country_lands_in_postgres_equal_to_the_source_group_by(lab):
    from kafkalab.connectsql import flinksql

    schema = lab["schema"]
    source = capture(lab)
    out_topic = f"cdc-{lab['run']}-revenue"
    lab["topics"].append(out_topic)
    target = f"{schema}.revenue_by_country"
    cdc.create_revenue_table(target)
    sink(lab, [out_topic], target, dlq=False, evolve=False, suffix="-revenue")
    t_env = flinksql.table_env()
    lab["jobs"].append(cdc.start_job(t_env, cdc.revenue_statements(source, schema, out_topic)))
    expected = cdc.REVENUE_SOURCE_SQL.format(schema=schema)
    actual = f"SELECT country, revenue, payments FROM {target}"
    first = cdc.wait_until_same(actual, expected, what="the snapshot's revenue per country")
    assert {r[0] for r in first} == {"UK", "SE", "FR"}
    for statement in [
        f"INSERT INTO {schema}.payments VALUES (10, 3, 5.55), (11, 2, 0.45)",  # inserts
        f"UPDATE {schema}.payments SET amount = 20.00 WHERE id = 1",           # an amount changes
        f"UPDATE {schema}.customers SET country = 'FR' WHERE id = 4",          # a customer moves: two groups change
        f"DELETE FROM {schema}.payments WHERE id = 2",                         # a delete
        f"DELETE FROM {schema}.payments WHERE customer_id IN (2, 5)",          # SE loses all: its row must go
        f"INSERT INTO {schema}.customers VALUES (6, 'Femi', 'NG')",
        f"INSERT INTO {schema}.payments VALUES (12, 6, 99.99)",                # a new country
    ]:
        cdc.execute(statement)
    final = cdc.wait_until_same(actual, expected, what="revenue per country after the changes")
    assert {r[0] for r in final} == {"UK", "FR", "NG"}  # SE was deleted through a tombstone

"""kafkalab.connectsql.flinksql against the live course cluster: bounded Kafka tables, windows with event-time watermarks,
a temporal join, INSERT INTO a topic, EXPLAIN, Flink's refusals in one line, the timeout on unbounded queries, and
the data behind the streaming SQL chapter's exercises.

One PyFlink JVM serves the whole module; each query runs on its own local mini-cluster (about 5 s each).
"""
from __future__ import annotations

import json
import math

import pytest

from kafkalab.connectsql import connect, flinksql
from kafkalab.exercises import streaming_sql
from kafkalab.datagen import EPOCH_MS, payments
from kafkalab.errors import LabError
from kafkalab.connectsql.flinksql import kafka_options
from kafkalab.io import clients, topics

MIN = 60_000


@pytest.fixture(scope="module")
def t_env():
    return flinksql.table_env(parallelism=1)


def fill(topic: str, rows: list[dict], key: str | None = None) -> None:
    topics.recreate_topic(topic, partitions=1)
    with clients.producer() as p:
        for r in rows:
            p.send(topic, key=None if key is None else r[key].encode(),
                   value=json.dumps(r, separators=(",", ":")).encode())
        p.flush()


def payments_table(t_env, name: str, topic: str, delay_s: int = 5) -> None:
    t_env.execute_sql(flinksql.events_table(name, topic, delay_s))


def test_connector_jar_is_the_pinned_shaded_jar():
    jar = flinksql.connector_jar()
    assert jar.exists() and jar.name == "flink-sql-connector-kafka-5.0.0-2.2.jar"


def test_kafka_options_are_bounded_by_default():
    text = kafka_options("t1", extra={"scan.watermark.emit.strategy": "on-event"})
    assert "'scan.bounded.mode' = 'latest-offset'" in text
    assert "'scan.startup.mode' = 'earliest-offset'" in text
    assert "'scan.watermark.emit.strategy' = 'on-event'" in text
    assert "latest-offset" not in kafka_options("t1", bounded=False)


def test_filter_projection_and_window_are_repeatable(t_env, topic):
    rows = payments(60)
    fill(topic, rows)
    payments_table(t_env, "p_filter", topic)
    big = flinksql.collect(t_env, "SELECT payment_id, amount FROM p_filter WHERE amount > 30")
    assert list(big["payment_id"]) == [r["payment_id"] for r in rows if r["amount"] > 30]
    query = """SELECT window_start, COUNT(*) AS n, SUM(amount) AS total
               FROM TABLE(TUMBLE(TABLE p_filter, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
               GROUP BY window_start, window_end"""
    first = flinksql.collect(t_env, query)
    expected: dict[int, list[float]] = {}
    for r in rows:
        expected.setdefault(r["ts_ms"] - r["ts_ms"] % MIN, []).append(r["amount"])
    assert list(first["n"]) == [len(v) for _, v in sorted(expected.items())]
    assert all(math.isclose(a, math.fsum(v)) for a, (_, v) in zip(first["total"], sorted(expected.items())))
    assert first.equals(flinksql.collect(t_env, query)), "a bounded query gives the same rows on every run"


@pytest.mark.parametrize("newest_offset_ms, late_counted", [(MIN + 5_000 - 2, True), (MIN + 5_000 - 1, False)])
def test_sql_watermark_is_max_minus_delay_and_windows_fire_at_end_minus_one(t_env, topic, newest_offset_ms,
                                                                             late_counted):
    """WATERMARK ts - 5 s: a record stamped end + 5 s - 1 ms closes the window [0, 1 min), one stamped 1 ms
    earlier does not; a record for that window arriving next is counted or dropped accordingly."""
    base = EPOCH_MS - EPOCH_MS % MIN
    stamps = [10_000, newest_offset_ms, 30_000]  # arrival order; the last one belongs to the first window
    rows = [dict(payments(1)[0], payment_id=f"X{i}", ts_ms=base + s) for i, s in enumerate(stamps)]
    fill(topic, rows)
    table = "p_wm_" + ("in" if late_counted else "out")
    payments_table(t_env, table, topic, delay_s=5)
    df = flinksql.collect(t_env, f"""SELECT window_start, COUNT(*) AS n
        FROM TABLE(TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end""")
    assert list(df["n"]) == [2 if late_counted else 1, 1]
    # the chapter's checker uses the same convention
    assert (streaming_sql.sql_watermark(base + newest_offset_ms, 5_000) >= base + MIN - 1) == (not late_counted)


def test_insert_into_a_topic_and_temporal_join(t_env, topic):
    rows = payments(40)
    fill(topic, rows)
    customers_topic = topic + "-customers"
    out_topic = topic + "-out"
    first = {"customer_id": rows[0]["customer_id"], "segment": "standard", "updated_ms": EPOCH_MS - 86_400_000}
    later = dict(first, segment="business", updated_ms=rows[20]["ts_ms"])
    try:
        fill(customers_topic, [first, later], key="customer_id")
        topics.recreate_topic(out_topic, partitions=1)
        payments_table(t_env, "p_join", topic)
        t_env.execute_sql(f"""
            CREATE TEMPORARY TABLE c_join (
              customer_id STRING, segment STRING, updated_ms BIGINT,
              updated AS TO_TIMESTAMP_LTZ(updated_ms, 3), WATERMARK FOR updated AS updated,
              PRIMARY KEY (customer_id) NOT ENFORCED
            ) WITH ('connector' = 'upsert-kafka', 'topic' = '{customers_topic}',
                    {flinksql.kafka_properties_sql()},
                    'key.format' = 'raw', 'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset',
                    'scan.watermark.emit.strategy' = 'on-event')""")
        joined = flinksql.collect(t_env, """
            SELECT p.payment_id, p.ts, c.segment FROM p_join AS p
            JOIN c_join FOR SYSTEM_TIME AS OF p.ts AS c ON p.customer_id = c.customer_id""")
        mine = [r for r in rows if r["customer_id"] == first["customer_id"]]
        assert sorted(joined["payment_id"]) == [r["payment_id"] for r in mine]
        by_id = dict(zip(joined["payment_id"], joined["segment"]))
        for r in mine:  # the version valid at the payment's event time, not the newest one
            assert by_id[r["payment_id"]] == ("business" if r["ts_ms"] >= later["updated_ms"] else "standard")
        assert str(joined["ts"].dtype).startswith("datetime64"), "TIMESTAMP_LTZ columns come back as timestamps"

        t_env.execute_sql(f"""CREATE TEMPORARY TABLE out_join (payment_id STRING, amount DOUBLE)
                              {kafka_options(out_topic, bounded=False)}""")
        flinksql.run(t_env, "INSERT INTO out_join SELECT payment_id, amount FROM p_join WHERE amount > 20")
        written = [json.loads(v) for v in connect.read_values(out_topic)]
        assert written == [{"payment_id": r["payment_id"], "amount": r["amount"]} for r in rows if r["amount"] > 20]
    finally:
        topics.delete_topic(customers_topic)
        topics.delete_topic(out_topic)


def test_explain_shows_the_shuffle_and_the_window_state(t_env, topic):
    fill(topic, payments(5))
    payments_table(t_env, "p_explain", topic)
    plan = flinksql.explain(t_env, """SELECT window_start, merchant, COUNT(*) FROM
        TABLE(TUMBLE(TABLE p_explain, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, merchant""")
    assert plan.startswith("== Optimized Physical Plan ==")
    assert "Exchange(distribution=[hash[merchant]])" in plan
    assert "GlobalWindowAggregate" in plan and "LocalWindowAggregate" in plan
    assert "watermarkEmitStrategy=[on-event]" in plan
    assert "== Optimized Execution Plan ==" not in plan


def test_an_unbounded_query_is_cancelled_with_a_fix(t_env, topic):
    fill(topic, payments(3))
    t_env.execute_sql(f"""CREATE TEMPORARY TABLE p_unbounded (payment_id STRING)
                          {kafka_options(topic, bounded=False)}""")
    with pytest.raises(LabError, match="scan.bounded.mode"):
        flinksql.collect(t_env, "SELECT payment_id FROM p_unbounded", timeout_s=10)


def test_a_refused_query_is_one_line_naming_the_fix(t_env, topic):
    fill(topic, payments(3))
    payments_table(t_env, "p_refused", topic)
    with pytest.raises(Exception) as err:
        flinksql.collect(t_env, "SELECT method FROM p_refused")
    line = flinksql.error_line(err.value)
    assert "\n" not in line and line.startswith('SQL parse failed. Encountered "method"')
    assert "write it in backquotes" in line and "Was expecting" not in line
    with pytest.raises(Exception) as err:
        flinksql.collect(t_env, "SELECT nope FROM p_refused")
    assert "Column 'nope' not found" in flinksql.error_line(err.value)


def test_exercise_data_agree_with_the_file():
    rows = streaming_sql.payments()
    assert len(rows) == 200
    assert sum(streaming_sql.window_counts_expected().values()) == 200
    assert streaming_sql.first_firing_record(streaming_sql.EXERCISE_WINDOW_END_MS, 5_000) == "P00044"


def test_every_job_runs_on_one_session_cluster_with_the_connector_on_the_class_path(t_env, topic):
    """One mini-cluster per process (a new one per job would load Flink's RPC system again each time, for good), and
    the Kafka connector in the JVM's lib/ folder rather than shipped with each job."""
    from kafkalab.io import http

    fill(topic, payments(3))
    payments_table(t_env, "p_session", topic)
    host, port = flinksql.session_cluster()
    assert host == "127.0.0.1" and flinksql.session_cluster() == (host, port)
    def finished() -> int:
        jobs = http.call("GET", f"http://{host}:{port}/jobs/overview", service="Flink")["jobs"]
        return sum(j["state"] == "FINISHED" for j in jobs)

    before = finished()
    for _ in range(2):
        assert len(flinksql.collect(t_env, "SELECT payment_id FROM p_session")) == 3
    assert finished() == before + 2
    assert t_env.get_config().get("pipeline.jars", "") == ""
    assert (flinksql.lib_dir(flinksql.connector_jar()) / flinksql.connector_jar().name).exists()

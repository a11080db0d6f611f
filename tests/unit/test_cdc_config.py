"""kafkalab.connectsql.cdc's connector configs, run-unique names, the Connect JSON envelope built in Flink SQL, and the latency
summary: the logic that needs no running service."""
from __future__ import annotations

import json

import pytest

from kafkalab.connectsql import cdc
from kafkalab.errors import LabError
from kafkalab.cluster.plugins import DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES


@pytest.fixture(autouse=True)
def ports(monkeypatch):
    monkeypatch.setenv("KAFKALAB_POSTGRES_PORT", "15433")


def test_run_unique_names_share_one_id():
    a, b = cdc.Source(cdc.new_run_id(), ("shop.payments",)), cdc.Source(cdc.new_run_id(), ("shop.payments",))
    assert a.name != b.name and a.slot != b.slot and a.prefix != b.prefix
    assert a.slot.startswith(cdc.SLOT_PREFIX) and a.publication == a.slot
    # replication slot names: lower-case letters, digits and underscores only
    assert all(c.islower() or c.isdigit() or c == "_" for c in a.slot)
    assert a.topic("shop.payments") == f"{a.prefix}.shop.payments"
    with pytest.raises(LabError, match="not captured"):
        a.topic("shop.customers")


def test_source_config_has_what_cdc_needs():
    cfg = cdc.source_config(cdc.Source("abc12345", ("s.customers", "s.payments")))
    assert cfg["connector.class"] == DEBEZIUM_POSTGRES
    assert cfg["plugin.name"] == "pgoutput" and cfg["slot.drop.on.stop"] == "true"
    assert cfg["slot.name"] == "kafkalab_abc12345" and cfg["publication.autocreate.mode"] == "filtered"
    assert cfg["decimal.handling.mode"] == "double" and cfg["table.include.list"] == "s.customers,s.payments"
    assert cfg["database.hostname"] == "127.0.0.1" and cfg["database.port"] == "15433"
    assert cfg["value.converter.schemas.enable"] == cfg["key.converter.schemas.enable"] == "true"
    assert cdc.source_config(cdc.Source("x", ("s.t",)), "string")["decimal.handling.mode"] == "string"
    assert cdc.source_config(cdc.Source("x", ("s.t",)), extra={"poll.interval.ms": 5})["poll.interval.ms"] == "5"
    with pytest.raises(LabError, match="decimals"):
        cdc.source_config(cdc.Source("x", ("s.t",)), "bytes")


def test_sink_config_upserts_deletes_and_parks_bad_records():
    plain = cdc.sink_config(["t1"], "s.copy")
    assert plain["connector.class"] == DEBEZIUM_JDBC_SINK
    assert (plain["insert.mode"], plain["primary.key.mode"], plain["delete.enabled"]) == ("upsert", "record_key", "true")
    assert plain["connection.url"] == "jdbc:postgresql://127.0.0.1:15433/kafkalab"
    assert not any(k.startswith("errors.") for k in plain)
    with_dlq = cdc.sink_config(["t1", "t2"], "s.copy", dlq="my-dlq", evolve=False)
    assert with_dlq["topics"] == "t1,t2" and with_dlq["schema.evolution"] == "none"
    assert with_dlq["errors.tolerance"] == "all" and with_dlq["errors.deadletterqueue.topic.name"] == "my-dlq"
    assert with_dlq["errors.deadletterqueue.context.headers.enable"] == "true"


def test_jdbc_connection_is_what_the_sink_config_uses():
    conn = cdc.jdbc_connection()
    assert conn == {"connection.url": "jdbc:postgresql://127.0.0.1:15433/kafkalab", "connection.username": "kafkalab",
                    "connection.password": "kafkalab"}
    assert conn.items() <= cdc.sink_config(["t"], "s.t").items()


def test_changelog_options_read_debezium_json_with_schemas_bounded_or_not():
    unbounded, bounded = cdc.changelog_options("topic-a"), cdc.changelog_options("topic-a", bounded=True)
    for text in (unbounded, bounded):
        assert "'format' = 'debezium-json'" in text and "'debezium-json.schema-include' = 'true'" in text
    assert "scan.bounded.mode" not in unbounded and "'scan.bounded.mode' = 'latest-offset'" in bounded


def evaluate(expression: str, payload: dict) -> dict:
    """What Flink computes from a connect_json() expression, with JSON_OBJECT(...) replaced by ``payload``."""
    head, rest = expression.split(" || JSON_OBJECT(", 1)
    _, tail = rest.rsplit(") || ", 1)
    assert head.startswith("'") and head.endswith("'") and tail == "'}'"
    return json.loads(head[1:-1].replace("''", "'") + json.dumps(payload) + "}")


def test_connect_json_builds_the_converters_envelope():
    expr = cdc.connect_json("revenue_value", [("country", "string", "country"),
                                              ("revenue", "double", "CAST(revenue AS DOUBLE)")])
    assert "JSON_OBJECT('country' VALUE country, 'revenue' VALUE CAST(revenue AS DOUBLE))" in expr
    env = evaluate(expr, {"country": "UK", "revenue": 1.5})
    assert env["payload"] == {"country": "UK", "revenue": 1.5}
    assert env["schema"] == {"type": "struct", "name": "revenue_value", "optional": False, "fields": [
        {"field": "country", "type": "string", "optional": False},
        {"field": "revenue", "type": "double", "optional": False}]}


def test_connect_json_escapes_quotes_for_sql():
    expr = cdc.connect_json("it's", [("a", "string", "a")])
    assert "it''s" in expr and evaluate(expr, {"a": "x"})["schema"]["name"] == "it's"


def test_revenue_statements_read_changelogs_and_write_upserts():
    source = cdc.Source("abc12345", ("shop.customers", "shop.payments"))
    ddl_c, ddl_p, ddl_out, insert = cdc.revenue_statements(source, "shop", "out-topic")
    assert "'topic' = 'cdc-abc12345.shop.customers'" in ddl_c and "'format' = 'debezium-json'" in ddl_c
    assert "'debezium-json.schema-include' = 'true'" in ddl_p and "PRIMARY KEY (id)" in ddl_p
    assert "'connector' = 'upsert-kafka'" in ddl_out and "'value.format' = 'raw'" in ddl_out
    assert insert.startswith("INSERT INTO revenue_out") and "GROUP BY c.country" in insert


def test_latency_summary():
    lat = cdc.Latency([float(x) for x in range(1, 101)])
    assert lat.median_ms == 50.5 and lat.p95_ms == 95.0
    assert lat.summary() == {"n": 100, "median_ms": 50.5, "p95_ms": 95.0, "max_ms": 100.0}


def test_envelope_is_what_jsonconverter_reads():
    record = json.loads(cdc.envelope({"id": 7, "name": "x"}, {"id": "int32", "name": "string"}, name="row"))
    assert record["payload"] == {"id": 7, "name": "x"}
    assert record["schema"]["name"] == "row" and record["schema"]["type"] == "struct"
    assert [(f["field"], f["type"]) for f in record["schema"]["fields"]] == [("id", "int32"), ("name", "string")]
    assert "name" not in json.loads(cdc.envelope({"id": 1}, {"id": "int32"}))["schema"]

"""kafkalab.connectsql.connect against the live Connect worker (started here, with PostgreSQL, if the embedded stack does not run
them yet): the worker and its plugins, create/pause/resume/stop/delete, a sink's offsets remembered and reset by
``fresh``, validation as one line per setting, and a FAILED task's trace. The connector is Debezium's JDBC sink
writing into a schema of the test's own; the Debezium source has its tests in test_cdc.py."""
from __future__ import annotations

import uuid

import pytest

from kafkalab.connectsql import cdc, connect
from kafkalab.cluster.maven import pinned
from kafkalab.cluster.plugins import DEBEZIUM_JDBC_SINK, DEBEZIUM_POSTGRES
from kafkalab.errors import LabError
from kafkalab.io import clients, topics


@pytest.fixture(scope="module")
def worker(postgres_and_connect):
    """The Connect worker's REST address (PostgreSQL and Connect come from conftest's postgres_and_connect)."""
    return connect.url()


@pytest.fixture
def run(worker, topic):
    """A unique connector name, a schema for its table and the test's topic holding three keyed records; all
    removed at teardown."""
    rid = uuid.uuid4().hex[:8]
    made = {"name": f"test-connect-{rid}", "schema": f"tc_{rid}", "topic": topic}
    topics.recreate_topic(topic, partitions=1)
    with clients.producer() as p:
        for i in (1, 2, 3):
            p.send(topic, key=cdc.envelope({"id": i}, {"id": "int32"}),
                   value=cdc.envelope({"id": i, "n": 10 * i}, {"id": "int32", "n": "int32"}))
        p.flush()
    cdc.execute(f"CREATE SCHEMA {made['schema']}")
    yield made
    connect.delete(made["name"])
    cdc.drop_schema(made["schema"])


def sink(run, **extra) -> dict:
    return cdc.sink_config([run["topic"]], f"{run['schema']}.copy", extra=extra)


def consumed(name: str) -> int:
    return sum(int(o["offset"]["kafka_offset"]) for o in connect.offsets(name))


def test_worker_runs_the_brokers_release_with_both_debezium_plugins(worker):
    assert connect.worker()["version"] == pinned("kafka.version")
    assert {DEBEZIUM_POSTGRES, DEBEZIUM_JDBC_SINK} <= set(connect.plugins())
    smts = connect.plugins("transformation")
    assert "org.apache.kafka.connect.transforms.InsertField$Value" in smts
    assert "org.apache.kafka.connect.transforms.ExtractField$Key" in smts


def test_unknown_connector_raises_connects_message(worker):
    with pytest.raises(LabError, match="404"):
        connect.status("test-connect-does-not-exist")
    with pytest.raises(LabError, match="initial_state"):
        connect.create("x", {}, initial_state="SLEEPING")
    assert connect.delete("test-connect-does-not-exist") is False


def test_validation_names_each_bad_setting_in_one_line(worker):
    assert connect.validate({"tasks.max": "1"}) == ["connector.class: missing; name the connector's Java class"]
    bad = cdc.sink_config(["t"], "s.t", extra={"errors.retry.timeout": "soon", "errors.tolerance": "some"})
    problems = connect.validate(bad)
    assert any(p.startswith("errors.retry.timeout: ") for p in problems)
    assert any(p.startswith("errors.tolerance: ") for p in problems)
    source = cdc.source_config(cdc.Source("x", ("s.t",)), extra={"database.port": "fifty"})
    (port,) = connect.validate(source)
    assert port.startswith("database.port: ") and port.count("An integer is expected") == 1  # said once
    with pytest.raises(LabError) as err:
        connect.check_config(bad)
    assert "\n" not in str(err.value) and str(err.value).startswith(f"invalid config for {DEBEZIUM_JDBC_SINK}: ")


def test_sink_offsets_are_remembered_by_name_and_reset_by_fresh(run):
    name, table = run["name"], f"{run['schema']}.copy"
    connect.fresh(name, sink(run))
    cdc.wait_until_same(f"SELECT id, n FROM {table}", "SELECT * FROM (VALUES (1, 10), (2, 20), (3, 30)) AS v")
    from kafkalab.wait import wait_until

    wait_until(lambda: consumed(name) == 3, timeout_s=30, what="the sink committing offset 3")
    # deleted and created again under the same name: the committed offsets are still there, nothing is re-read
    connect.delete(name)
    cdc.execute(f"DELETE FROM {table}")
    connect.create(name, sink(run), initial_state="STOPPED")
    connect.wait_for(name, "STOPPED")
    assert consumed(name) == 3
    # fresh(): stopped, offsets deleted, started: the topic is read again from the start
    assert connect.fresh(name, sink(run))["connector"]["state"] == "RUNNING"
    cdc.wait_until_same(f"SELECT count(*) FROM {table}", "SELECT 3")


def test_pause_resume_stop(run):
    name = run["name"]
    connect.fresh(name, sink(run))
    connect.pause(name)
    assert connect.wait_for(name, "PAUSED")["tasks"][0]["state"] == "PAUSED"
    connect.resume(name)
    connect.wait_for(name, "RUNNING")
    connect.stop(name)
    assert connect.wait_for(name, "STOPPED")["tasks"] == []
    assert connect.summary(name).endswith("STOPPED; no tasks")
    assert "offsets for this connector have been reset" in connect.reset_offsets(name)
    assert connect.offsets(name) == []


def test_a_converter_mismatch_fails_the_task_with_a_trace(run):
    name = run["name"]
    # the topic's records carry the {schema, payload} envelope; the worker's default converter expects none
    cfg = {k: v for k, v in sink(run).items() if ".converter" not in k}
    connect.create(name, cfg)
    failed = connect.wait_for_failure(name)
    assert failed["state"] == "FAILED"
    lines = connect.causes(failed["trace"])
    assert lines[0].startswith("org.apache.kafka.connect.errors.ConnectException")
    assert all(ln.startswith("Caused by:") for ln in lines[1:])
    assert "null schema" in connect.failure(name)
    state, tasks = connect.states(name)
    assert state == "RUNNING" and tasks == ["FAILED"], "the connector runs while its task has failed"
    with pytest.raises(LabError, match="FAILED"):
        connect.wait_for(name, "RUNNING", timeout_s=5)

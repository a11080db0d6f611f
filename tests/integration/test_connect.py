"""kafkalab.connect against the live Connect worker (started here if the embedded stack does not run it yet):
file source and sink, offsets remembered and reset, pause/resume/stop, converters with and without the schema
envelope, a single message transform, a FAILED task's trace, and the chapter 5 round-trip checker."""
from __future__ import annotations

import json
import uuid

import pytest

from kafkalab import connect
from kafkalab.checks import connect_sql
from kafkalab.cluster import services
from kafkalab.cluster.maven import pinned
from kafkalab.errors import LabError
from kafkalab.io import clients, topics
from kafkalab.io.topics import end_offsets

LINES = [json.dumps({"n": i, "word": w}, separators=(",", ":")) for i, w in enumerate("abcdefghij")]


@pytest.fixture(scope="module")
def worker():
    """The Connect worker; started (and stopped at the end) only if it was not running."""
    svc = services.service("connect")
    started = False
    if not svc.answers():
        if not services.settings().embedded:
            pytest.skip("Kafka Connect does not answer and the cluster is external")
        services.start("connect", quiet=True)
        started = True
    yield connect.url()
    if started:
        services.stop("connect", quiet=True)


@pytest.fixture
def name(worker):
    """A unique connector name per test; the connector is deleted at teardown."""
    created = []

    def make(suffix: str = "") -> str:
        n = f"test-connect-{uuid.uuid4().hex[:8]}{suffix}"
        created.append(n)
        return n

    yield make
    for n in created:
        try:
            connect.delete(n)
        except LabError:
            pass


@pytest.fixture
def source_file(tmp_path):
    path = tmp_path / "input.jsonl"
    path.write_text("\n".join(LINES) + "\n")
    return path


def source(path, topic, **extra) -> dict:
    return {"connector.class": connect.FILE_SOURCE, "tasks.max": "1", "file": str(path), "topic": topic,
            "value.converter": connect.STRING_CONVERTER, **extra}


def test_worker_and_plugins(worker):
    assert connect.worker()["version"] == pinned("connect.version")
    assert {connect.FILE_SINK, connect.FILE_SOURCE} <= set(connect.plugins())  # Debezium's are there too (test_cdc.py)
    smts = connect.plugins("transformation")
    assert "org.apache.kafka.connect.transforms.InsertField$Value" in smts
    assert "org.apache.kafka.connect.transforms.HoistField$Value" in smts


def test_unknown_connector_raises_connects_message(worker):
    with pytest.raises(LabError, match="404"):
        connect.status("test-connect-does-not-exist")
    with pytest.raises(LabError, match="initial_state"):
        connect.create("x", {}, initial_state="SLEEPING")
    assert connect.delete("test-connect-does-not-exist") is False


def test_source_offsets_are_remembered_and_reset(name, source_file, topic):
    topics.recreate_topic(topic, partitions=1)
    n = name()
    cfg = source(source_file, topic)
    connect.create(n, cfg)
    connect.wait_for(n, "RUNNING")
    assert n in connect.connectors()
    assert connect.wait_for_source_position(n, source_file) == source_file.stat().st_size
    assert connect.read_values(topic) == LINES

    # deleted and created again under the same name: the position is still there, nothing is copied
    connect.delete(n)
    assert n not in connect.connectors()
    connect.create(n, cfg, initial_state="STOPPED")
    connect.wait_for(n, "STOPPED")
    assert connect.file_positions(n, relative_to=source_file.parent) == {"input.jsonl": source_file.stat().st_size}
    connect.resume(n)
    connect.wait_for(n, "RUNNING")
    connect.wait_for_source_position(n, source_file)
    assert end_offsets(topic) == {0: len(LINES)}

    # fresh(): stopped, offsets deleted, started: the file is read again
    status = connect.fresh(n, cfg)
    assert status["connector"]["state"] == "RUNNING"
    connect.wait_for_source_position(n, source_file)
    assert end_offsets(topic) == {0: 2 * len(LINES)}


def test_pause_resume_stop(name, source_file, topic):
    topics.recreate_topic(topic, partitions=1)
    n = name()
    connect.fresh(n, source(source_file, topic))
    connect.pause(n)
    assert connect.wait_for(n, "PAUSED")["tasks"][0]["state"] == "PAUSED"
    connect.resume(n)
    connect.wait_for(n, "RUNNING")
    connect.stop(n)
    stopped = connect.wait_for(n, "STOPPED")
    assert stopped["tasks"] == []
    assert connect.summary(n).endswith("STOPPED; no tasks")
    assert connect.reset_offsets(n).startswith("The offsets for this connector have been reset")
    assert connect.offsets(n) == []


def test_json_converter_envelope_and_transforms(name, source_file, topic):
    plain_topic, envelope_topic = topic + "-plain", topic + "-envelope"
    shaped = {
        "transforms": "wrap,tag",
        "transforms.wrap.type": "org.apache.kafka.connect.transforms.HoistField$Value",
        "transforms.wrap.field": "line",
        "transforms.tag.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.tag.static.field": "source_file",
        "transforms.tag.static.value": "input.jsonl",
        "value.converter": connect.JSON_CONVERTER,
    }
    try:
        for t in (plain_topic, envelope_topic):
            topics.recreate_topic(t, partitions=1)
        plain, env = name("-plain"), name("-env")
        connect.fresh(plain, source(source_file, plain_topic, **shaped, **{"value.converter.schemas.enable": "false"}))
        connect.fresh(env, source(source_file, envelope_topic, **shaped, **{"value.converter.schemas.enable": "true"}))
        for n in (plain, env):
            connect.wait_for_source_position(n, source_file)
        first_plain = json.loads(connect.read_values(plain_topic, limit=1)[0])
        assert first_plain == {"line": LINES[0], "source_file": "input.jsonl"}
        first_env = json.loads(connect.read_values(envelope_topic, limit=1)[0])
        assert first_env["payload"] == first_plain
        assert first_env["schema"]["type"] == "struct"
        assert [(f["field"], f["optional"]) for f in first_env["schema"]["fields"]] == [("line", False),
                                                                                      ("source_file", True)]
    finally:
        topics.delete_topic(plain_topic)
        topics.delete_topic(envelope_topic)


def test_converter_mismatch_fails_the_task_with_a_trace(name, source_file, topic, tmp_path):
    topics.recreate_topic(topic, partitions=1)
    src = name("-src")
    connect.fresh(src, source(source_file, topic))
    connect.wait_for_source_position(src, source_file)
    sink = name("-strict")
    cfg = {"connector.class": connect.FILE_SINK, "tasks.max": "1", "topics": topic,
           "file": str(tmp_path / "strict.txt"), "value.converter": connect.JSON_CONVERTER,
           "value.converter.schemas.enable": "true"}
    connect.create(sink, cfg)
    failed = connect.wait_for_failure(sink)
    assert failed["state"] == "FAILED"
    lines = connect.causes(failed["trace"])
    assert lines[0].startswith("org.apache.kafka.connect.errors.ConnectException")
    assert any("schemas.enable" in ln for ln in lines[1:])
    assert all(ln.startswith("Caused by:") for ln in lines[1:])
    state, tasks = connect.states(sink)
    assert state == "RUNNING" and tasks == ["FAILED"], "the connector runs while its task has failed"
    with pytest.raises(LabError, match="FAILED"):
        connect.wait_for(sink, "RUNNING", timeout_s=5)


def test_paused_sink_writes_nothing_then_round_trip_passes_the_checker(name, topic, tmp_path, monkeypatch):
    topics.recreate_topic(topic, partitions=1)
    with clients.producer() as p:
        for line in LINES:
            p.send(topic, value=line.encode())
        p.flush()
    out = tmp_path / "out.jsonl"
    sink = name("-sink")
    cfg = {"connector.class": connect.FILE_SINK, "tasks.max": "1", "topics": topic, "file": str(out),
           "value.converter": connect.STRING_CONVERTER}
    assert connect.fresh(sink, cfg, state="PAUSED")["connector"]["state"] == "PAUSED"
    assert not out.exists()
    connect.resume(sink)
    connect.wait_for(sink, "RUNNING")
    assert connect.wait_for_lines(out, len(LINES)) == LINES

    # the chapter's checker, pointed at this test's input
    expected = tmp_path / "expected.jsonl"
    expected.write_text("\n".join(LINES) + "\n")
    monkeypatch.setattr(connect_sql, "PAYMENTS_FILE", expected)
    connect_sql.check_round_trip(sink, out)
    out.write_text("\n".join(LINES * 2) + "\n")
    with pytest.raises(AssertionError, match="twice the input"):
        connect_sql.check_round_trip(sink, out)
    out.write_text("{n=0, word=a}\n")
    with pytest.raises(AssertionError, match="Java maps"):
        connect_sql.check_round_trip(sink, out)

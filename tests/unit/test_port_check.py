"""`up`'s port check: a port held by a program we can name fails at once; one that nobody visible holds (the
sockets of a JVM killed a moment ago, still closing) is waited for briefly. The first test holds a real port; the
others simulate what /proc shows, which a test cannot arrange for real (a socket no visible process owns)."""
import socket

import pytest

from kafkalab.cluster import broker, procs
from kafkalab.config import settings
from kafkalab.errors import LabError


@pytest.fixture
def node(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    return broker.nodes(1, settings())[0]


def test_a_real_listener_on_the_port_fails_with_this_pid_and_the_fix(monkeypatch, tmp_path):
    import os

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
        monkeypatch.setenv("KAFKALAB_BROKER_PORT", str(port))
        with pytest.raises(LabError) as e:
            broker._check_ports(broker.nodes(1, settings())[0])
    msg = str(e.value)
    assert f"port {port} (node-1 broker)" in msg and f"pid {os.getpid()}" in msg and "KAFKA_BOOTSTRAP_SERVERS" in msg


def test_a_port_a_dying_jvm_still_holds_is_waited_for(node, monkeypatch):
    monkeypatch.setattr(broker.time, "sleep", lambda _s: None)
    answers = iter([False, False, True, True, True])  # broker port busy twice, then free; controller, agent free
    calls = []
    monkeypatch.setattr(procs, "port_free", lambda port: calls.append(port) or next(answers))
    monkeypatch.setattr(procs, "port_owner", lambda port: None)
    broker._check_ports(node)  # no error ...
    assert calls == [9092, 9092, 9092, 9093, 8778]  # ... because it asked again until the broker port was free


def test_a_port_another_program_holds_fails_at_once_with_the_fix(node, monkeypatch):
    calls = []
    monkeypatch.setattr(procs, "port_free", lambda port: calls.append(port) or False)
    monkeypatch.setattr(procs, "port_owner", lambda port: (4242, "python squatter.py"))
    with pytest.raises(LabError) as e:
        broker._check_ports(node)
    assert calls == [9092]  # asked once: an owner we can name is not waited for
    assert "port 9092" in str(e.value) and "pid 4242 (python squatter.py)" in str(e.value)
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(e.value)


def test_a_port_held_by_nobody_visible_is_reported_after_the_wait(node, monkeypatch):
    monkeypatch.setattr(broker.time, "sleep", lambda _s: None)
    clock = iter(range(0, 1000))
    monkeypatch.setattr(broker.time, "monotonic", lambda: next(clock))
    calls = []
    monkeypatch.setattr(procs, "port_free", lambda port: calls.append(port) or False)
    monkeypatch.setattr(procs, "port_owner", lambda port: None)
    with pytest.raises(LabError, match="port 9092 .* is already in use. Stop that program"):
        broker._check_ports(node)
    assert len(calls) > 2  # it kept looking before it gave up


def test_a_taken_metrics_agent_port_is_one_line_with_the_fix(node, monkeypatch):
    monkeypatch.setattr(procs, "port_free", lambda port: port != 8778)
    monkeypatch.setattr(procs, "port_owner", lambda port: (4242, "python squatter.py") if port == 8778 else None)
    with pytest.raises(LabError) as e:
        broker._check_ports(node)
    msg = str(e.value)
    assert "\n" not in msg and "port 8778 (node-1 metrics agent, Jolokia)" in msg
    assert "pid 4242 (python squatter.py)" in msg and "KAFKALAB_JOLOKIA_PORT=<a free port>" in msg

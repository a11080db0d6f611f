"""`up`'s port check: a port held by a program we can name fails at once; one that nobody visible holds (the
sockets of a JVM killed a moment ago, still closing) is waited for briefly. Ports and owners are simulated."""
import pytest

from kafkalab.cluster import broker, procs
from kafkalab.config import settings
from kafkalab.errors import LabError


@pytest.fixture
def node(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    monkeypatch.setattr(broker.time, "sleep", lambda _s: None)
    return broker.nodes(1, settings())[0]


def test_a_port_a_dying_jvm_still_holds_is_waited_for(node, monkeypatch):
    answers = iter([False, False, True, True])  # broker port busy twice, then free; controller port free
    monkeypatch.setattr(procs, "port_free", lambda port: next(answers))
    monkeypatch.setattr(procs, "port_owner", lambda port: None)
    broker._check_ports(node)  # no error


def test_a_port_another_program_holds_fails_at_once_with_the_fix(node, monkeypatch):
    calls = []
    monkeypatch.setattr(procs, "port_free", lambda port: calls.append(port) or False)
    monkeypatch.setattr(procs, "port_owner", lambda port: (4242, "python squatter.py"))
    with pytest.raises(LabError) as e:
        broker._check_ports(node)
    assert calls == [9092]
    assert "port 9092" in str(e.value) and "pid 4242 (python squatter.py)" in str(e.value)
    assert "KAFKA_BOOTSTRAP_SERVERS" in str(e.value)


def test_a_port_held_by_nobody_visible_is_reported_after_the_wait(node, monkeypatch):
    clock = iter(range(0, 100))
    monkeypatch.setattr(broker.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(procs, "port_free", lambda port: False)
    monkeypatch.setattr(procs, "port_owner", lambda port: None)
    with pytest.raises(LabError, match="port 9092 .* is already in use. Stop that program"):
        broker._check_ports(node)

import pytest

from kafkalab import config
from kafkalab.errors import LabError


def test_defaults_are_the_documented_ports(monkeypatch):
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKALAB_BROKER_PORT", "KAFKALAB_CONTROLLER_PORT"):
        monkeypatch.delenv(var, raising=False)
    s = config.settings()
    assert (s.broker_port, s.controller_port) == (9092, 9093)
    assert s.bootstrap == "127.0.0.1:9092"
    assert s.embedded


def test_external_bootstrap_wins(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", " broker.example:29092 ")
    assert config.bootstrap_servers() == "broker.example:29092"
    assert not config.settings().embedded


@pytest.mark.parametrize("raw", ["abc", "0", "70000", "-5"])
def test_bad_port_is_one_clear_line(monkeypatch, raw):
    monkeypatch.setenv("KAFKALAB_BROKER_PORT", raw)
    with pytest.raises(LabError) as e:
        config.settings()
    msg = str(e.value)
    assert "KAFKALAB_BROKER_PORT" in msg and raw in msg and "\n" not in msg


def test_ports_table():
    assert config.PORTS == {"broker": 9092, "controller": 9093, "registry": 8081, "connect": 8083, "postgres": 5433}

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
    assert config.PORTS == {"broker": 9092, "controller": 9093, "registry": 8081, "connect": 8083}
    s = config.settings()
    assert s.ports == {"broker": 9092, "controller": 9093, "registry": 8081, "registry_management": 9081,
                       "connect": 8083, "postgres": 5433, "jolokia": 8778, "connect_jolokia": 8781, "secure": 9192,
                       "secure_controller": 9195}


def test_a_port_base_moves_every_port_into_its_block(monkeypatch):
    monkeypatch.setenv("KAFKALAB_PORT_BASE", "20000")
    s = config.settings()
    assert (s.broker_port, s.controller_port, s.registry_port, s.connect_port) == (20000, 20001, 20006, 20008)
    assert s.ports["registry_management"] == 20007 and s.ports["postgres"] == 20009
    assert s.bootstrap == "127.0.0.1:20000"
    # a three-broker cluster and every reserved port stay inside the block
    from kafkalab.cluster.broker import nodes

    used = [p for n in nodes(3, s) for p in (n.broker_port, n.controller_port)]
    used += [s.ports[k] for k in s.ports if k not in ("broker", "controller")]
    used += [s.ports["jolokia"] + k for k in (1, 2)] + [s.ports["secure"] + k for k in (1, 2)]
    assert len(set(used)) == len(used) and all(20000 <= p < 20000 + config.PORT_BLOCK for p in used)


def test_blocks_of_neighbouring_bases_do_not_overlap(monkeypatch):
    blocks = []
    for base in (20000, 20000 + config.PORT_BLOCK):
        monkeypatch.setenv("KAFKALAB_PORT_BASE", str(base))
        blocks.append(set(config.settings().ports.values()))
    assert not blocks[0] & blocks[1]


def test_an_explicit_port_wins_over_the_base(monkeypatch):
    monkeypatch.setenv("KAFKALAB_PORT_BASE", "20000")
    monkeypatch.setenv("KAFKALAB_CONNECT_PORT", "21083")
    s = config.settings()
    assert s.connect_port == 21083 and s.broker_port == 20000


def test_a_moved_registry_takes_its_management_port_along(monkeypatch):
    """Without a base, the management port follows the registry port (+1000), as before the scheme existed."""
    monkeypatch.setenv("KAFKALAB_REGISTRY_PORT", "31081")
    assert config.settings().ports["registry_management"] == 32081


@pytest.mark.parametrize("raw", ["abc", "80", "65530"])
def test_bad_port_base_is_one_clear_line(monkeypatch, raw):
    monkeypatch.setenv("KAFKALAB_PORT_BASE", raw)
    with pytest.raises(LabError) as e:
        config.settings()
    assert "KAFKALAB_PORT_BASE" in str(e.value) and raw in str(e.value) and "\n" not in str(e.value)

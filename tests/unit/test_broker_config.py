"""The broker properties we render, checked key by key (pure: nothing is started)."""
from kafkalab.cluster import broker, nodes
from kafkalab.config import settings


props = broker.parse_properties


def test_single_node_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    nodes = broker.nodes(1, settings())
    p = props(broker.render_properties(nodes[0], nodes))
    assert p["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert p["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093"
    assert "controller.quorum.voters" not in p  # an error with --standalone since Kafka 4.1
    for key in ("offsets.topic.replication.factor", "transaction.state.log.replication.factor",
                "transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
                "share.coordinator.state.topic.min.isr"):
        assert p[key] == "1", key
    assert p["group.initial.rebalance.delay.ms"] == "0"
    assert p["log.dirs"] == str(tmp_path / "data" / "kraft-1" / "node-1")


def test_every_listener_is_loopback(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    nodes = broker.nodes(3, settings())
    for node in nodes:
        p = props(broker.render_properties(node, nodes))
        for key in ("listeners", "advertised.listeners"):
            for listener in p[key].split(","):
                assert listener.split("//")[1].startswith("127.0.0.1:"), (key, listener)


def test_three_nodes_use_three_voters_and_rf3(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    nodes = broker.nodes(3, settings())
    assert [(n.broker_port, n.controller_port) for n in nodes] == [(9092, 9093), (9094, 9095), (9096, 9097)]
    assert nodes[1].log_dir == tmp_path / "data" / "kraft-3" / "node-2"  # apart from the 1-node cluster's data
    p = props(broker.render_properties(nodes[2], nodes))
    assert p["node.id"] == "3"
    assert p["controller.quorum.bootstrap.servers"] == "127.0.0.1:9093,127.0.0.1:9095,127.0.0.1:9097"
    assert p["offsets.topic.replication.factor"] == "3" and p["transaction.state.log.min.isr"] == "2"


def test_every_setting_is_commented():
    text = (broker.JVM_DIR / "server.properties.template").read_text().splitlines()
    for i, line in enumerate(text):
        if line.strip() and not line.startswith("#"):
            assert i > 0 and (text[i - 1].startswith("#") or "=" in text[i - 1]), f"uncommented block at {line}"


def test_cluster_ids_look_like_kafka_uuids():
    ids = {nodes.new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)


def test_extra_nodes_follow_node_one_ports(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKALAB_BROKER_PORT", "19292")
    monkeypatch.setenv("KAFKALAB_CONTROLLER_PORT", "19293")
    assert [(n.broker_port, n.controller_port) for n in broker.nodes(3, settings())] == [
        (19292, 19293), (19294, 19295), (19296, 19297)]


DESCRIBE_41 = """\
Feature: eligible.leader.replicas.version	SupportedMinVersion: 0	SupportedMaxVersion: 1	FinalizedVersionLevel: 1	Epoch: 19
Feature: metadata.version	SupportedMinVersion: 3.3-IV3	SupportedMaxVersion: 4.4-IV2	FinalizedVersionLevel: 4.1-IV1	Epoch: 19
Feature: share.version	SupportedMinVersion: 0	SupportedMaxVersion: 2	FinalizedVersionLevel: 0	Epoch: 19
Feature: streams.version	SupportedMinVersion: 0	SupportedMaxVersion: 1	FinalizedVersionLevel: 0	Epoch: 19
"""


def test_features_output_is_read_per_feature():
    features = broker.parse_features(DESCRIBE_41)
    assert features == {"eligible.leader.replicas.version": "1", "metadata.version": "4.1-IV1",
                        "share.version": "0", "streams.version": "0"}
    assert broker.parse_features("Command line error: nothing") == {}


def test_release_is_major_dot_minor():
    assert broker.release("4.4.0") == "4.4"
    assert broker.release("4.10.2") == "4.10"

"""docker-compose.yml cannot run here (no Docker engine): check that it agrees with the embedded cluster."""
import yaml

from kafkalab.cluster import broker
from kafkalab.config import PORTS, REPO, RESERVED_PORTS, settings

props = broker.parse_properties
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())


def env_props(service: str) -> dict:
    env = COMPOSE["services"][service]["environment"]
    return {k[len("KAFKA_"):].lower().replace("_", "."): str(v) for k, v in env.items() if k.startswith("KAFKA_")}


def test_published_ports_bind_loopback_and_match_the_ports_table():
    for name, svc in COMPOSE["services"].items():
        for mapping in svc.get("ports", []):
            host_ip, host_port, container_port = mapping.split(":")
            assert host_ip == "127.0.0.1", (name, mapping)
            assert int(host_port) in {**PORTS, **RESERVED_PORTS}.values(), (name, mapping)
    assert "127.0.0.1:9092:9092" in COMPOSE["services"]["broker"]["ports"]


def test_broker_settings_agree_with_the_embedded_cluster(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    nodes = broker.nodes(1, settings())
    embedded = props(broker.render_properties(nodes[0], nodes))
    docker = env_props("broker")
    # what clients are told: the same address in both paths
    embedded_plain = [x for x in embedded["advertised.listeners"].split(",") if x.startswith("PLAINTEXT://")]
    docker_plain = [x for x in docker["advertised.listeners"].split(",") if x.startswith("PLAINTEXT://")]
    assert docker_plain == embedded_plain
    same = ["node.id", "process.roles", "offsets.topic.replication.factor", "transaction.state.log.replication.factor",
            "transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
            "share.coordinator.state.topic.min.isr", "group.initial.rebalance.delay.ms", "default.replication.factor",
            "controller.listener.names", "inter.broker.listener.name", "group.consumer.min.session.timeout.ms",
            "group.consumer.min.heartbeat.interval.ms", "group.share.min.heartbeat.interval.ms",
            "group.share.min.record.lock.duration.ms"]
    for key in same:
        assert docker[key] == embedded[key], key


def test_quorum_settings_do_not_mix_static_and_dynamic():
    docker = env_props("broker")
    assert not ("controller.quorum.voters" in docker and "controller.quorum.bootstrap.servers" in docker)


def test_image_is_the_pinned_kafka_version():
    from kafkalab.doctor import pinned_kafka_version

    assert COMPOSE["services"]["broker"]["image"] == f"apache/kafka:{pinned_kafka_version()}"


def test_connect_image_is_the_embedded_workers_version():
    from kafkalab.cluster.maven import pinned

    # the embedded worker runs the broker's release (the connect profile of the pom pins no version of its own)
    assert COMPOSE["services"]["connect"]["image"] == f"apache/kafka:{pinned('kafka.version')}"


def test_companion_services_match_the_embedded_ones():
    import re

    from kafkalab.cluster import services
    from kafkalab.config import JVM_DIR

    pom = (JVM_DIR / "pom.xml").read_text()
    apicurio = re.search(r"<apicurio.version>([^<]+)<", pom).group(1)
    registry = COMPOSE["services"]["registry"]
    assert registry["image"] == f"apicurio/apicurio-registry:{apicurio}"
    assert registry["ports"] == [f"127.0.0.1:{PORTS['registry']}:8080"]
    assert registry["environment"]["APICURIO_RULES_GLOBAL_COMPATIBILITY"] == services.REGISTRY_COMPATIBILITY

    connect = COMPOSE["services"]["connect"]
    assert connect["ports"] == [f"127.0.0.1:{PORTS['connect']}:8083"]
    worker = props(COMPOSE["configs"]["connect-worker"]["content"])
    embedded = props((JVM_DIR / "connect-distributed.properties.template").read_text())
    for key in ("group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic",
                "key.converter", "value.converter", "value.converter.schemas.enable"):
        assert worker[key] == embedded[key], key
    # containers reach the broker through its DOCKER listener, never through 127.0.0.1 (their own loopback)
    assert f"DOCKER://{worker['bootstrap.servers']}" in env_props("broker")["advertised.listeners"].split(",")

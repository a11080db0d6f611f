"""The secured cluster's configuration, key by key (pure: no certificate is made, nothing starts)."""
from __future__ import annotations

import json
import stat

import pytest

from kafkalab.cluster import broker, secure
from kafkalab.config import settings
from kafkalab.errors import LabError
from kafkalab.io.connection import parse_jaas


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    monkeypatch.delenv("KAFKALAB_PORT_BASE", raising=False)
    for var in ("KAFKALAB_SECURE_PORT", "KAFKALAB_SECURE_CONTROLLER_PORT", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def rendered(home) -> dict:
    node = broker.secure_nodes(settings())[0]
    return broker.parse_properties(broker.render_properties(node, [node]))


def test_the_secured_node_has_its_own_name_ports_and_data(home):
    node = broker.secure_nodes(settings())[0]
    assert (node.name, node.broker_port, node.controller_port) == ("secure-1", 9192, 9195)
    assert node.log_dir == home / "data" / "kraft-secure" / "secure-1"
    plain = broker.nodes(1, settings())[0]
    assert {node.broker_port, node.controller_port}.isdisjoint({plain.broker_port, plain.controller_port})
    assert node.pid_file != plain.pid_file and node.markers != plain.markers


def test_clients_see_only_a_sasl_ssl_listener(home):
    p = rendered(home)
    assert p["listeners"] == "SASL_SSL://127.0.0.1:9192,CONTROLLER://127.0.0.1:9195"
    assert p["advertised.listeners"] == p["listeners"]
    assert p["listener.security.protocol.map"] == "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
    assert p["inter.broker.listener.name"] == "SASL_SSL" and p["controller.listener.names"] == "CONTROLLER"
    assert p["controller.quorum.bootstrap.servers"] == "127.0.0.1:9195"
    assert p["log.dirs"] == str(home / "data" / "kraft-secure" / "secure-1")


def test_scram_tls_and_the_authorizer(home):
    p = rendered(home)
    users = json.loads((home / "data" / "kraft-secure" / "secrets.json").read_text())["users"]
    assert p["sasl.enabled.mechanisms"] == "SCRAM-SHA-512" == p["sasl.mechanism.inter.broker.protocol"]
    module, options = parse_jaas(p["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"])
    assert module == secure.LOGIN_MODULE and options == {"username": "admin", "password": users["admin"]}
    assert p["ssl.keystore.type"] == "PKCS12" and p["ssl.keystore.location"] == str(secure.keystore())
    assert p["ssl.truststore.type"] == "PEM" and p["ssl.truststore.location"] == str(secure.ca_pem())
    assert p["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    # the admin, and the broker itself on the PLAINTEXT controller listener (without it the node never registers)
    assert p["super.users"] == "User:admin;User:ANONYMOUS"
    assert "allow.everyone.if.no.acl.found" not in p  # Kafka's default, false: no ACL means no access


def test_no_key_is_written_twice_and_the_plain_keys_stay(home):
    node = broker.secure_nodes(settings())[0]
    text = broker.render_properties(node, [node])
    keys = [ln.split("=", 1)[0] for ln in text.splitlines() if "=" in ln and not ln.startswith("#")]
    assert len(keys) == len(set(keys))
    p = broker.parse_properties(text)
    assert p["offsets.topic.replication.factor"] == "1" and p["group.initial.rebalance.delay.ms"] == "0"
    assert "PLAINTEXT://" not in text.replace("CONTROLLER:PLAINTEXT", "")


def test_every_security_setting_is_commented():
    text = (broker.JVM_DIR / "server-secure.properties.template").read_text().splitlines()
    for i, line in enumerate(text):
        if line.strip() and not line.startswith("#"):
            assert i > 0 and (text[i - 1].startswith("#") or "=" in text[i - 1]), f"uncommented block at {line}"


def test_ports_follow_the_base(home, monkeypatch):
    monkeypatch.setenv("KAFKALAB_PORT_BASE", "20000")
    node = broker.secure_nodes(settings())[0]
    assert (node.broker_port, node.controller_port) == (20014, 20017)
    assert secure.bootstrap() == "127.0.0.1:20014"


def test_passwords_are_made_once_and_private(home):
    first = secure.load_secrets()
    assert set(first["users"]) == set(secure.USERS) and first["keystore"]
    assert all(p.isalnum() and len(p) == 20 for p in first["users"].values())
    assert secure.load_secrets() == first
    path = home / "data" / "kraft-secure" / "secrets.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_lost_passwords_of_a_formatted_cluster_say_how_to_start_over(home):
    secure.load_secrets()
    (home / "data" / "kraft-secure" / "cluster.json").write_text("{}")
    (home / "data" / "kraft-secure" / "secrets.json").unlink()
    with pytest.raises(LabError, match="delete .*kraft-secure"):
        secure.load_secrets()


def test_users_are_added_at_format_time(home):
    users = secure.load_secrets()["users"]
    args = secure.scram_args()
    assert args[0::2] == ["--add-scram"] * 3
    assert args[1::2] == [f"SCRAM-SHA-512=[name={u},password={users[u]}]" for u in secure.USERS]


def test_a_client_config_per_user(home):
    (home / "data" / "kraft-secure" / "tls").mkdir(parents=True)
    secure.ca_pem().write_text("PEM")
    written = secure.write_client_configs()
    assert [p.name for p in written] == ["admin.properties", "alice.properties", "bob.properties"]
    for user, path in zip(secure.USERS, written):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        conn = secure.user_connection(user)
        assert conn.bootstrap == "127.0.0.1:9192" and conn.username == user
        assert conn.kafka_python()["ssl_cafile"] == str(secure.ca_pem())
    with pytest.raises(LabError, match="alice, bob"):
        secure.client_config("carol")


def test_user_connection_before_the_first_start_says_how(home):
    with pytest.raises(LabError, match="up --secure"):
        secure.user_connection("alice")


def test_what_the_chapter_shows_masks_every_password(home):
    from kafkalab import security

    node = broker.secure_nodes(settings())[0]
    node.props_file.parent.mkdir(parents=True, exist_ok=True)
    node.props_file.write_text(broker.render_properties(node, [node]))
    (home / "data" / "kraft-secure" / "tls").mkdir(parents=True, exist_ok=True)
    secure.ca_pem().write_text("PEM")
    secure.write_client_configs()
    secrets = secure.load_secrets()
    shown = security.broker_settings() + security.client_config_text("alice") + security.translations(
        secure.user_connection("alice"))
    for password in [secrets["keystore"], *secrets["users"].values()]:
        assert password not in shown
    assert str(home) not in shown and "$KAFKALAB_HOME/data/kraft-secure/tls/ca.pem" in shown
    assert 'password="********"' in shown

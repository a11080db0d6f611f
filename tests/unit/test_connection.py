"""kafkalab.io.connection: reading KAFKA_BOOTSTRAP_SERVERS + KAFKA_CLIENT_CONFIG, and the translation for each client
family (pure: nothing connects)."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kafkalab.errors import LabError
from kafkalab.io import connection as cn
from kafkalab.io.connection import Connection

SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
BOOT = "broker.example:9096"


def write_config(folder: Path, body: str, name: str = "client.properties") -> Path:
    (folder / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    path = folder / name
    path.write_text(body)
    return path


SECURED = f"""# a managed cluster's config, as Kafka's tools take it
bootstrap.servers=ignored.example:9092
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config={SCRAM} required \\
    username="alice" password="s3cr\\"et";
ssl.truststore.type=PEM
ssl.truststore.location=ca.pem
acks=all
"""


@pytest.fixture
def secured(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path / "home"))
    return Connection.from_file(BOOT, write_config(tmp_path, SECURED))


# ----------------------------------------------------------------------------------------------- parsing
def test_properties_text_forms():
    text = "# comment\n! also a comment\na=1\nb: 2\nc 3\nd = spaced value \ne=x\\\n  y\n\nempty=\n"
    assert cn.parse_properties(text) == {"a": "1", "b": "2", "c": "3", "d": "spaced value", "e": "xy", "empty": ""}


@pytest.mark.parametrize("line, module, options", [
    (f'{SCRAM} required username="alice" password="pw";', SCRAM, {"username": "alice", "password": "pw"}),
    (f"{PLAIN} required username='key' password='se cret';", PLAIN, {"username": "key", "password": "se cret"}),
    (f'{SCRAM} required username="a" password="q\\"uote";', SCRAM, {"username": "a", "password": 'q"uote'}),
    (f"{SCRAM} required username=bare password=word", SCRAM, {"username": "bare", "password": "word"}),
])
def test_jaas_lines(line, module, options):
    assert cn.parse_jaas(line) == (module, options)


def test_jaas_line_round_trips_quotes():
    line = cn.jaas_line(SCRAM, "alice", 'p"w\\x')
    assert cn.parse_jaas(line) == (SCRAM, {"username": "alice", "password": 'p"w\\x'})


def test_a_bad_jaas_line_is_one_line_without_the_password():
    with pytest.raises(LabError) as e:
        cn.parse_jaas('username="alice" password="topsecret"')
    assert "topsecret" not in str(e.value) and "\n" not in str(e.value)


def test_from_file_resolves_relative_paths_and_drops_its_bootstrap(secured, tmp_path):
    assert secured.bootstrap == BOOT and "bootstrap.servers" not in secured.properties
    assert secured.properties["ssl.truststore.location"] == str(tmp_path / "ca.pem")
    assert (secured.protocol, secured.mechanism, secured.username, secured.password) == (
        "SASL_SSL", "SCRAM-SHA-512", "alice", 's3cr"et')
    assert secured.describe() == f"{BOOT} (SASL_SSL SCRAM-SHA-512, user alice)" and "s3cr" not in secured.describe()


# ----------------------------------------------------------------------------------------------- translations
def test_plaintext_translates_to_nothing():
    c = Connection("127.0.0.1:9092")
    assert c.kafka_python() == {} and c.librdkafka() == {"bootstrap.servers": "127.0.0.1:9092"}
    assert c.quix() == "127.0.0.1:9092" and c.command_config() is None and c.java_by_reference() == {}
    assert c.flink() == {"properties.bootstrap.servers": "127.0.0.1:9092"}
    assert c.connect_worker() == {"bootstrap.servers": "127.0.0.1:9092"}


def test_kafka_python_gets_plain_username_password_for_scram_too(secured, tmp_path):
    assert secured.kafka_python() == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "alice",
        "sasl_plain_password": 's3cr"et', "ssl_check_hostname": True, "ssl_cafile": str(tmp_path / "ca.pem")}


def test_librdkafka_names(secured, tmp_path):
    assert secured.librdkafka() == {
        "bootstrap.servers": BOOT, "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "alice", "sasl.password": 's3cr"et', "ssl.endpoint.identification.algorithm": "https",
        "ssl.ca.location": str(tmp_path / "ca.pem")}


def test_confluent_kafka_accepts_the_settings(secured, tmp_path):
    import shutil

    import certifi  # a real PEM bundle (requests brings it): librdkafka parses the CA file at creation
    from confluent_kafka import Producer

    shutil.copy(certifi.where(), tmp_path / "ca.pem")
    Producer({**secured.librdkafka(), "socket.timeout.ms": 1000}).flush(0)  # librdkafka validates every name


def test_quix_gets_a_connection_config(secured, tmp_path):
    from quixstreams.kafka.configuration import ConnectionConfig

    cfg = secured.quix()
    assert isinstance(cfg, ConnectionConfig)
    d = cfg.as_librdkafka_dict()
    assert d["sasl.username"] == "alice" and d["sasl.password"] == 's3cr"et'
    assert d["ssl.ca.location"] == str(tmp_path / "ca.pem") and d["security.protocol"] == "sasl_ssl"


def test_flink_uses_the_shaded_login_module(secured):
    f = secured.flink()
    assert f["properties.bootstrap.servers"] == BOOT and f["properties.security.protocol"] == "SASL_SSL"
    assert f["properties.sasl.jaas.config"].startswith(
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule required ")
    assert f["properties.acks"] == "all"  # Java-side keys pass through


def test_flink_with_clause_quotes_values():
    from kafkalab.connectsql.flinksql import with_clause

    assert with_clause({"a": "it's"}) == "WITH (\n  'a' = 'it''s'\n)"


def test_connect_worker_gets_prefixed_copies(secured):
    w = secured.connect_worker()
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert w[prefix + "security.protocol"] == "SASL_SSL"
        assert w[prefix + "sasl.jaas.config"] == secured.properties["sasl.jaas.config"]
    assert w["bootstrap.servers"] == BOOT and "producer.bootstrap.servers" not in w


def test_command_config_is_a_private_copy_when_paths_were_relative(secured, tmp_path):
    path = secured.command_config()
    assert path != secured.source and path.parent == tmp_path / "home" / "run" / "client-configs"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    copy = cn.parse_properties(path.read_text())
    assert copy["ssl.truststore.location"] == str(tmp_path / "ca.pem") and copy["sasl.mechanism"] == "SCRAM-SHA-512"
    assert secured.command_config() == path  # same content, same file


def test_command_config_is_the_learners_file_when_paths_are_absolute(tmp_path):
    body = SECURED.replace("ssl.truststore.location=ca.pem", f"ssl.truststore.location={tmp_path / 'ca.pem'}")
    c = Connection.from_file(BOOT, write_config(tmp_path, body))
    assert c.command_config() == c.source


def test_java_apps_read_secrets_through_the_file_provider(secured):
    j = secured.java_by_reference()
    path = secured.command_config()
    assert j["config.providers"] == "file"
    assert j["config.providers.file.class"] == "org.apache.kafka.common.config.provider.FileConfigProvider"
    assert j["sasl.jaas.config"] == f"${{file:{path}:sasl.jaas.config}}"
    assert j["security.protocol"] == "SASL_SSL" and "s3cr" not in " ".join(j.values())


def test_hostname_check_off_when_java_turns_it_off(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path / "home"))
    c = Connection.from_file(BOOT, write_config(tmp_path, SECURED + "ssl.endpoint.identification.algorithm=\n"))
    assert c.kafka_python()["ssl_check_hostname"] is False
    assert c.librdkafka()["ssl.endpoint.identification.algorithm"] == "none"


def test_inline_pem_certificates_become_a_private_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path / "home"))
    body = SECURED.replace("ssl.truststore.location=ca.pem",
                           "ssl.truststore.certificates=-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----")
    c = Connection.from_file(BOOT, write_config(tmp_path, body))
    ca = Path(c.kafka_python()["ssl_cafile"])
    assert ca.read_text().splitlines() == ["-----BEGIN CERTIFICATE-----", "MIIB", "-----END CERTIFICATE-----"]


def test_plain_mechanism_and_ssl_only(tmp_path):
    plain = Connection.from_file(BOOT, write_config(tmp_path, f"security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
                                                              f"sasl.jaas.config={PLAIN} required username='k' password='s';\n"))
    assert plain.kafka_python()["sasl_mechanism"] == "PLAIN" and "ssl_cafile" not in plain.kafka_python()
    ssl_only = Connection.from_file(BOOT, write_config(tmp_path, "security.protocol=SSL\n", "ssl.properties"))
    assert ssl_only.kafka_python() == {"security_protocol": "SSL", "ssl_check_hostname": True}


# ----------------------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("body, fragment", [
    ("security.protocol=SASL_TLS\n", "is not one of"),
    ("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n", "needs sasl.jaas.config"),
    ("security.protocol=SASL_SSL\n", "sasl.mechanism=GSSAPI"),  # Java's default mechanism: Kerberos
    (f"security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config={SCRAM} required username=a password=b;\n",
     "needs org.apache.kafka.common.security.plain.PlainLoginModule"),
    (f"security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config={SCRAM} required password=b;\n",
     "no username"),
    ("security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/no/such/ca.pem\n", "does not exist"),
])
def test_unusable_configs_are_refused_with_the_fix(tmp_path, body, fragment):
    with pytest.raises(LabError) as e:
        Connection.from_file(BOOT, write_config(tmp_path, body))
    assert fragment in str(e.value) and "\n" not in str(e.value)


def test_a_pkcs12_truststore_is_for_java_only(tmp_path):
    (tmp_path / "trust.p12").write_bytes(b"\0")
    c = Connection.from_file(BOOT, write_config(tmp_path, "security.protocol=SSL\nssl.truststore.type=PKCS12\n"
                                                          "ssl.truststore.location=trust.p12\n"))
    assert c.java()["ssl.truststore.location"] == str(tmp_path / "trust.p12")
    with pytest.raises(LabError, match="keytool -exportcert -rfc"):
        c.kafka_python()


def test_client_certificates_are_not_translated_for_python(tmp_path):
    c = Connection.from_file(BOOT, write_config(tmp_path, "security.protocol=SSL\nssl.keystore.type=PEM\n"
                                                          "ssl.keystore.location=ca.pem\n"))
    with pytest.raises(LabError, match="mutual TLS"):
        c.librdkafka()


def test_a_missing_file_names_the_variable(tmp_path):
    with pytest.raises(LabError, match="KAFKA_CLIENT_CONFIG"):
        Connection.from_file(BOOT, tmp_path / "nope.properties")


# ----------------------------------------------------------------------------------------------- the environment
def test_the_environment_is_read_in_one_place(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KAFKA_CLIENT_CONFIG", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert cn.connection() == Connection("127.0.0.1:9092")
    monkeypatch.setenv("KAFKA_CLIENT_CONFIG", str(write_config(tmp_path, SECURED)))
    with pytest.raises(LabError, match="KAFKA_BOOTSTRAP_SERVERS is not"):
        cn.connection()
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", BOOT)
    c = cn.connection()
    assert c.bootstrap == BOOT and c.username == "alice"
    # a client that names another cluster itself gets PLAINTEXT; the same cluster keeps the config
    assert cn.connection_for("other.example:9092") == Connection("other.example:9092")
    assert cn.connection_for(BOOT).username == "alice" and cn.connection_for(None).username == "alice"


def test_tools_get_command_config_after_the_bootstrap(tmp_path, monkeypatch):
    from kafkalab.cluster.tools import with_command_config

    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", BOOT)
    monkeypatch.setenv("KAFKA_CLIENT_CONFIG", str(write_config(tmp_path, SECURED)))
    config = str(cn.connection().command_config())
    assert with_command_config(["--bootstrap-server", BOOT, "describe", "--status"]) == [
        "--bootstrap-server", BOOT, "--command-config", config, "describe", "--status"]
    assert with_command_config([f"--bootstrap-server={BOOT}", "--list"]) == [
        f"--bootstrap-server={BOOT}", "--command-config", config, "--list"]
    own = ["--bootstrap-server", BOOT, "--command-config", "mine.properties", "--list"]
    assert with_command_config(own) == own
    other = ["--bootstrap-server", "127.0.0.1:1", "--list"]
    assert with_command_config(other) == other
    assert with_command_config(["--version"]) == ["--version"]


def test_registry_url_and_basic_auth(monkeypatch):
    for var in ("SCHEMA_REGISTRY_URL", "SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO"):
        monkeypatch.delenv(var, raising=False)
    assert cn.registry_url("http://127.0.0.1:8081/apis/ccompat/v7") == "http://127.0.0.1:8081/apis/ccompat/v7"
    assert cn.registry_client_config("http://x") == {"url": "http://x"}
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "https://sr.example/ ")
    monkeypatch.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "key:se:cret")
    assert cn.registry_url("http://local") == "https://sr.example"
    assert cn.registry_auth("https://sr.example/subjects") == ("key", "se:cret")
    assert cn.registry_auth("http://127.0.0.1:8083/connectors") is None  # never sent elsewhere
    assert cn.registry_client_config("https://sr.example") == {"url": "https://sr.example",
                                                               "basic.auth.user.info": "key:se:cret"}
    monkeypatch.setenv("SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO", "no-colon")
    with pytest.raises(LabError, match="user:password"):
        cn.registry_auth("https://sr.example")


def test_private_copies_are_readable_by_their_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    path = cn._private_copy("x", "secret=1\n", ".properties")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path.read_text() == "secret=1\n"

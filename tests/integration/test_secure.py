"""The secured cluster (``python -m kafkalab up --secure``) against a real broker: lifecycle, what each kind of
client sees, and the one-line diagnoses of kafkalab.io.security and doctor.

It runs on the run's "secure" port block (tests/integration/ownlab.py) in a data folder of its own, through the CLI
a learner uses.
"""
from __future__ import annotations

import contextlib
import hashlib
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from kafkalab.config import REPO

import ownlab  # tests/integration/ownlab.py

pytestmark = pytest.mark.lifecycle

SECURE_PORT = ownlab.port("secure", "secure")
CONTROLLER_PORT = ownlab.port("secure", "secure_controller")
BOOTSTRAP = f"127.0.0.1:{SECURE_PORT}"
lab, our_jvms = ownlab.lab, ownlab.jvms


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory):
    env = ownlab.lab_env(tmp_path_factory.mktemp("kafkalab-secure-home"), "secure", heap="320m")
    res = lab(env, "up", "--secure")
    assert res.returncode == 0, res.stderr
    yield env
    lab(env, "down", "-q")


@pytest.fixture
def in_lab(lab_env, monkeypatch):
    """This process pointed at the test's home and ports (kafkalab reads the environment on each call)."""
    for key in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_CLIENT_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    for key in ("KAFKALAB_HOME", "KAFKALAB_PORT_BASE"):
        monkeypatch.setenv(key, lab_env[key])
    return lab_env


def secure_dir(env) -> Path:
    return Path(env["KAFKALAB_HOME"]) / "data" / "kraft-secure"


def fingerprint(env) -> dict:
    d = secure_dir(env)
    return {name: hashlib.sha256((d / name).read_bytes()).hexdigest()
            for name in ("tls/ca.pem", "tls/broker.p12", "secrets.json")}


def listen_addresses(port: int) -> set[str]:
    """The local addresses of every listening socket on ``port`` (IPv4 and IPv6 tables)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, _, p = local.rpartition(":")
            if state == "0A" and int(p, 16) == port:
                found.add(addr)
    return found


# ----------------------------------------------------------------------------------------------- lifecycle
def test_up_secure_makes_a_ca_users_and_client_configs(lab_env):
    d = secure_dir(lab_env)
    assert [p.name for p in sorted((d / "clients").iterdir())] == ["admin.properties", "alice.properties",
                                                                  "bob.properties"]
    for private in ("secrets.json", "tls/broker.p12", "tls/ca.p12", "clients/alice.properties"):
        assert stat.S_IMODE((d / private).stat().st_mode) == 0o600, private
    assert (d / "tls" / "ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    run = Path(lab_env["KAFKALAB_HOME"]) / "run" / "secure-1.properties"
    assert stat.S_IMODE(run.stat().st_mode) == 0o600  # it holds the admin's and the keystore's passwords
    assert len(our_jvms(lab_env, "secure-1")) == 1 and our_jvms(lab_env, "node-1") == []


def test_the_certificate_names_127_0_0_1_and_localhost(lab_env):
    import ssl

    pem = (secure_dir(lab_env) / "tls" / "ca.pem")
    ctx = ssl.create_default_context(cafile=str(pem))
    for host in ("127.0.0.1", "localhost"):
        import socket

        with socket.create_connection(("127.0.0.1", SECURE_PORT), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=host) as tls:  # verifies the chain and the host name
                assert tls.version() in ("TLSv1.2", "TLSv1.3")


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}  # 127.0.0.1, as IPv4 or IPv4-mapped IPv6 (Java)


def test_ports_are_bound_to_loopback_only(lab_env):
    for port in (SECURE_PORT, CONTROLLER_PORT):
        found = listen_addresses(port)
        assert found and found <= LOOPBACK, (port, found)  # nothing on 0.0.0.0 or ::


def test_up_again_changes_nothing(lab_env):
    before = fingerprint(lab_env)
    res = lab(lab_env, "up", "--secure")
    assert res.returncode == 0 and "already running" in res.stderr
    assert fingerprint(lab_env) == before and len(our_jvms(lab_env, "secure-1")) == 1


def test_restart_keeps_certificates_users_and_data(lab_env, in_lab):
    from kafka.admin import NewTopic

    from kafkalab.cluster import secure
    from kafkalab.io.clients import admin, consumer, producer

    admin_conn = secure.user_connection("admin")
    topic = f"secure-survivor-{uuid.uuid4().hex[:6]}"
    with contextlib.closing(admin(connection=admin_conn)) as a:
        a.create_topics([NewTopic(topic, 1, 1)])
    with producer(connection=admin_conn, acks="all") as p:
        p.send(topic, b"kept").get(timeout=10)
    before = fingerprint(lab_env)
    assert lab(lab_env, "down").returncode == 0 and our_jvms(lab_env) == []
    res = lab(lab_env, "up", "--secure")
    assert res.returncode == 0, res.stderr
    assert "Formatting" not in res.stderr and "Making the course CA" not in res.stderr
    assert fingerprint(lab_env) == before
    c = consumer(topic, connection=secure.user_connection("admin"), group_id=None, consumer_timeout_ms=5000)
    with contextlib.closing(c):
        assert [r.value for r in c] == [b"kept"]
    # the learners' logins came through the restart too (SCRAM credentials live in the metadata log)
    from kafkalab.io.security import probe

    assert probe(secure.user_connection("bob")).ok


def test_down_stops_the_secured_node(lab_env):
    assert lab(lab_env, "down").returncode == 0
    assert our_jvms(lab_env) == [] and not listen_addresses(SECURE_PORT)
    assert lab(lab_env, "up", "--secure").returncode == 0  # back for the tests below


def test_brokers_flag_is_refused_in_secure_mode(lab_env):
    res = lab(lab_env, "up", "--secure", "--brokers", "3")
    assert res.returncode == 2 and "one broker" in res.stderr


def test_status_lists_the_running_secured_node(lab_env):
    res = lab(lab_env, "status")
    assert "secure-1: running" in res.stdout and str(SECURE_PORT) in res.stdout


def test_every_broker_key_is_one_kafka_4_4_knows(lab_env):
    """Kafka's start-up dump lists every broker key it knows; the listener-prefixed JAAS key is a known key under a
    listener prefix, and super.users belongs to the authorizer, which logs what it set."""
    from kafkalab.cluster.broker import parse_properties

    home = lab_env["KAFKALAB_HOME"]
    ours = parse_properties(open(f"{home}/run/secure-1.properties").read())
    dump = open(f"{home}/logs/secure-1.log").read()
    prefixed = "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"
    assert prefixed in ours and "\tsasl.jaas.config = " in dump
    assert [k for k in ours if k not in (prefixed, "super.users") and f"\t{k} = " not in dump] == []
    assert "set super.users=User:admin;User:ANONYMOUS" in dump or "super.users=User:admin, User:ANONYMOUS" in dump \
        or ("User:ANONYMOUS" in dump and "StandardAuthorizer" in dump)


# ----------------------------------------------------------------------------------------------- clients
def test_every_client_family_works_through_the_one_config(in_lab):
    """kafka-python, confluent-kafka, Quix and Kafka's own tools, all from KAFKA_CLIENT_CONFIG."""
    from kafkalab.cluster import secure

    env = dict(in_lab, KAFKA_BOOTSTRAP_SERVERS=BOOTSTRAP, KAFKA_CLIENT_CONFIG=str(secure.client_config("admin")))
    script = r"""
import uuid
from kafkalab.io.connection import connection
from kafkalab.io.topics import recreate_topic
from kafkalab.io.read import read_to_end
from kafkalab.io.clients import json_producer
from kafkalab.cluster.tools import run_tool
topic = f"secure-families-{uuid.uuid4().hex[:6]}"
recreate_topic(topic, partitions=1)
with json_producer() as p:
    p.send(topic, key="py", value={"by": "kafka-python"}).get(timeout=10)
from confluent_kafka import Producer
cp = Producer({**connection().librdkafka()})
cp.produce(topic, key="ck", value=b'{"by":"confluent-kafka"}')
assert cp.flush(15) == 0
from quixstreams import Application
app = Application(broker_address=connection().quix(), consumer_group="secure-quix", loglevel="ERROR")
with app.get_producer() as qp:
    qp.produce(topic, key=b"qx", value=b'{"by":"quix"}')
print(sorted(r.key.decode() for r in read_to_end(topic)))
print(run_tool("kafka-topics", f"--bootstrap-server {connection().bootstrap} --describe --topic {topic}").stdout.split()[1])
"""
    res = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=240)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.split("\n")
    assert lines[0] == "['ck', 'py', 'qx']" and lines[1].startswith("secure-families-")


def test_flink_sql_logs_in_with_the_shaded_module(in_lab):
    """Flink's Kafka connector shades the Kafka client: its options carry the relocated ScramLoginModule."""
    from kafkalab.cluster import secure

    env = dict(in_lab, KAFKA_BOOTSTRAP_SERVERS=BOOTSTRAP, KAFKA_CLIENT_CONFIG=str(secure.client_config("admin")))
    script = r"""
from kafkalab.connectsql import flinksql
from kafkalab.io.clients import json_producer
from kafkalab.io.topics import delete_topic, recreate_topic
recreate_topic("secure-flink", partitions=1)
with json_producer() as p:
    for n in range(5):
        p.send("secure-flink", key=str(n), value={"n": n}).get(timeout=10)
t_env = flinksql.table_env()
options = flinksql.kafka_options("secure-flink")
assert "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule" in options
t_env.execute_sql(f"CREATE TABLE nums (n INT) {options}")
print("RESULT", sorted(flinksql.collect(t_env, "SELECT n FROM nums", timeout_s=90)["n"].tolist()))
t_env.execute_sql(f"CREATE TABLE inline_nums (n INT) WITH ('connector' = 'kafka', 'topic' = 'secure-flink', "
                  f"{flinksql.kafka_properties_sql()}, 'scan.startup.mode' = 'earliest-offset', "
                  f"'scan.bounded.mode' = 'latest-offset', 'format' = 'json')")
print("RESULT", len(flinksql.collect(t_env, "SELECT n FROM inline_nums", timeout_s=90)))
delete_topic("secure-flink")
"""
    res = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                         timeout=400)
    assert res.returncode == 0, res.stderr[-3000:]
    results = [ln[len("RESULT "):] for ln in res.stdout.splitlines() if ln.startswith("RESULT ")]
    assert results == ["[0, 1, 2, 3, 4]", "5"], res.stdout[-500:]


def test_the_launcher_starts_nothing_for_an_external_secured_cluster(in_lab):
    from kafkalab.cluster import secure

    env = dict(in_lab, KAFKA_BOOTSTRAP_SERVERS=BOOTSTRAP, KAFKA_CLIENT_CONFIG=str(secure.client_config("alice")))
    res = lab(env, "up")
    assert res.returncode == 0 and "starting nothing" in res.stderr
    assert our_jvms(in_lab, "node-1") == []


# ----------------------------------------------------------------------------------------------- diagnoses
def _with(conn, **changes):
    from kafkalab.io.connection import Connection

    props = dict(conn.properties)
    for key, value in changes.items():
        key = key.replace("_", ".")
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return Connection(conn.bootstrap, props)


def test_probe_names_each_mistake(in_lab):
    from kafkalab.cluster import secure
    from kafkalab.io.connection import Connection, jaas_line
    from kafkalab.io.security import probe

    alice = secure.user_connection("alice")
    cases = {
        "ok": alice,
        "tls-expected": Connection(BOOTSTRAP),
        "untrusted-certificate": _with(alice, ssl_truststore_location=None, ssl_truststore_type=None),
        "credentials": _with(alice, sasl_jaas_config=jaas_line(secure.LOGIN_MODULE, "alice", "wrong")),
        "mechanism": _with(alice, sasl_mechanism="SCRAM-SHA-256"),
        "sasl-expected": _with(alice, security_protocol="SSL"),
    }
    for kind, conn in cases.items():
        finding = probe(conn)
        assert finding.kind == kind, (kind, finding.message)
        assert "\n" not in finding.message and "wrong" not in finding.message
    import dataclasses
    import socket

    other_name = socket.gethostname()
    if other_name not in ("localhost", "127.0.0.1"):
        assert probe(dataclasses.replace(alice, bootstrap=f"{other_name}:{SECURE_PORT}")).kind in (
            "hostname", "unreachable")


def test_clients_fail_at_once_with_one_line(in_lab):
    import time

    from kafkalab.cluster import secure
    from kafkalab.errors import LabError
    from kafkalab.io.clients import admin
    from kafkalab.io.connection import Connection

    t0 = time.monotonic()
    with pytest.raises(LabError) as e:
        admin(connection=Connection(BOOTSTRAP))
    assert "speaks TLS" in str(e.value) and time.monotonic() - t0 < 3
    with pytest.raises(LabError, match="refused the login of user 'alice'"):
        admin(connection=_with(secure.user_connection("alice"), sasl_jaas_config=secure.LOGIN_MODULE
                               + ' required username="alice" password="nope";'))


def test_a_user_without_acls_is_refused_then_granted_then_refused(in_lab):
    from kafkalab.cluster import secure
    from kafkalab.cluster.tools import run_tool
    from kafkalab.security import attempt_consume, attempt_produce

    topic, group = f"secure-acl-{uuid.uuid4().hex[:6]}", f"secure-acl-group-{uuid.uuid4().hex[:6]}"
    admin_config = str(secure.client_config("admin"))
    from kafkalab.io.clients import admin
    from kafka.admin import NewTopic

    with contextlib.closing(admin(connection=secure.user_connection("admin"))) as a:
        a.create_topics([NewTopic(topic, 1, 1)])
    bob = secure.user_connection("bob")
    refused = attempt_produce(bob, topic, [b"x"])
    assert not refused.ok and "not authorized" in refused.line and "User:bob" in refused.line
    base = ["--bootstrap-server", BOOTSTRAP, "--command-config", admin_config]
    grant = ["--add", "--allow-principal", "User:bob", "--operation", "Write", "--operation", "Describe",
             "--topic", topic]
    run_tool("kafka-acls", base + grant)
    assert attempt_produce(bob, topic, [b"x", b"y"]).ok
    group_refused = attempt_consume(bob, topic, group)
    assert not group_refused.ok and "group" in group_refused.line
    run_tool("kafka-acls", base + ["--add", "--allow-principal", "User:bob", "--operation", "Read", "--topic", topic,
                                   "--group", group])
    consumed = attempt_consume(bob, topic, group)
    assert consumed.ok and consumed.records == 2
    run_tool("kafka-acls", base + ["--remove", "--force", "--allow-principal", "User:bob", "--operation", "Write",
                                   "--topic", topic])
    assert not attempt_produce(bob, topic, [b"z"]).ok


def test_doctor_reports_tls_sasl_and_acls(in_lab):
    from kafkalab.cluster import secure

    good = dict(in_lab, KAFKA_BOOTSTRAP_SERVERS=BOOTSTRAP, KAFKA_CLIENT_CONFIG=str(secure.client_config("admin")))
    res = lab(good, "doctor")
    assert "[ok  ] connection:" in res.stdout and "SASL_SSL" in res.stdout, res.stdout
    wrong = Path(in_lab["KAFKALAB_HOME"]) / "wrong.properties"
    text = secure.client_config("alice").read_text().replace('password="', 'password="x')
    wrong.write_text(text)
    res = lab(dict(good, KAFKA_CLIENT_CONFIG=str(wrong)), "doctor")
    assert res.returncode == 1 and "[FAIL] connection:" in res.stdout and "refused the login" in res.stdout
    plain = lab(dict(good, KAFKA_CLIENT_CONFIG=""), "doctor")
    assert "[FAIL] connection:" in plain.stdout and "speaks TLS" in plain.stdout
    alice = lab(dict(good, KAFKA_CLIENT_CONFIG=str(secure.client_config("alice"))), "doctor")
    assert "[FAIL] permissions:" in alice.stdout and "kafka-acls" in alice.stdout, alice.stdout

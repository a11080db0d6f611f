"""The one-line messages of kafkalab.io.security and the grant format of kafkalab.security (pure: nothing connects;
tests/integration/test_secure.py runs the probe against a real secured broker)."""
from __future__ import annotations

import socket
import struct
import threading

import pytest
from kafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

from kafkalab.errors import LabError
from kafkalab.io import security as probe_mod
from kafkalab.io.connection import Connection

ALICE = Connection("127.0.0.1:1", {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512",
                                   "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule '
                                                       'required username="alice" password="pw";'})


def test_authorization_errors_name_the_resource_and_the_fix():
    line = probe_mod.authorization_message(TopicAuthorizationFailedError("orders"), ALICE)
    assert line.startswith("not authorized: user 'alice' may not use topic 'orders'")
    assert "kafka-acls --add --allow-principal User:alice" in line and "--topic orders" in line
    group = probe_mod.authorization_message(GroupAuthorizationFailedError("readers"), ALICE)
    assert "consumer group 'readers'" in group and "--group readers" in group
    wrapped = KafkaError("Unexpected error in InitProducerIdResponse: [Error 31] ClusterAuthorizationFailedError")
    assert "act on the cluster" in probe_mod.authorization_message(wrapped, ALICE)
    assert probe_mod.authorization_message(KafkaError("something else"), ALICE) is None


def test_explain_keeps_authorization_apart_from_the_probe():
    err = probe_mod.explain(TopicAuthorizationFailedError("orders"), ALICE)
    assert isinstance(err, probe_mod.SecurityProblem) and err.kind == "authorization"


def test_nothing_listening_is_unreachable(unused_port):
    finding = probe_mod.probe(Connection(f"127.0.0.1:{unused_port}"), timeout_s=1)
    assert finding.kind == "unreachable" and not finding.ok


@pytest.fixture
def unused_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_once(reply: bytes) -> int:
    """A listener that answers the first request with ``reply`` (raw bytes) and hangs up."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def run():
        for _ in range(4):  # the probe may connect more than once
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(reply)
                except OSError:
                    pass
        srv.close()

    threading.Thread(target=run, daemon=True).start()
    return srv.getsockname()[1]


def test_a_tls_alert_to_a_plaintext_request_means_tls_expected():
    port = _serve_once(bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32]))  # a TLS alert record
    finding = probe_mod.probe(Connection(f"127.0.0.1:{port}"), timeout_s=2)
    assert finding.kind == "tls-expected" and "speaks TLS" in finding.message


def test_a_plain_listener_that_refuses_sasl_is_ok_for_plaintext():
    body = struct.pack(">ihi", 1, probe_mod.ILLEGAL_SASL_STATE, 0)  # correlation 1, error 34, no mechanisms
    port = _serve_once(struct.pack(">i", len(body)) + body)
    assert probe_mod.probe(Connection(f"127.0.0.1:{port}"), timeout_s=2).ok


def test_a_sasl_listener_lists_its_mechanisms_to_a_client_without_login():
    mech = b"SCRAM-SHA-512"
    body = struct.pack(">ihih", 1, probe_mod.UNSUPPORTED_SASL_MECHANISM, 1, len(mech)) + mech
    port = _serve_once(struct.pack(">i", len(body)) + body)
    finding = probe_mod.probe(Connection(f"127.0.0.1:{port}"), timeout_s=2)
    assert finding.kind == "sasl-expected" and "SCRAM-SHA-512" in finding.message


# ----------------------------------------------------------------------------------------------- grants
def test_grants_parse_and_name_their_mistakes():
    from kafkalab.security import _acl, parse_grant

    assert parse_grant(("User:bob", "topic:orders", "read")) == ("User:bob", "topic", "orders", "Read")
    assert parse_grant(["User:bob", "group:g", "DescribeConfigs"])[3] == "DescribeConfigs"
    assert _acl("User:bob", "topic", "orders", "DescribeConfigs").operation.name == "DESCRIBE_CONFIGS"
    for bad, fragment in [(("bob", "topic:t", "Read"), "User:<name>"), (("User:bob", "t", "Read"), "<kind>:<name>"),
                          (("User:bob", "cluster:x", "Read"), "topic or group"),
                          (("User:bob", "topic:t", "Fly"), "is none of"), ("User:bob topic:t Read", "tuple of three")]:
        with pytest.raises(LabError, match=fragment):
            parse_grant(bad)

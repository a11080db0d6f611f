"""Lifecycle guarantees of the companion services (schema registry, Connect), each against the real service.

Like test_lifecycle.py, these run their own broker and services on the run's "services" port block with their own
data folder.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import time

import pytest

from kafkalab.cluster import procs
from kafkalab.io.http import request as http

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle

REGISTRY_PORT = ownlab.port("services", "registry")
REGISTRY = f"http://127.0.0.1:{REGISTRY_PORT}/apis/ccompat/v7"
CONNECT = f"http://127.0.0.1:{ownlab.port('services', 'connect')}"
AVRO = "application/vnd.schemaregistry.v1+json"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = ownlab.lab_env(tmp_path_factory.mktemp("services-home"), "services")
    yield e
    lab(e, "down", "-q")


lab, jvms = ownlab.lab, ownlab.jvms


def schema(*fields: str) -> dict:
    record = {"type": "record", "name": "Payment", "fields": [{"name": f, "type": "string"} for f in fields]}
    return {"schema": json.dumps(record)}


def test_registry_starts_once_with_backward_compatibility(env):
    first = lab(env, "up", "--with", "registry")
    assert first.returncode == 0, first.stderr
    assert lab(env, "up", "--with", "registry").returncode == 0
    assert len(jvms(env, "registry")) == 1
    assert http("GET", REGISTRY + "/config") == (200, {"compatibilityLevel": "BACKWARD"})


def test_incompatible_schema_is_refused_with_409(env):
    assert lab(env, "up", "--with", "registry").returncode == 0
    status, body = http("POST", REGISTRY + "/subjects/lifecycle-value/versions", schema("id"), content_type=AVRO)
    assert status == 200 and body["id"] >= 1
    # a new field without a default breaks BACKWARD compatibility: readers of v2 cannot read v1 data
    status, body = http("POST", REGISTRY + "/subjects/lifecycle-value/versions", schema("id", "card"), content_type=AVRO)
    assert status == 409, body


def test_schemas_survive_a_restart_and_a_kill(env):
    assert lab(env, "up", "--with", "registry").returncode == 0
    http("POST", REGISTRY + "/subjects/survivor-value/versions", schema("a"), content_type=AVRO)
    assert lab(env, "down").returncode == 0
    assert jvms(env, "registry") == []
    assert lab(env, "up", "--with", "registry").returncode == 0
    assert "survivor-value" in http("GET", REGISTRY + "/subjects")[1]
    (pid,) = jvms(env, "registry")
    os.kill(pid, signal.SIGKILL)
    while procs.pid_alive(pid):
        time.sleep(0.1)
    again = lab(env, "up", "--with", "registry")
    assert again.returncode == 0, again.stderr
    assert len(jvms(env, "registry")) == 1
    assert "survivor-value" in http("GET", REGISTRY + "/subjects")[1]
    assert http("GET", REGISTRY + "/config")[1] == {"compatibilityLevel": "BACKWARD"}


def test_registry_port_taken_is_one_line(env):
    assert lab(env, "down").returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port may hold TIME_WAIT leftovers
        squatter.bind(("127.0.0.1", REGISTRY_PORT))
        squatter.listen()
        res = lab(env, "up", "--with", "registry")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: port {REGISTRY_PORT} (registry)") and f"pid {os.getpid()}" in last
    assert "Traceback" not in res.stderr
    assert jvms(env, "registry") == [] and jvms(env, "node-1") == []  # nothing was started


def test_connect_worker_lists_the_debezium_plugins_and_stops_clean(env):
    res = lab(env, "up", "--with", "connect")
    assert res.returncode == 0, res.stderr
    assert lab(env, "up", "--with", "connect").returncode == 0
    assert len(jvms(env, "connect")) == 1
    status, plugins = http("GET", CONNECT + "/connector-plugins")
    assert status == 200
    assert {"io.debezium.connector.postgresql.PostgresConnector",
            "io.debezium.connector.jdbc.JdbcSinkConnector"} <= {p["class"] for p in plugins}
    assert lab(env, "down").returncode == 0
    assert jvms(env, "connect") == [] and jvms(env, "node-1") == []


def test_unknown_service_starts_nothing(env):
    res = lab(env, "up", "--with", "ksqldb")
    assert res.returncode == 2
    assert res.stderr.strip() == "error: unknown service 'ksqldb'; choose registry, connect or postgres"
    assert jvms(env, "node-1") == []

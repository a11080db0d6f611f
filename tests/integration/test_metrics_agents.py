"""The Jolokia metrics agents: one per broker of a three-broker cluster and one on the Connect worker, each at its
derived port and on 127.0.0.1 only; a taken agent port stops `up` with one line naming the fix.

Runs its own three-node cluster (and Connect) on the run's "metrics-agents" port block with its own data folder.
"""
from __future__ import annotations

import json
import os
import socket

import pytest

import ownlab  # tests/integration/ownlab.py
from kafkalab.config import PORT_OFFSETS

pytestmark = pytest.mark.lifecycle

BASE = ownlab.block_base("metrics-agents")
AGENTS = {f"node-{k}": BASE + PORT_OFFSETS["jolokia"] + k - 1 for k in (1, 2, 3)}
CONNECT_AGENT = BASE + PORT_OFFSETS["connect_jolokia"]
lab, jvms = ownlab.lab, ownlab.jvms


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = ownlab.lab_env(tmp_path_factory.mktemp("metrics-agents"), "metrics-agents", heap="320m")
    res = lab(e, "up", "--brokers", "3", "--with", "connect", timeout=400)
    assert res.returncode == 0, res.stderr
    yield e
    lab(e, "down", "-q")


def listening_addresses(port: int) -> set[str]:
    """The local addresses a LISTEN socket on ``port`` is bound to, from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, hexport = local.split(":")
                if state == "0A" and int(hexport, 16) == port:
                    found.add(addr)
    return found


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F"}  # 127.0.0.1, and ::ffff:127.0.0.1 (a Java socket)


def jolokia(port: int, body: dict) -> dict:
    from kafkalab.io import http

    return http.call("POST", f"http://127.0.0.1:{port}/jolokia/", body, timeout_s=10)


def pid_of(port: int) -> int:
    """The pid of the JVM whose agent answers on ``port`` (its Runtime MBean's name is pid@host)."""
    name = jolokia(port, {"type": "read", "mbean": "java.lang:type=Runtime", "attribute": "Name"})["value"]
    return int(name.split("@")[0])


def test_each_broker_has_its_agent_at_its_port_on_loopback_only(env):
    for node, port in AGENTS.items():
        assert listening_addresses(port) and listening_addresses(port) <= LOOPBACK, (node, listening_addresses(port))
        assert [pid_of(port)] == jvms(env, node), node  # the agent on that port lives in that node's JVM
        version = jolokia(port, {"type": "version"})["value"]
        assert version["agent"] == "2.5.1" and version["config"]["discoveryEnabled"] == "false"


def test_connect_has_its_agent_at_its_port_on_loopback_only(env):
    assert listening_addresses(CONNECT_AGENT) and listening_addresses(CONNECT_AGENT) <= LOOPBACK
    assert [pid_of(CONNECT_AGENT)] == jvms(env, "connect")
    workers = jolokia(CONNECT_AGENT, {"type": "search", "mbean": "kafka.connect:type=connect-worker-metrics,*"})
    assert workers["value"], "Connect's worker metrics are readable through its agent"


def test_status_and_the_reader_see_every_agent(env):
    res = lab(env, "status")
    for node, port in AGENTS.items():
        assert f"metrics (Jolokia) 127.0.0.1:{port} answers" in res.stdout, res.stdout
    assert f"metrics (Jolokia) 127.0.0.1:{CONNECT_AGENT} answers" in res.stdout
    status = json.loads(lab(env, "status", "--json").stdout)
    assert [n["jolokia_port"] for n in status["nodes"].values()] == list(AGENTS.values())
    code = ("import json; from kafkalab import metrics; s = metrics.read_all(); "
            "print(json.dumps({n: [x.up, x.values.get('active_controller'), sorted(x.missing)] for n, x in s.items()}))")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    seen = json.loads(out.stdout)
    assert all(up and missing == [] for up, _, missing in seen.values()), seen
    assert sum(controller for _, controller, _ in seen.values()) == 1  # exactly one active controller


def test_a_taken_agent_port_is_one_line_with_the_fix(env):
    assert lab(env, "down", "-q").returncode == 0
    port = AGENTS["node-2"]
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        res = lab(env, "up", "--brokers", "3")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert f"port {port} (node-2 metrics agent, Jolokia)" in lines[0] and f"pid {os.getpid()}" in lines[0]
    assert "KAFKALAB_JOLOKIA_PORT" in lines[0]
    assert jvms(env) == []  # nothing was started

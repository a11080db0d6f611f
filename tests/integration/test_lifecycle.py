"""Lifecycle guarantees of the embedded cluster, each against a real broker.

These tests run their own broker on the run's "lifecycle" port block (tests/integration/ownlab.py) with their own
data folder, through the same CLI a learner uses, so they never touch the course cluster.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from kafkalab.cluster import procs
from kafkalab.config import REPO

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle

BROKER_PORT, CONTROLLER_PORT = ownlab.port("lifecycle", "broker"), ownlab.port("lifecycle", "controller")
BOOTSTRAP = f"127.0.0.1:{BROKER_PORT}"


@pytest.fixture(scope="module")
def lab_env(tmp_path_factory):
    env = ownlab.lab_env(tmp_path_factory.mktemp("kafkalab-home"), "lifecycle")
    yield env
    lab(env, "down", "-q")


lab, our_jvms = ownlab.lab, ownlab.jvms


def _kill(pid: int) -> None:
    """SIGKILL, as a crash or a power cut would, and wait until the process is gone."""
    os.kill(pid, signal.SIGKILL)
    for _ in range(50):
        if not procs.pid_alive(pid):
            break
        time.sleep(0.1)


def produce(n: int, topic: str) -> None:
    from kafkalab.io.clients import producer

    with producer(bootstrap_servers=BOOTSTRAP, acks="all") as p:
        for i in range(n):
            p.send(topic, key=str(i).encode(), value=f"record-{i}".encode())
        p.flush()


def read_all(topic: str) -> list[bytes]:
    from kafkalab.io.clients import consumer

    c = consumer(topic, bootstrap_servers=BOOTSTRAP, consumer_timeout_ms=3000)
    try:
        return sorted(r.value for r in c)
    finally:
        c.close()


def test_up_twice_leaves_one_broker(lab_env):
    first = lab(lab_env, "up")
    assert first.returncode == 0, first.stderr
    assert "Kafka is up" in first.stderr
    second = lab(lab_env, "up")
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    assert len(our_jvms(lab_env)) == 1


def test_data_survives_down_and_up(lab_env):
    assert lab(lab_env, "up").returncode == 0
    produce(500, "survivors")
    down = lab(lab_env, "down")
    assert down.returncode == 0, down.stderr
    assert our_jvms(lab_env) == []
    assert lab(lab_env, "status").returncode == 3
    assert lab(lab_env, "up").returncode == 0
    assert read_all("survivors") == sorted(f"record-{i}".encode() for i in range(500))


def test_killed_jvm_is_recovered_with_its_data(lab_env):
    assert lab(lab_env, "up").returncode == 0
    produce(200, "after-crash")
    (pid,) = our_jvms(lab_env)
    _kill(pid)
    status = json.loads(lab(lab_env, "status", "--json").stdout)
    assert status["nodes"]["node-1"]["pid"] is None  # the stale pid file is recognised as stale
    again = lab(lab_env, "up")
    assert again.returncode == 0, again.stderr
    assert len(our_jvms(lab_env)) == 1
    assert len(read_all("after-crash")) == 200


def test_down_leaves_no_jvm(lab_env):
    assert lab(lab_env, "up").returncode == 0
    assert lab(lab_env, "down").returncode == 0
    assert our_jvms(lab_env) == []
    assert procs.port_free(BROKER_PORT) and procs.port_free(CONTROLLER_PORT)
    assert "Nothing was running" in lab(lab_env, "down").stderr


def test_taken_port_is_reported_with_the_fix(lab_env):
    assert lab(lab_env, "down").returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the port may hold TIME_WAIT leftovers
        squatter.bind(("127.0.0.1", BROKER_PORT))
        squatter.listen()
        res = lab(lab_env, "up")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr  # one line, no traceback
    assert f"port {BROKER_PORT}" in lines[0] and f"pid {os.getpid()}" in lines[0]
    assert "KAFKA_BOOTSTRAP_SERVERS" in lines[0]
    assert our_jvms(lab_env) == []


def test_external_bootstrap_starts_nothing_and_notebooks_use_it(lab_env):
    assert lab(lab_env, "up").returncode == 0
    before = our_jvms(lab_env)
    other_home = dict(lab_env, KAFKALAB_HOME=lab_env["KAFKALAB_HOME"] + "-unused", KAFKA_BOOTSTRAP_SERVERS=BOOTSTRAP)
    res = lab(other_home, "up")
    assert res.returncode == 0, res.stderr
    assert "starting nothing" in res.stderr
    assert our_jvms(lab_env) == before and our_jvms(other_home) == []
    cell = "from kafkalab import notebook; notebook.start()"
    nb = subprocess.run([sys.executable, "-c", cell], env=other_home, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert nb.returncode == 0, nb.stderr
    assert f"Kafka answers at {BOOTSTRAP} with 1 broker(s)." in nb.stdout


def test_first_cell_fails_fast_with_the_fix_when_the_cluster_is_down(lab_env):
    assert lab(lab_env, "down").returncode == 0
    env = dict(lab_env, KAFKA_BOOTSTRAP_SERVERS=BOOTSTRAP)
    res = subprocess.run([sys.executable, "-c", "from kafkalab import notebook; notebook.start()"],
                         env=env, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0
    assert f"no Kafka answers at {BOOTSTRAP}" in res.stderr and "make up" in res.stderr


def _archives(cache) -> list:
    return sorted((cache / "cds").glob("broker-*.jsa"))


@pytest.fixture
def empty_cache(lab_env, tmp_path):
    """The test's cluster, stopped, with a class-archive cache of its own that holds nothing yet."""
    cache = tmp_path / "cache"
    env = dict(lab_env, KAFKALAB_CACHE_DIR=str(cache))
    assert lab(env, "down", "-q").returncode == 0
    return cache, env


def test_first_clean_stop_writes_a_class_archive_the_next_start_maps(empty_cache):
    cache, env = empty_cache
    assert lab(env, "up").returncode == 0
    (pid,) = our_jvms(env)
    assert any(a.startswith("-XX:ArchiveClassesAtExit=") for a in procs.cmdline(pid))
    assert _archives(cache) == []  # written at exit, not before
    assert lab(env, "down").returncode == 0
    (archive,) = _archives(cache)
    assert list((cache / "cds").glob("*.part")) == []
    # Java itself vouches for the archive: with -Xshare:on it refuses to start on one that does not match
    from kafkalab.cluster.java import find_java

    cp = subprocess.run([sys.executable, "-c", "from kafkalab.cluster.maven import classpath; print(classpath('broker'))"],
                        env=env, cwd=REPO, capture_output=True, text=True, timeout=120).stdout.strip()
    # (the broker runs the Jolokia agent: Java maps an archive written with an agent only with the same two options)
    check = subprocess.run([find_java("broker"), "-XX:+UnlockDiagnosticVMOptions", "-XX:+AllowArchivingWithJavaAgent",
                            "-Xshare:on", f"-XX:SharedArchiveFile={archive}", "-cp", cp, "-version"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    assert "sharing" in check.stderr
    assert lab(env, "up").returncode == 0
    (pid,) = our_jvms(env)
    assert f"-XX:SharedArchiveFile={archive}" in procs.cmdline(pid)
    produce(50, "mapped-classes")  # the broker works as before
    assert len(read_all("mapped-classes")) == 50
    assert lab(env, "down").returncode == 0
    assert _archives(cache) == [archive]


def test_a_killed_broker_writes_no_archive_and_the_next_clean_stop_does(empty_cache):
    cache, env = empty_cache
    assert lab(env, "up").returncode == 0
    (pid,) = our_jvms(env)
    _kill(pid)
    assert _archives(cache) == []
    assert lab(env, "up").returncode == 0  # the restarted JVM is asked for a new archive
    assert lab(env, "down").returncode == 0
    assert len(_archives(cache)) == 1 and list((cache / "cds").glob("*.part")) == []


def test_kafkalab_cds_0_starts_a_plain_jvm(empty_cache):
    cache, env = empty_cache
    env = dict(env, KAFKALAB_CDS="0")
    assert lab(env, "up").returncode == 0
    (pid,) = our_jvms(env)
    assert not any("Archive" in a or "SharedArchive" in a for a in procs.cmdline(pid))
    assert lab(env, "down").returncode == 0
    assert not (cache / "cds").exists()


def _features(env) -> dict:
    from kafkalab.cluster.broker import parse_features

    res = lab(env, "tool", "kafka-features", "--bootstrap-server", BOOTSTRAP, "describe")
    assert res.returncode == 0, res.stderr
    return parse_features(res.stdout)


def test_a_fresh_cluster_has_share_and_streams_groups_on(lab_env):
    assert lab(lab_env, "up").returncode == 0
    features = _features(lab_env)
    assert int(features["share.version"]) >= 1 and int(features["streams.version"]) >= 1, features


def test_every_server_property_we_write_is_one_kafka_knows(lab_env):
    """Kafka ignores a misspelt or retired key silently; its start-up dump lists every key it knows."""
    from kafkalab.cluster.broker import parse_properties

    assert lab(lab_env, "up").returncode == 0
    home = lab_env["KAFKALAB_HOME"]
    ours = parse_properties(open(f"{home}/run/node-1.properties").read())
    dump = open(f"{home}/logs/node-1.log").read()
    assert [k for k in ours if f"\t{k} = " not in dump] == []


def test_data_formatted_by_an_older_kafka_is_upgraded_once_with_a_notice(lab_env, tmp_path):
    """The 4.1 course left storage at metadata version 4.1-IV1 (share and streams groups off). Formatting at release
    4.1 with the 4.4 jars recreates that without old jars."""
    assert lab(lab_env, "down", "-q").returncode == 0
    env = dict(lab_env, KAFKALAB_HOME=str(tmp_path / "from-4.1"))
    first = lab(dict(env, KAFKALAB_FORMAT_RELEASE="4.1"), "up")
    try:
        assert first.returncode == 0, first.stderr
        from kafkalab.cluster.maven import pinned

        target = ".".join(pinned("kafka.version").split(".")[:2])
        notice = [ln for ln in first.stderr.splitlines() if ln.startswith("Upgraded")]
        assert notice == [f"Upgraded this cluster's metadata from 4.1-IV1 to Kafka {target} (share and streams groups "
                          f"on); Kafka older than {target} can no longer open {tmp_path}/from-4.1/data/kraft-1"]
        features = _features(env)
        assert features["metadata.version"].startswith(target) and features["share.version"] != "0"
        assert features["streams.version"] != "0"
        assert lab(env, "down").returncode == 0
        again = lab(env, "up")
        assert again.returncode == 0 and "Upgraded" not in again.stderr, again.stderr
    finally:
        lab(env, "down", "-q")


def _pid_file(env) -> str:
    return f"{env['KAFKALAB_HOME']}/run/node-1.pid"


def test_a_start_that_times_out_leaves_no_jvm_and_no_pid_file(lab_env):
    assert lab(lab_env, "down", "-q").returncode == 0
    res = lab(dict(lab_env, KAFKALAB_START_TIMEOUT="0.3"), "up")
    assert res.returncode == 2
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: Kafka answering on") and "did not happen within 0.3 s" in last, res.stderr
    assert "KAFKALAB_START_TIMEOUT" in last and "Traceback" not in res.stderr
    assert our_jvms(lab_env) == []
    assert not os.path.exists(_pid_file(lab_env))
    again = lab(lab_env, "up")  # and the next start is an ordinary one
    assert again.returncode == 0 and "already running" not in again.stderr, again.stderr
    assert len(our_jvms(lab_env)) == 1


def test_a_failed_start_quotes_only_this_runs_log(lab_env):
    assert lab(lab_env, "down", "-q").returncode == 0
    logs = f"{lab_env['KAFKALAB_HOME']}/logs"
    for name in ("node-1.log", "node-1.out"):
        with open(f"{logs}/{name}", "a") as f:
            f.write("[2020-01-01 00:00:00,000] ERROR AN-OLD-RUNS-ERROR (kafka.Kafka)\n")
    res = lab(dict(lab_env, KAFKALAB_HEAP="1k"), "up")  # the JVM refuses a 1 KB heap and exits at once
    assert res.returncode == 2
    assert "node-1 exited during start-up" in res.stderr
    assert "AN-OLD-RUNS-ERROR" not in res.stderr and "heap" in res.stderr.lower(), res.stderr
    assert our_jvms(lab_env) == [] and not os.path.exists(_pid_file(lab_env))


def test_status_changes_nothing_on_disk(lab_env):
    assert lab(lab_env, "up").returncode == 0
    (pid,) = our_jvms(lab_env)
    _kill(pid)
    with open(_pid_file(lab_env)) as f:
        stale = f.read()
    for _ in range(2):
        assert lab(lab_env, "status").returncode == 3
    with open(_pid_file(lab_env)) as f:  # still the stale file: status reports, `up` repairs
        assert f.read() == stale
    assert lab(lab_env, "up").returncode == 0
    (new,) = our_jvms(lab_env)
    with open(_pid_file(lab_env)) as f:
        assert f.read().strip() == str(new)


def _steal_listening_socket(pid: int, port: int) -> int:
    """Duplicate the JVM's listening socket into this process (pidfd_getfd, Linux 5.6+): the port then stays held
    after the JVM dies, which is what a leaked socket in a child process does."""
    import ctypes

    inodes = procs._listen_inodes(port)
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            libc = ctypes.CDLL(None, use_errno=True)
            pidfd = os.pidfd_open(pid)
            try:
                stolen = libc.syscall(438, pidfd, int(fd), 0)  # SYS_pidfd_getfd on x86-64 and arm64
            finally:
                os.close(pidfd)
            if stolen < 0:
                pytest.skip(f"pidfd_getfd refused: {os.strerror(ctypes.get_errno())}")
            return stolen
    raise AssertionError(f"pid {pid} has no listening socket on {port}")


def test_kill_node_raises_when_the_ports_stay_held(lab_env):
    assert lab(lab_env, "up").returncode == 0
    (pid,) = our_jvms(lab_env)
    held = _steal_listening_socket(pid, CONTROLLER_PORT)
    try:
        res = subprocess.run([sys.executable, "-c", "from kafkalab.cluster.broker import kill_node; kill_node(1)"],
                             env=lab_env, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert res.returncode != 0
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith("kafkalab.errors.LabError: node-1") and f"free ports {BROKER_PORT}/{CONTROLLER_PORT}" in last
        assert f"{CONTROLLER_PORT} held by pid {os.getpid()}" in last, last
        assert not procs.pid_alive(pid)
    finally:
        os.close(held)
    assert lab(lab_env, "up").returncode == 0  # the port is free again: the node comes back

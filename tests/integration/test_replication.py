"""Three brokers: the cluster forms, and acknowledged records survive a leader killed with SIGKILL.

Runs its own three-node KRaft cluster on the run's "three-brokers" port block with its own data folder.
"""
from __future__ import annotations

import collections
import json
import os
import signal
import threading
import time

import pytest

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)
from kafkalab.wait import wait_until

pytestmark = pytest.mark.lifecycle

BOOTSTRAP = f"127.0.0.1:{ownlab.port('three-brokers', 'broker')}"
N_RECORDS = 100_000
TOPIC = "replication-zero-loss"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = ownlab.lab_env(tmp_path_factory.mktemp("three-brokers"), "three-brokers", heap="320m")
    res = lab(e, "up", "--brokers", "3")
    assert res.returncode == 0, res.stderr
    yield e
    lab(e, "down", "-q")


lab = ownlab.lab


def node_pid(env, node_id: int) -> int | None:
    return next(iter(ownlab.jvms(env, f"node-{node_id}")), None)


def test_three_voters_and_three_brokers(env):
    from kafkalab.io.clients import admin

    a = admin(bootstrap_servers=BOOTSTRAP)
    try:
        assert sorted(b["broker_id"] for b in a.describe_cluster()["brokers"]) == [1, 2, 3]
        quorum = a.describe_metadata_quorum()
        voters = quorum["topics"][0]["partitions"][0]["current_voters"]
        assert sorted(v["replica_id"] for v in voters) == [1, 2, 3]
    finally:
        a.close()


def test_acknowledged_records_survive_a_killed_leader(env):
    from kafka.admin import NewTopic

    from kafkalab.io.clients import admin, consumer, producer

    a = admin(bootstrap_servers=BOOTSTRAP)
    try:
        a.create_topics([NewTopic(TOPIC, 3, 3, topic_configs={"min.insync.replicas": "2"})])

        def in_sync():
            parts = a.describe_topics([TOPIC])[0]["partitions"]
            return parts if len(parts) == 3 and all(len(p["isr_nodes"]) == 3 for p in parts) else None

        parts = wait_until(in_sync, timeout_s=60, what=f"all three replicas of {TOPIC} in sync",
                           last_seen=lambda: a.describe_topics([TOPIC])[0]["partitions"])
        leader = next(p["leader_id"] for p in parts if p["partition_index"] == 0)
    finally:
        a.close()

    acked, failed = set(), set()
    lock = threading.Lock()

    def ok(seq):
        def cb(_meta):
            with lock:
                acked.add(seq)
        return cb

    def bad(seq):
        def eb(_exc):
            with lock:
                failed.add(seq)
        return eb

    p = producer(bootstrap_servers=BOOTSTRAP, acks="all", enable_idempotence=True, linger_ms=5,
                 batch_size=64 * 1024, delivery_timeout_ms=120_000, request_timeout_ms=10_000)
    killed_at = None
    restarted = None
    try:
        for seq in range(N_RECORDS):
            fut = p.send(TOPIC, key=str(seq % 1000).encode(), value=str(seq).encode())
            fut.add_callback(ok(seq)).add_errback(bad(seq))
            if killed_at is None and seq == N_RECORDS // 3:
                p.flush()
                pid = node_pid(env, leader)
                assert pid, f"leader node-{leader} not found"
                os.kill(pid, signal.SIGKILL)  # mid-stream, no clean shutdown
                killed_at = seq
            if restarted is None and killed_at is not None and seq == 2 * N_RECORDS // 3:
                restarted = lab(env, "up")  # brings back only the missing node, with its data
        p.flush(timeout=120)
    finally:
        p.close(timeout=30)
    assert restarted is not None and restarted.returncode == 0, restarted.stderr if restarted else "not restarted"

    seen = collections.Counter()
    c = consumer(TOPIC, bootstrap_servers=BOOTSTRAP, consumer_timeout_ms=10_000, max_poll_records=5000)
    try:
        for rec in c:
            seen[int(rec.value)] += 1
            if len(seen) >= N_RECORDS and sum(seen.values()) >= len(acked):
                break
    finally:
        c.close()

    lost = acked - set(seen)
    duplicated = {s for s, n in seen.items() if n > 1}
    print(f"\n{len(acked)} acknowledged, {len(failed)} failed (may or may not be stored; "
          f"{len(failed & set(seen))} of them were), {len(seen)} distinct read, {len(lost)} lost, "
          f"{len(duplicated)} duplicated; leader node-{leader} killed after record {killed_at}")
    assert len(acked) + len(failed) == N_RECORDS
    assert len(acked) >= N_RECORDS * 0.99, "nearly every send should be acknowledged after the failover"
    assert not lost, f"{len(lost)} acknowledged records lost, e.g. {sorted(lost)[:5]}"
    assert not duplicated, f"{len(duplicated)} records stored twice, e.g. {sorted(duplicated)[:5]}"


# --------------------------------------------------------------------------- kafkalab.replication (chapter 10's helpers)
@pytest.fixture
def here(env, monkeypatch):
    """This process pointed at the test's three-broker cluster (kafkalab.cluster.broker reads the environment)."""
    for key in list(os.environ):  # single-port overrides of the caller's shell would win over the block's base
        if key.startswith("KAFKALAB_") and key.endswith("_PORT"):
            monkeypatch.delenv(key)
    for key in ("KAFKALAB_HOME", "KAFKALAB_PORT_BASE", "KAFKALAB_HEAP"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    from kafkalab.io.clients import admin
    from kafkalab.replication import Replicas

    a = admin(bootstrap_servers=ALL_NODES)
    yield Replicas(a)
    a.close()


ALL_NODES = ",".join(f"127.0.0.1:{ownlab.port('three-brokers', 'broker') + 2 * k}" for k in range(3))


def _three_way_topic(replicas, name: str) -> str:
    from kafkalab.io.topics import recreate_topic

    recreate_topic(name, partitions=3, replication=3, configs={"min.insync.replicas": "2"})
    replicas.wait_in_sync(name, timeout_s=30)
    return name


def _state(pid: int, want: str | None = None) -> str:
    """The process state letter in /proc (T = stopped); with ``want``, wait up to 5 s for it (signals are async)."""
    deadline = time.monotonic() + 5
    while True:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        if want is None or state == want or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


def test_replicas_report_leaders_and_the_isr(here):
    topic = _three_way_topic(here, "helpers-state")
    parts = here.partitions(topic)
    assert sorted(parts) == [0, 1, 2]
    for n, s in parts.items():
        assert sorted(s["replicas"]) == [1, 2, 3] and s["isr"] == [1, 2, 3] and s["leader"] in s["replicas"]
        assert parts[here.led_by(topic, s["leader"])]["leader"] == s["leader"]
    table = here.table(topic)
    assert list(table.index) == [0, 1, 2]
    assert list(table["preferred leader"]) == [parts[n]["replicas"][0] for n in (0, 1, 2)]


def test_watch_gives_up_with_the_last_state_it_saw(here):
    topic = _three_way_topic(here, "helpers-watch")
    from kafkalab.errors import LabError

    with pytest.raises(LabError, match=r"partition 0 of helpers-watch .*\(last seen: leader \d, ISR \[1, 2, 3\]\)"):
        here.watch(topic, 0, lambda s: False, timeout_s=0.5)
    seen = here.watch(topic, 0, lambda s: len(s["isr"]) == 3)
    assert len(seen) == 1 and seen[0][2] == [1, 2, 3]


def test_frozen_pauses_nodes_and_resumes_them_even_after_an_error(here):
    from kafkalab.cluster import broker
    from kafkalab.replication import frozen

    with pytest.raises(ZeroDivisionError):
        with frozen([2]) as pids:
            assert _state(pids[0], want="T") == "T"  # stopped by SIGSTOP
            1 / 0
    assert _state(broker.node_pid(2), want="S") != "T"  # resumed (sleeping or running)
    here.wait_in_sync("helpers-state", timeout_s=60)


def test_nodes_restored_brings_back_a_killed_node(here):
    from kafkalab.cluster import broker
    from kafkalab.replication import nodes_restored

    with nodes_restored():
        broker.kill_node(3)
        assert broker.node_pid(3) is None
    assert broker.node_pid(3) is not None
    here.wait_in_sync("helpers-state", timeout_s=60)


def test_payments_are_acknowledged_and_read_back_once(here):
    from kafkalab.io.clients import producer
    from kafkalab.io.read import read_to_end
    from kafkalab.io.topics import end_offsets
    from kafkalab.replication import Payments

    topic = _three_way_topic(here, "helpers-payments")
    with Payments(producer(bootstrap_servers=ALL_NODES, acks="all", linger_ms=5), topic, rate=500) as payments:
        time.sleep(1)
    assert payments.sent > 100 and not payments.failed
    assert sorted(payments.acked) == list(range(payments.sent))
    ends = end_offsets(topic)
    assert sum(ends.values()) == payments.sent
    ids = [json.loads(r.value)["payment_id"] for r in read_to_end(topic, until=ends, bootstrap_servers=ALL_NODES)]
    assert sorted(ids) == list(range(payments.sent))

"""Three brokers: the cluster forms, and acknowledged records survive a leader killed with SIGKILL.

Runs its own three-node KRaft cluster on spare ports (19392..19397) with its own data folder.
"""
from __future__ import annotations

import collections
import os
import signal
import threading
import time

import pytest

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle

BOOTSTRAP = "127.0.0.1:19392"
N_RECORDS = 100_000
TOPIC = "replication-zero-loss"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    e = ownlab.lab_env(tmp_path_factory.mktemp("three-brokers"), heap="320m", KAFKALAB_BROKER_PORT=19392,
                       KAFKALAB_CONTROLLER_PORT=19393)
    res = lab(e, "up", "--brokers", "3")
    assert res.returncode == 0, res.stderr
    yield e
    lab(e, "down", "-q")


lab = ownlab.lab


def node_pid(env, node_id: int) -> int | None:
    return next(iter(ownlab.jvms(env, f"node-{node_id}")), None)


def test_three_voters_and_three_brokers(env):
    from kafkalab.clients import admin

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

    from kafkalab.clients import admin, consumer, producer

    a = admin(bootstrap_servers=BOOTSTRAP)
    try:
        a.create_topics([NewTopic(TOPIC, 3, 3, topic_configs={"min.insync.replicas": "2"})])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            parts = a.describe_topics([TOPIC])[0]["partitions"]
            if len(parts) == 3 and all(len(p["isr_nodes"]) == 3 for p in parts):
                break
            time.sleep(0.2)
        leader = next(p["leader_id"] for p in a.describe_topics([TOPIC])[0]["partitions"] if p["partition_index"] == 0)
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

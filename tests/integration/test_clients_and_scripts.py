"""The course's clients, scripts and tool wrappers against the live course cluster."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kafkalab.cluster.tools import kafka_topics, run_tool
from kafkalab.config import REPO
from kafkalab.errors import LabError
from kafkalab.io import clients, topics


def script(name: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "scripts" / name), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_seed_commands_work_with_the_same_arguments(topic, live_cluster):
    seed = live_cluster.replace("127.0.0.1:", "localhost:")  # the course notes type localhost
    created = kafka_topics(f"--create --topic {topic} --bootstrap-server {seed} --partitions 2")
    assert created.strip() == f"Created topic {topic}."
    assert topic in kafka_topics(f"--list --bootstrap-server {seed}").split()
    described = kafka_topics(f"--describe --topic {topic} --bootstrap-server {seed}")
    assert "PartitionCount: 2" in described
    with pytest.raises(LabError, match="already exists"):
        kafka_topics(f"--create --topic {topic} --bootstrap-server {seed} --partitions 2")


def test_producer_and_consumer_scripts_round_trip(topic):
    topics.recreate_topic(topic, partitions=2)
    sent = script("producer.py", "--topic", topic, "--count", "25")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.strip().endswith(f"25 events sent to {topic}")
    got = script("consumer.py", "--topic", topic, "--count", "25", "--timeout", "10")
    assert got.returncode == 0, got.stderr
    rows = [line.split(None, 3) for line in got.stdout.splitlines()[1:-1]]
    assert len(rows) == 25
    per_partition: dict[str, list[int]] = {}
    for partition, offset, key, value in rows:
        assert json.loads(value)["customer_id"] == key
        per_partition.setdefault(partition, []).append(int(offset))
    assert all(offs == sorted(offs) for offs in per_partition.values())  # order holds within a partition
    assert sum(topics.end_offsets(topic).values()) == 25


def test_scripts_help_and_bad_input():
    for name in ("producer.py", "consumer.py"):
        res = script(name, "--help")
        assert res.returncode == 0 and "--bootstrap-server" in res.stdout and "--count" in res.stdout
    bad = script("producer.py", "--count", "-3")
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --count -3: give 0 or more events"


def test_scripts_report_a_dead_cluster_in_one_line():
    res = script("producer.py", "--bootstrap-server", "127.0.0.1:1", "--count", "1", timeout=30)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no Kafka answers at 127.0.0.1:1" in res.stderr


def test_same_key_same_partition(topic):
    topics.recreate_topic(topic, partitions=4)
    with clients.producer() as p:
        parts = {p.send(topic, key=b"C007", value=b"x").get(timeout=10).partition for _ in range(20)}
    assert len(parts) == 1


def test_recreate_topic_empties_it(topic):
    topics.recreate_topic(topic, partitions=1)
    with clients.producer() as p:
        p.send(topic, value=b"old").get(timeout=10)
    topics.recreate_topic(topic, partitions=3)
    assert topics.end_offsets(topic) == {0: 0, 1: 0, 2: 0}


def test_consumer_group_tool_lists_and_describes_a_group_we_made(topic, live_cluster):
    topics.recreate_topic(topic, partitions=2)
    with clients.producer() as p:
        for i in range(6):
            p.send(topic, key=str(i).encode(), value=b"x")
    group = f"{topic}-group"
    c = clients.consumer(topic, group_id=group, enable_auto_commit=False, consumer_timeout_ms=5000)
    try:
        assert len(list(c)) == 6
        c.commit()
    finally:
        c.close()
    listed = run_tool("kafka-consumer-groups", f"--bootstrap-server {live_cluster} --list").stdout.split()
    assert group in listed
    described = run_tool("kafka-consumer-groups", f"--bootstrap-server {live_cluster} --describe --group {group}").stdout
    rows = [line.split() for line in described.splitlines() if line.startswith(group)]
    assert sorted((r[1], r[2], r[3]) for r in rows) == sorted((topic, str(p), str(n)) for p, n in
                                                              topics.end_offsets(topic).items())

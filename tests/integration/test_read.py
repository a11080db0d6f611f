"""kafkalab.io.read.read_to_end and the client factory's defaults, against the live course cluster."""
from __future__ import annotations

import time

import pytest

from kafkalab.config import bootstrap_servers
from kafkalab.errors import LabError
from kafkalab.io import clients, topics
from kafkalab.io.read import ReadTimeout, read_to_end


def fill(topic: str, per_partition: dict[int, int]) -> None:
    with clients.producer() as p:
        for partition, n in per_partition.items():
            for i in range(n):
                p.send(topic, key=f"k{partition}".encode(), value=f"{partition}-{i}".encode(), partition=partition)
        p.flush()


def test_reads_every_partition_to_its_end_in_partition_and_offset_order(topic):
    topics.recreate_topic(topic, partitions=3)
    fill(topic, {2: 4, 0: 3, 1: 0})
    got = read_to_end(topic)
    assert [(r.partition, r.offset, r.value) for r in got] == (
        [(0, i, f"0-{i}".encode()) for i in range(3)] + [(2, i, f"2-{i}".encode()) for i in range(4)])
    again = read_to_end(topic)  # no group, nothing committed: a second read gets the same records
    assert [(r.partition, r.offset) for r in again] == [(r.partition, r.offset) for r in got]


def test_partitions_start_and_until_narrow_the_reading(topic):
    topics.recreate_topic(topic, partitions=2)
    fill(topic, {0: 5, 1: 5})
    assert [r.offset for r in read_to_end(topic, partitions=[1], start={1: 3})] == [3, 4]
    assert [(r.partition, r.offset) for r in read_to_end(topic, until={0: 2})] == [(0, 0), (0, 1)]
    with pytest.raises(LabError, match=f"topic {topic} has no partition 7"):
        read_to_end(topic, partitions=[7])


def test_a_timeout_raises_with_what_was_read_so_far(topic):
    topics.recreate_topic(topic, partitions=1)
    fill(topic, {0: 5})
    t0 = time.monotonic()
    with pytest.raises(ReadTimeout) as e:
        read_to_end(topic, until={0: 8}, timeout_s=1)  # three records that will never come
    assert time.monotonic() - t0 < 10
    assert [r.offset for r in e.value.records] == [0, 1, 2, 3, 4]  # nothing is thrown away silently
    message = str(e.value)
    assert isinstance(e.value, LabError) and "\n" not in message
    assert f"reading {topic} to its end did not happen within 1 s" in message
    assert "5 records read; partition 0 at 5 of 8" in message and "doctor" in message


def test_a_missing_topic_is_one_line_at_once(topic):
    t0 = time.monotonic()
    with pytest.raises(LabError, match=f"topic {topic} does not exist .*; create it with this"):
        read_to_end(topic, missing_fix="create it with this")
    assert time.monotonic() - t0 < 5


def test_committed_only_skips_an_aborted_transaction(topic):
    topics.recreate_topic(topic, partitions=1)
    with clients.producer(transactional_id=f"{topic}-tx") as p:
        p.init_transactions()
        p.begin_transaction()
        p.send(topic, value=b"kept")
        p.commit_transaction()
        p.begin_transaction()
        p.send(topic, value=b"aborted")
        p.flush()
        p.abort_transaction()
    assert [r.value for r in read_to_end(topic, committed_only=True)] == [b"kept"]
    assert [r.value for r in read_to_end(topic)] == [b"kept", b"aborted"]


def test_the_factory_applies_classroom_defaults_then_overrides():
    c = clients.consumer(session_timeout_ms=7000)
    p = clients.producer(linger_ms=7)
    a = clients.admin()
    try:
        assert (c.config["auto_offset_reset"], c.config["consumer_timeout_ms"]) == ("earliest", 5000)
        assert (c.config["session_timeout_ms"], c.config["bootstrap_timeout_ms"]) == (7000, 5000)
        assert (p.config["linger_ms"], p.config["request_timeout_ms"]) == (7, 15000)
        assert a.config["request_timeout_ms"] == 15000
        assert c.config["bootstrap_servers"] == bootstrap_servers()
    finally:
        c.close()
        p.close()
        a.close()

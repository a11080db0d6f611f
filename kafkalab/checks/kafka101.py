"""Checkers for "Starting Kafka 101" (notebooks/01_kafka101.ipynb)."""
from __future__ import annotations

from kafka.partitioner.default import murmur2

from ..io.topics import end_offsets
from . import passed


def check_partition_of_key(key: str, answer: int, partitions: int = 2) -> None:
    """Exercise 1: which partition does the default partitioner pick for ``key``?"""
    assert isinstance(answer, int), f"give the partition as an int, not {type(answer).__name__}"
    assert 0 <= answer < partitions, f"partitions are numbered 0..{partitions - 1}; {answer} does not exist"
    expected = (murmur2(key.encode()) & 0x7FFFFFFF) % partitions  # Kafka's default partitioner for keyed records
    assert answer == expected, (
        f"key {key!r} goes to partition {expected}, not {answer}. The partition comes from murmur2(key bytes) "
        f"modulo the partition count; did you produce with a key, and to a topic with {partitions} partitions?"
    )
    passed(f"key {key!r} always lands in partition {expected} of a {partitions}-partition topic")


def check_records_per_partition(topic: str, answer: dict[int, int]) -> None:
    """Exercise 2: how many records does each partition of ``topic`` hold?"""
    assert isinstance(answer, dict), "answer with a dict {partition: number of records}"
    actual = end_offsets(topic)
    assert actual, f"topic {topic!r} has no partitions: did you create it?"
    assert set(answer) == set(actual), f"{topic} has partitions {sorted(actual)}, your answer names {sorted(answer)}"
    for p, n in actual.items():
        assert answer[p] == n, (
            f"partition {p} holds {n} records, not {answer[p]}. Read the end offsets (the offset the next "
            f"record would get), not the number of records you printed from one consumer poll."
        )
    passed(f"{topic} holds {sum(actual.values())} records: {actual}")

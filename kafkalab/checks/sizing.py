"""Checkers for "Calculating partitions and consumers" (notebooks/10_sizing.ipynb).

The expected answers come from ``kafkalab.sizing``, the calculator the chapter teaches; the assert messages
name the mistakes people make most often with it.
"""
from __future__ import annotations

import math
import numbers

from ..sizing import KB, KiB, MB, MiB, Assumptions, Workload, partitions_needed, size_workload
from . import passed


def _whole(answer: object, what: str) -> int:
    """The answer as an int, or an AssertionError saying why it is not one."""
    assert answer is not None, f"replace None with your answer: the number of {what}"
    assert not isinstance(answer, bool), f"answer with a number of {what}, not True/False"
    if isinstance(answer, numbers.Real) and not isinstance(answer, numbers.Integral):
        assert float(answer).is_integer(), (
            f"{answer} is not a whole number of {what}: Kafka has no fraction of a partition or a consumer, so "
            f"round up (math.ceil), never to the nearest")
        answer = int(answer)
    assert isinstance(answer, numbers.Integral), f"answer with a whole number of {what}, not {type(answer).__name__}"
    return int(answer)


def check_partitions(
    answer: object,
    rate: float = 25_000,
    size_bytes: float = 2 * KB,
    producer_bytes_per_s: float = 5 * MB,
    consumer_bytes_per_s: float = 2 * MB,
) -> None:
    """Exercise 1: partitions for ``rate`` messages/s of ``size_bytes`` with per-partition limits p and c."""
    n = _whole(answer, "partitions")
    t = rate * size_bytes
    p, c = producer_bytes_per_s, consumer_bytes_per_s
    expected = partitions_needed(t, p, c)
    if n != expected:
        hints = []
        if n == math.ceil(t / p) and p != c:
            hints.append("you divided by p only: a partition must also be drained by one consumer at c bytes/s, "
                         "and the smaller of p and c is the limit that binds")
        if n == math.ceil(t / c) and p != c:
            hints.append("you divided by c only; here the producer limit p is the smaller one")
        if n == partitions_needed(t, MB, MB) and MB not in (p, c):
            hints.append("you used the seed's 1 MB/s per partition instead of the p and c in the question")
        if n == partitions_needed(rate * size_bytes / KB * KiB, p, c):
            hints.append("you counted a KB as 1024 bytes: in this course 1 KB = 1000 bytes and 1 MB = 1,000,000")
        if n == partitions_needed(t, p / MB * MiB, c / MB * MiB) and n != partitions_needed(t, p, c):
            hints.append("you counted a MB as 1,048,576 bytes: in this course 1 MB = 1,000,000 bytes")
        if n == math.floor(max(t / p, t / c)):
            hints.append("round up: a fraction of a partition's capacity still needs a whole partition")
        if n == math.ceil(t / (p + c)):
            hints.append("p and c do not add up: every byte is both written (limit p) and read (limit c) "
                         "by the same partition, so take the larger of T/p and T/c")
        if not hints:
            hints.append(f"throughput T = rate × size = {t / MB:g} MB/s; partitions = ceil(max(T/p, T/c))")
        raise AssertionError(f"{n} is not the number of partitions needed: " + "; ".join(hints))
    binding = "consumer" if t / c > t / p else "producer" if t / p > t / c else "producer and consumer"
    passed(f"{rate:,.0f} msg/s × {size_bytes / KB:g} KB = {t / MB:g} MB/s needs {expected} partitions; "
           f"the {binding} limit binds")


def check_useful_consumers(answer: object, partitions: int = 25, instances: int = 40) -> None:
    """Exercise 2: how many of ``instances`` consumers in one group get a partition to read?"""
    n = _whole(answer, "consumers")
    expected = min(partitions, instances)
    idle = instances - expected
    assert n != instances or instances <= partitions, (
        f"not all {instances} consumers work: within one group each partition is read by exactly one consumer, "
        f"so a topic with {partitions} partitions keeps at most {partitions} consumers busy")
    assert n != idle or idle == expected, (
        f"{n} is the number of idle consumers; the question asks how many are useful")
    assert n <= expected, f"{n} is more than the {partitions} partitions the group can hand out"
    assert n == expected, (
        f"{n} is too few: the group coordinator gives every partition to some member, and with {instances} "
        f"members for {partitions} partitions every partition has one")
    passed(f"{expected} consumers read one partition each; the other {idle} sit idle until a member leaves "
           f"or the topic gets more partitions")


def check_network_out(
    answer_mb_per_s: object,
    rate: float = 10_000,
    size_bytes: float = 1 * KB,
    replication_factor: int = 3,
    consumer_groups: int = 2,
) -> None:
    """Exercise 3: bytes leaving the leaders (to consumer groups and followers), in MB/s."""
    assert answer_mb_per_s is not None, "replace None with your answer in MB/s"
    assert isinstance(answer_mb_per_s, numbers.Real) and not isinstance(answer_mb_per_s, bool), (
        f"answer with a number of MB/s, not {type(answer_mb_per_s).__name__}")
    got = float(answer_mb_per_s)
    result = size_workload(Workload("exercise", rate, size_bytes),
                           Assumptions(replication_factor=replication_factor, consumer_groups=consumer_groups))
    expected = result.network_out_bytes_per_s / MB
    t = result.throughput_bytes_per_s / MB

    def near(x: float) -> bool:
        return math.isclose(got, x, rel_tol=1e-6)

    if not near(expected):
        hints = []
        if near(expected * MB):
            hints.append("that is bytes/s; answer in MB/s (divide by 1,000,000)")
        if near(expected * MB / MiB):
            hints.append("that is MiB/s; answer in decimal MB/s (1 MB = 1,000,000 bytes)")
        if near(t * replication_factor):
            hints.append(f"that is the seed's '× {replication_factor}': it counts the replication copies but only "
                         f"one consumer group; each of the {consumer_groups} groups reads the whole topic")
        if near(t * consumer_groups):
            hints.append(f"if you counted the consumer groups, add replication: the leader also sends "
                         f"(RF − 1) × T = {(replication_factor - 1) * t:g} MB/s to its followers")
        if near(t * (replication_factor - 1)):
            hints.append(f"if you counted replication, add the consumers: each of the {consumer_groups} groups "
                         f"reads T = {t:g} MB/s")
        if near(t * replication_factor * consumer_groups):
            hints.append("replication happens once per write, not once per consumer group")
        if near(t):
            hints.append("that is the network in (what producers send); count what leaves the leaders")
        if not hints:
            hints.append(f"T = {t:g} MB/s; network out = T × consumer groups + (RF − 1) × T")
        raise AssertionError(f"{got:g} MB/s is not the network out: " + "; ".join(hints))
    passed(f"{consumer_groups} groups × {t:g} MB/s + ({replication_factor} − 1) × {t:g} MB/s of replication "
           f"= {expected:g} MB/s leaving the leaders")

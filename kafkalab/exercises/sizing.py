"""Exercises of "Calculating partitions and consumers" (notebooks/10_sizing.ipynb).

The expected answers come from ``kafkalab.sizing``, the calculator the chapter teaches; the messages name the
mistakes people make most often with it. The reference answers in the tests use the formulas written out.
"""
from __future__ import annotations

import math
import numbers

from . import _lab
from .answers import type_name
from .core import Mistake, exercise
from .verdicts import NotYet, WrongType

CHAPTER = "sizing"
KB, MB, KiB, MiB = 1000, 1_000_000, 1024, 1024 * 1024  # the course's units (as kafkalab.sizing defines them)


def _whole(answer: object, what: str) -> int:
    """The answer as an int, or a one-line WrongType saying why it is not one."""
    if isinstance(answer, bool):
        raise WrongType(f"answer with a number of {what}, not True/False")
    if isinstance(answer, numbers.Real) and not isinstance(answer, numbers.Integral):
        if not float(answer).is_integer():
            raise WrongType(f"{answer} is not a whole number of {what}: Kafka has no fraction of a partition or a "
                            f"consumer, so round up (math.ceil), never to the nearest")
        answer = int(answer)
    if not isinstance(answer, numbers.Integral):
        raise WrongType(f"answer with a whole number of {what}, not {type_name(answer)}")
    return int(answer)


# ----------------------------------------------------------------------------------------------- Exercise 1

_RATE, _SIZE, _P, _C = 25_000, 2 * KB, 5 * MB, 2 * MB


@exercise(
    CHAPTER,
    title="Partitions for a click stream",
    kind="concept",
    expects="a whole number of partitions",
    hints=[
        "First the throughput: T = messages per second x message size, in bytes per second (1 KB = 1000 bytes).",
        "Each partition must take T/partitions from the producers (at most p) AND hand it to one consumer (at most "
        "c): partitions = ceil(max(T/p, T/c)).",
    ],
    solution='''
partitions_solution = size_workload(
    Workload("clicks", rate=25_000, size_bytes=2 * KB),
    Assumptions(producer_bytes_per_s=5 * MB, consumer_bytes_per_s=2 * MB),
).partitions
''',
    reference=lambda ctx: math.ceil(max(_RATE * _SIZE / _P, _RATE * _SIZE / _C)),
    mistakes=[
        Mistake("you divided by p only", answer=10),
        Mistake("you used the seed's 1 MB/s per partition", answer=50),
        Mistake("you counted a KB as 1024 bytes", answer=26),
        Mistake("you counted a MB as 1,048,576 bytes", answer=24),
        Mistake("p and c do not add up", answer=8),
        Mistake("throughput T = rate × size = 50 MB/s", answer=30),
        Mistake("round up (math.ceil), never to the nearest", answer=24.5, kind="wrong type"),
        Mistake("answer with a number of partitions, not True/False", answer=True, kind="wrong type"),
        Mistake("answer with a whole number of partitions, not str", answer="25", kind="wrong type"),
    ],
)
def click_partitions(answer, *, rate: float = _RATE, size_bytes: float = _SIZE, producer_bytes_per_s: float = _P,
               consumer_bytes_per_s: float = _C) -> str:
    """Exercise 1: partitions for ``rate`` messages/s of ``size_bytes`` with per-partition limits p and c."""
    partitions_needed = _lab.sizing().partitions_needed
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
        raise NotYet(f"{n} is not the number of partitions needed: " + "; ".join(hints))
    binding = "consumer" if t / c > t / p else "producer" if t / p > t / c else "producer and consumer"
    return (f"{rate:,.0f} msg/s × {size_bytes / KB:g} KB = {t / MB:g} MB/s needs {expected} partitions; the "
            f"{binding} limit binds")


# ----------------------------------------------------------------------------------------------- Exercise 2


@exercise(
    CHAPTER,
    title="Useful consumers in one group",
    kind="concept",
    expects="a whole number of consumers",
    hints=[
        "Within one consumer group, each partition is read by exactly one member.",
        "So a group keeps at most as many members busy as the topic has partitions: min(partitions, instances).",
    ],
    solution='''
consumers_solution = min(partitions_solution, 40)  # one consumer per partition at most; the rest wait
''',
    reference=lambda ctx: min(25, 40),
    mistakes=[
        Mistake("not all 40 consumers work", answer=40),
        Mistake("is the number of idle consumers", answer=15),
        Mistake("is more than the 25 partitions", answer=30),
        Mistake("is too few", answer=20),
        Mistake("is not a whole number of consumers", answer=25.5, kind="wrong type"),
    ],
)
def useful_consumers(answer, *, partitions: int = 25, instances: int = 40) -> str:
    """Exercise 2: how many of ``instances`` consumers in one group get a partition to read?"""
    n = _whole(answer, "consumers")
    expected = min(partitions, instances)
    idle = instances - expected
    if n == instances and instances > partitions:
        raise NotYet(f"not all {instances} consumers work: within one group each partition is read by exactly one "
                     f"consumer, so a topic with {partitions} partitions keeps at most {partitions} consumers busy")
    if n == idle and idle != expected:
        raise NotYet(f"{n} is the number of idle consumers; the question asks how many are useful")
    if n > expected:
        raise NotYet(f"{n} is more than the {partitions} partitions the group can hand out")
    if n != expected:
        raise NotYet(f"{n} is too few: the group coordinator gives every partition to some member, and with "
                     f"{instances} members for {partitions} partitions every partition has one")
    return (f"{expected} consumers read one partition each; the other {idle} sit idle until a member leaves or the "
            f"topic gets more partitions")


# ----------------------------------------------------------------------------------------------- Exercise 3

_RT_RATE, _RT_SIZE, _RF, _GROUPS = 10_000, 1 * KB, 3, 2


def _network_out_by_hand(ctx: dict) -> float:
    t = _RT_RATE * _RT_SIZE / MB
    return t * _GROUPS + (_RF - 1) * t


@exercise(
    CHAPTER,
    title="Network out of the leaders",
    kind="concept",
    expects="a number of MB/s",
    hints=[
        "Everything a leader sends counts: each consumer group reads the whole topic, and each follower copies it.",
        "Network out = T × consumer groups + (replication factor − 1) × T, with T in MB/s "
        "(1 MB = 1,000,000 bytes).",
    ],
    solution='''
realtime = size_workload(SEED_WORKLOADS[1], Assumptions(replication_factor=3, consumer_groups=2))
network_out_solution = realtime.network_out_bytes_per_s / MB  # 2 groups × 10 MB/s + (3 − 1) × 10 MB/s
''',
    reference=_network_out_by_hand,
    mistakes=[
        Mistake("that is bytes/s", answer=40_000_000),
        Mistake("that is MiB/s", answer=40 * MB / MiB),
        Mistake("that is the seed's '× 3'", answer=30),
        Mistake("if you counted the consumer groups, add replication", answer=20),
        Mistake("replication happens once per write", answer=60),
        Mistake("that is the network in", answer=10),
        Mistake("network out = T × consumer groups + (RF − 1) × T", answer=45),
        Mistake("answer with a number of MB/s, not str", answer="40", kind="wrong type"),
    ],
)
def network_out(answer_mb_per_s, *, rate: float = _RT_RATE, size_bytes: float = _RT_SIZE,
                replication_factor: int = _RF, consumer_groups: int = _GROUPS) -> str:
    """Exercise 3: bytes leaving the leaders (to consumer groups and followers), in MB/s."""
    if isinstance(answer_mb_per_s, bool) or not isinstance(answer_mb_per_s, numbers.Real):
        raise WrongType(f"answer with a number of MB/s, not {type_name(answer_mb_per_s)}")
    sizing = _lab.sizing()
    got = float(answer_mb_per_s)
    result = sizing.size_workload(sizing.Workload("exercise", rate, size_bytes),
                                  sizing.Assumptions(replication_factor=replication_factor,
                                                     consumer_groups=consumer_groups))
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
        raise NotYet(f"{got:g} MB/s is not the network out: " + "; ".join(hints))
    return (f"{consumer_groups} groups × {t:g} MB/s + ({replication_factor} − 1) × {t:g} MB/s of replication = "
            f"{expected:g} MB/s leaving the leaders")

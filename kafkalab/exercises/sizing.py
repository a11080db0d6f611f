"""Exercises of "Calculating partitions and consumers" (notebooks/10_sizing.ipynb).

The expected answers come from ``kafkalab.sizing``, the calculator the chapter teaches; the messages name the
mistakes people make most often with it. The reference answers in the tests use the formulas written out.
Exercise 4 (:func:`sized_topic`) has the learner create a topic for a workload with the admin client, and
describes it back from the cluster.
"""
from __future__ import annotations

import contextlib
import math
import numbers

from . import _lab
from .answers import type_name
from .core import Mistake, call_learner, exercise
from .scratch import unique_name
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



# ----------------------------------------------------------------------------------------------- Exercise 4

#: The order stream of Exercise 4 and what the team knows about its cluster.
ORDERS_RATE, ORDERS_SIZE, ORDERS_PEAK = 4_000, 1.5 * KB, 2
ORDERS_P, ORDERS_C, ORDERS_RF, ORDERS_RETENTION_HOURS = 2 * MB, 1.2 * MB, 3, 72
DAY_MS = 24 * 3600 * 1000


def orders_workload():
    """``Workload("orders", rate=4_000, size_bytes=1.5 * KB, peak_factor=2)``."""
    return _lab.sizing().Workload("orders", rate=ORDERS_RATE, size_bytes=ORDERS_SIZE, peak_factor=ORDERS_PEAK)


def orders_cluster():
    """``Assumptions(producer_bytes_per_s=2 * MB, consumer_bytes_per_s=1.2 * MB, replication_factor=3,
    retention_hours=72)``."""
    return _lab.sizing().Assumptions(producer_bytes_per_s=ORDERS_P, consumer_bytes_per_s=ORDERS_C,
                                     replication_factor=ORDERS_RF, retention_hours=ORDERS_RETENTION_HOURS)


def _orders_plan() -> dict:
    """The reference, by hand: partitions for the peak, replicas the cluster can hold, retention in ms."""
    t = ORDERS_RATE * ORDERS_SIZE * ORDERS_PEAK
    brokers = len(_lab.describe_cluster()["brokers"])
    return {"partitions": math.ceil(max(t / ORDERS_P, t / ORDERS_C)), "replicas": min(ORDERS_RF, brokers),
            "retention.ms": ORDERS_RETENTION_HOURS * 3600 * 1000, "brokers": brokers}


def _describe(topic: str) -> dict | None:
    """Partitions, replicas per partition and retention.ms (with where it comes from) of ``topic``; None if absent."""
    from kafka.admin import ConfigResource, ConfigResourceType

    with contextlib.closing(_lab.admin()) as a:
        if topic not in a.list_topics():
            return None
        parts = a.describe_topics([topic])[0]["partitions"]
        found = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, {"retention.ms": None})],
                                   config_filter="all")
    entry = found.get("topic", {}).get(topic, {}).get("retention.ms", {})
    return {"partitions": len(parts), "replicas": max((len(p["replica_nodes"]) for p in parts), default=0),
            "retention.ms": int(entry.get("value", 0)), "default": entry.get("config_source") == "DEFAULT_CONFIG"}


def _ms_in_words(ms: int) -> str:
    if ms < 0:
        return "forever"
    for unit, name in ((DAY_MS, "day"), (3_600_000, "hour"), (60_000, "minute"), (1000, "second")):
        if ms >= unit:
            n = ms / unit
            return f"{n:.3g} {name}{'s' if n != 1 else ''}"
    return f"{ms} ms"


def _refused_replicas(e: Exception, plan: dict) -> NotYet | None:
    if type(e).__name__ != "InvalidReplicationFactorError":
        return None
    return NotYet(f"the cluster refused the replication factor: it has {plan['brokers']} broker"
                  f"{'s' if plan['brokers'] != 1 else ''}, and a topic cannot have more copies than brokers. Ask the "
                  f"admin client how many there are (len(admin.describe_cluster()[\"brokers\"])) and create "
                  f"min(3, brokers) replicas")


def _orders_topic(admin, topic, partitions, replicas=1, configs=None):
    from kafka.admin import NewTopic

    admin.create_topics([NewTopic(topic, partitions, replicas, topic_configs=configs or {})])


def _three_days():
    return {"retention.ms": str(ORDERS_RETENTION_HOURS * 3_600_000)}


def _sized_for_the_average(admin, topic):
    _orders_topic(admin, topic, 5, configs=_three_days())


def _divided_by_p_only(admin, topic):
    _orders_topic(admin, topic, 6, configs=_three_days())


def _kib_messages(admin, topic):
    _orders_topic(admin, topic, 11, configs=_three_days())


def _p_plus_c(admin, topic):
    _orders_topic(admin, topic, 4, configs=_three_days())


def _three_replicas_anyway(admin, topic):
    _orders_topic(admin, topic, 10, replicas=3, configs=_three_days())


def _no_retention(admin, topic):
    _orders_topic(admin, topic, 10)


def _retention_in_seconds(admin, topic):
    _orders_topic(admin, topic, 10, configs={"retention.ms": str(3 * 24 * 3600)})


def _forgets_to_create(admin, topic):
    from kafka.admin import NewTopic

    return NewTopic(topic, 10, 1, topic_configs=_three_days())


@exercise(
    CHAPTER,
    title="Size the order stream and create its topic",
    kind="code",
    expects="a function create_orders_topic(admin, topic)",
    hints=[
        "First the plan: `size_workload(ORDERS, ORDERS_CLUSTER)` gives the partitions (size for the peak: the "
        "workload's peak_factor is 2). Then create the topic with `admin.create_topics([NewTopic(topic, partitions, "
        "replicas, topic_configs={...})])`, using the name your function is given.",
        "Replicas: the team wants 3, but a topic cannot have more copies than the cluster has brokers: "
        "`min(3, len(admin.describe_cluster()[\"brokers\"]))`.",
        "Retention is the topic setting `retention.ms`, in milliseconds: 72 hours is 72 × 3600 × 1000 ms. Give it "
        "as text: `topic_configs={\"retention.ms\": str(...)}`.",
    ],
    solution='''
from kafka.admin import NewTopic

from kafkalab.exercises.sizing import ORDERS, ORDERS_CLUSTER
from kafkalab.sizing import size_workload


def create_orders_topic_sized(admin, topic):
    """Create topic for the order stream: the calculator's partitions, min(3, brokers) replicas, 72 hours."""
    plan = size_workload(ORDERS, ORDERS_CLUSTER)
    brokers = len(admin.describe_cluster()["brokers"])
    replicas = min(plan.assumptions.replication_factor, brokers)
    retention_ms = int(plan.assumptions.retention_hours * 3600 * 1000)
    admin.create_topics([NewTopic(topic, plan.partitions, replicas,
                                  topic_configs={"retention.ms": str(retention_ms)})])
''',
    reference="create_orders_topic_sized",
    live=True,
    mistakes=[
        Mistake("you sized for the average", answer=_sized_for_the_average),
        Mistake("you divided by p only", answer=_divided_by_p_only),
        Mistake("you counted a KB as 1024 bytes", answer=_kib_messages),
        Mistake("p and c do not add up", answer=_p_plus_c),
        Mistake("a topic cannot have more copies than brokers", answer=_three_replicas_anyway),
        Mistake("Kafka's default", answer=_no_retention),
        Mistake("retention.ms counts milliseconds", answer=_retention_in_seconds),
        Mistake("does not exist after it ran", answer=_forgets_to_create),
    ],
)
def sized_topic(create_topic) -> str:
    """Exercise 4: ``create_topic(admin, topic)`` creates ``topic`` for the order stream: the partitions the
    calculator gives for its peak, min(3, brokers) replicas and 72 hours of retention. The checker calls it with an
    admin client and a fresh topic name, describes the topic (partitions, replicas, retention.ms) and deletes it."""
    plan = _orders_plan()
    topic = unique_name(CHAPTER, "orders")
    try:
        with contextlib.closing(_lab.admin()) as a:
            try:
                call_learner(create_topic, a, topic)
            except NotYet as e:
                cause = e.__context__
                refused = _refused_replicas(cause, plan) if cause is not None else None
                raise (refused or e) from None
        found = _describe(topic)
    finally:
        with contextlib.suppress(Exception):
            _lab.delete_topic(topic)
    if found is None:
        raise NotYet("the topic your function was given (its second argument) does not exist after it ran: build a "
                     "NewTopic with that name and pass it to admin.create_topics([...])")
    n, want = found["partitions"], plan["partitions"]
    t = ORDERS_RATE * ORDERS_SIZE * ORDERS_PEAK
    if n != want:
        hints = {
            math.ceil(max(t / ORDERS_P, t / ORDERS_C) / ORDERS_PEAK): "you sized for the average (6 MB/s); size for "
            "the peak, twice that: the workload's peak_factor is 2",
            math.ceil(t / ORDERS_P): "you divided by p only: each partition is also read by one consumer at c = "
            "1.2 MB/s, the smaller limit, so it binds",
            math.ceil(t / KB * KiB / ORDERS_C): "you counted a KB as 1024 bytes: in this course 1 KB = 1000 bytes",
            math.ceil(t / (ORDERS_P + ORDERS_C)): "p and c do not add up: every byte is written to (limit p) and read "
            "from (limit c) the same partition, so take the larger of T/p and T/c",
        }
        raise NotYet(f"the topic has {n} partitions; the order stream needs {want} at its peak of {t / MB:g} MB/s: "
                     + hints.get(n, "partitions = ceil(max(T/p, T/c)) with T = rate × size × peak factor"))
    if found["replicas"] != plan["replicas"]:
        raise NotYet(f"each partition has {found['replicas']} replica(s); the team wants 3 and this cluster of "
                     f"{plan['brokers']} broker(s) can hold {plan['replicas']}: create min(3, brokers)")
    ms, want_ms = found["retention.ms"], plan["retention.ms"]
    if ms != want_ms:
        if found["default"]:
            raise NotYet(f"the topic keeps records for Kafka's default, retention.ms={ms} ({_ms_in_words(ms)}), not "
                         f"for 72 hours: set retention.ms in topic_configs")
        raise NotYet(f"retention.ms={ms} keeps records for {_ms_in_words(ms)}, not 72 hours: retention.ms counts "
                     f"milliseconds, so 72 hours is {want_ms}")
    r, b = found["replicas"], plan["brokers"]
    return (f"the topic has {n} partitions (12 MB/s at the peak against c = 1.2 MB/s: the consumer limit binds), "
            f"{r} replica{'s' if r != 1 else ''} per partition (the smaller of 3 and the cluster's {b} "
            f"broker{'s' if b != 1 else ''}) and retention.ms={ms}, 72 hours")


def __getattr__(name: str):
    """``ORDERS`` and ``ORDERS_CLUSTER`` (the notebook imports them) are built on first use: they need
    kafkalab.sizing."""
    if name == "ORDERS":
        return orders_workload()
    if name == "ORDERS_CLUSTER":
        return orders_cluster()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Exercises of "Starting Kafka 101" (the quick start, notebooks/01_kafka101.ipynb)."""
from __future__ import annotations

import contextlib
from collections import Counter, defaultdict
from typing import Iterator

from . import _lab
from .answers import need, type_name
from .core import Mistake, call_learner, exercise
from .scratch import scratch_topic
from .verdicts import NotYet, WrongType

CHAPTER = "kafka101"
TOPIC = "streamPayment"  # the chapter's topic (two partitions)

# ----------------------------------------------------------------------------------------------- Exercise 1


def _kafka_python_partition(key: str, partitions: int) -> int:
    """kafka-python's own murmur2 (not the course's copy the checker uses), as the reference answer."""
    from kafka.partitioner.default import murmur2

    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


@exercise(
    CHAPTER,
    title="Predict the partition of a key",
    kind="concept",
    expects="the partition number, an int (0 or 1)",
    hints=[
        "With a key, the producer does not choose at random: it hashes the key's bytes and takes the remainder "
        "by the number of partitions.",
        "`from kafka.partitioner.default import murmur2`; the partition is `(murmur2(b\"C007\") & 0x7FFFFFFF) % 2` "
        "(the mask clears the sign bit, as Kafka's Java client does).",
    ],
    solution='''
from kafka.partitioner.default import murmur2

from kafkalab.io.clients import producer

predicted_partition = (murmur2(b"C007") & 0x7FFFFFFF) % 2
with producer() as p:
    sent = p.send(TOPIC, key=b"C007", value=b'{"payment_id": "exercise"}').get(timeout=10)
print("predicted", predicted_partition, "- the broker stored it in partition", sent.partition)
''',
    reference=lambda ctx: _kafka_python_partition("C007", 2),
    mistakes=[
        Mistake("murmur2(key bytes) modulo the partition count",
                make=lambda ctx: 1 - _kafka_python_partition("C007", 2)),
        Mistake("partitions are numbered 0..1; 2 does not exist", answer=2),
        Mistake("give the partition as an int, not str", answer="1", kind="wrong type"),
        Mistake("give the partition as an int, not bool", answer=True, kind="wrong type"),
    ],
)
def partition_of_key(answer, *, key: str = "C007", partitions: int = 2) -> str:
    """Exercise 1: which partition does the default partitioner pick for ``key``?"""
    need(answer, int, "give the partition as an int")
    if not 0 <= answer < partitions:
        raise NotYet(f"partitions are numbered 0..{partitions - 1}; {answer} does not exist")
    expected = _lab.partitioner().partition_for(key, partitions)
    if answer != expected:
        raise NotYet(f"key {key!r} goes to partition {expected}, not {answer}. The partition comes from "
                     f"murmur2(key bytes) modulo the partition count; did you produce with a key, and to a topic "
                     f"with {partitions} partitions?")
    return (f"key {key!r} always lands in partition {expected} of a {partitions}-partition topic: murmur2 of its "
            f"bytes, modulo {partitions}, is the same on every producer")


# ----------------------------------------------------------------------------------------------- Exercise 2


@contextlib.contextmanager
def _two_partitions_with_records() -> Iterator[dict]:
    """A scratch topic like streamPayment: two partitions, 5 and 3 records."""
    produced = {0: 5, 1: 3}
    with scratch_topic(CHAPTER, "counts", partitions=2) as topic:
        with contextlib.closing(_lab.producer()) as p:
            for partition, n in produced.items():
                for i in range(n):
                    p.send(topic, value=f"record {i}".encode(), partition=partition)
            p.flush()
        yield {"topic": topic, "_produced": produced}


@exercise(
    CHAPTER,
    title="Count the records in each partition",
    kind="concept",
    expects="a dict {partition: number of records}",
    hints=[
        "Ask Kafka, not the printed lines: every partition has an end offset, the offset its next record will get.",
        "`notebook.end_offsets(TOPIC)` returns {partition: end offset}; on a topic that never lost records, that "
        "is the number of records in each partition.",
    ],
    solution='''
partition_counts = end_offsets(TOPIC)
print(partition_counts)
''',
    reference=lambda ctx: dict(ctx["_produced"]),
    rehearsal=_two_partitions_with_records,
    live=True,
    mistakes=[
        Mistake("the end offset is one past the last record",
                make=lambda ctx: {p: n - 1 for p, n in ctx["_produced"].items()}),
        Mistake("partition numbers are ints", make=lambda ctx: {str(p): n for p, n in ctx["_produced"].items()},
                kind="wrong type"),
        Mistake("your answer names [0]", make=lambda ctx: {0: ctx["_produced"][0]}),
        Mistake("not the number of records you printed from one consumer poll",
                make=lambda ctx: {0: ctx["_produced"][1], 1: ctx["_produced"][0]}),
        Mistake("answer with a dict {partition: number of records}",
                make=lambda ctx: sum(ctx["_produced"].values()), kind="wrong type"),
    ],
)
def records_per_partition(answer, *, topic: str = TOPIC) -> str:
    """Exercise 2: how many records does each partition of ``topic`` hold?"""
    need(answer, dict, "answer with a dict {partition: number of records}")
    actual = _lab.end_offsets(topic)
    if not actual:
        from ..errors import LabError

        raise LabError(f"topic {topic!r} has no partitions: did you create it? Run the chapter's cells from the top")
    if set(map(str, answer)) == set(map(str, actual)) and not all(isinstance(p, int) for p in answer):
        raise WrongType(f"partition numbers are ints ({', '.join(map(str, sorted(actual)))}), not "
                        f"{type_name(next(p for p in answer if not isinstance(p, int)))}")
    if set(answer) != set(actual):
        raise NotYet(f"{topic} has partitions {sorted(actual)}, your answer names {sorted(answer, key=str)}")
    for p, n in actual.items():
        if answer[p] == n - 1:
            raise NotYet(f"partition {p} holds {n} records, not {answer[p]}: its last record has offset {n - 1}, "
                         f"and the end offset is one past the last record")
        if answer[p] != n:
            raise NotYet(f"partition {p} holds {n} records, not {answer[p]}. Read the end offsets (the offset the "
                         f"next record would get), not the number of records you printed from one consumer poll.")
    return (f"{topic} holds {sum(actual.values())} records: {actual}. On a topic that never deleted records, each "
            f"partition's end offset is its number of records")


# ----------------------------------------------------------------------------------------------- Exercise 3

#: The customers whose payments Exercise 3 sends; their keys land in all three partitions of the scratch topic.
KEYED_CUSTOMERS = ("C002", "C007", "C011", "C014", "C019")
KEYED_PARTITIONS = 3


def keyed_exercise_payments() -> list[dict]:
    """The 24 payments Exercise 3 hands to the learner's function: the seeded stream's payments of five customers."""
    return [p for p in _lab.datagen().payments(200) if p["customer_id"] in KEYED_CUSTOMERS][:24]


def _exercise_producer():
    """A producer for the learner's function: str or bytes keys (both are common in examples), dict values as JSON."""
    import json

    from kafka.serializer import Serializer

    class Key(Serializer):
        def serialize(self, topic, headers, key):
            if key is None or isinstance(key, (bytes, bytearray)):
                return key
            return str(key).encode()

    class JsonValue(Serializer):
        def serialize(self, topic, headers, value):
            return json.dumps(value, separators=(",", ":")).encode()

    return _lab.producer(key_serializer=Key(), value_serializer=JsonValue())


def _spread(placed: dict[str, set[int]]) -> str:
    """The first customer whose payments ended up in several partitions, e.g. ``C007 in partitions 0 and 2``."""
    for customer, parts in sorted(placed.items()):
        if len(parts) > 1:
            *head, tail = sorted(parts)
            return f"{customer} in partitions {', '.join(map(str, head))} and {tail}"
    return ""


def _send_without_key(producer, topic, payments):
    for payment in payments:
        producer.send(topic, value=payment)


def _send_keyed_by_payment_id(producer, topic, payments):
    for payment in payments:
        producer.send(topic, key=payment["payment_id"], value=payment)


def _send_first_ten(producer, topic, payments):
    for payment in payments[:10]:
        producer.send(topic, key=payment["customer_id"], value=payment)


def _send_twice(producer, topic, payments):
    for payment in payments + payments:
        producer.send(topic, key=payment["customer_id"], value=payment)


def _send_all_to_partition_0(producer, topic, payments):
    for payment in payments:
        producer.send(topic, key=payment["customer_id"], value=payment, partition=0)


def _send_sorted_by_amount(producer, topic, payments):
    for payment in sorted(payments, key=lambda p: p["amount"]):
        producer.send(topic, key=payment["customer_id"], value=payment)


def _send_json_text(producer, topic, payments):
    import json

    for payment in payments:
        producer.send(topic, key=payment["customer_id"], value=json.dumps(payment))


def _send_with_a_typo(producer, topic, payments):
    for payment in payments:
        producer.send(topic, key=payment["customer"], value=payment)


def _send_nothing(producer, topic, payments):
    return len(payments)


@exercise(
    CHAPTER,
    title="Produce payments so that each customer stays in one partition",
    kind="code",
    expects="a function send_payments(producer, topic, payments)",
    hints=[
        "Which partition a record goes to depends on its key. Records without a key are spread over the partitions.",
        "Call `producer.send(topic, key=..., value=payment)` once per payment, in the order of the list. The "
        "producer turns a str key and a dict value into bytes for you.",
        "Use the customer id as the key: `key=payment[\"customer_id\"]`. Do not pass `partition=`: the key decides.",
    ],
    solution='''
def send_payments_keyed(producer, topic, payments):
    """Send each payment with its customer id as the key, in the list's order."""
    for payment in payments:
        producer.send(topic, key=payment["customer_id"], value=payment)
''',
    reference="send_payments_keyed",
    live=True,
    mistakes=[
        Mistake("have no key", answer=_send_without_key),
        Mistake("keyed by its payment id", answer=_send_keyed_by_payment_id),
        Mistake("10 of the 24 payments arrived", answer=_send_first_ten),
        Mistake("arrived 2 times", answer=_send_twice),
        Mistake("Kafka's default partitioner sends key", answer=_send_all_to_partition_0),
        Mistake("in a different order", answer=_send_sorted_by_amount),
        Mistake("JSON text", answer=_send_json_text),
        Mistake("your function raised KeyError: 'customer'", answer=_send_with_a_typo),
        Mistake("nothing arrived", answer=_send_nothing),
        Mistake("pass a function, not int", answer=3, kind="wrong type"),
    ],
)
def keyed_payments(send_payments, *, payments: list[dict] | None = None) -> str:
    """Exercise 3: ``send_payments(producer, topic, payments)`` must send every payment so that all of one
    customer's payments land in one partition. The checker runs it against a fresh three-partition topic of its
    own, reads the topic back, and compares placement, keys, count and order."""
    payments = [dict(p) for p in (payments or keyed_exercise_payments())]
    given = [dict(p) for p in payments]  # the learner's function may change its list; we keep ours
    with scratch_topic(CHAPTER, "keyed", partitions=KEYED_PARTITIONS) as topic:
        with contextlib.closing(_exercise_producer()) as producer:
            call_learner(send_payments, producer, topic, given)
            producer.flush(timeout=30)
        records = _lab.read_topic(topic)
    n = len(payments)
    if not records:
        raise NotYet("nothing arrived in the topic: call producer.send(topic, key=..., value=payment) for every "
                     "payment in the list")
    if not all(isinstance(r.value, dict) and "payment_id" in r.value for r in records):
        raise NotYet("the values arrived as JSON text inside JSON: the producer already turns a dict into JSON, so "
                     "send the payment dict itself (value=payment), not json.dumps(payment)")
    ids = Counter(r.value["payment_id"] for r in records)
    repeated = sorted(pid for pid, k in ids.items() if k > 1)
    if repeated:
        raise NotYet(f"payment {repeated[0]} arrived {ids[repeated[0]]} times: send each payment once")
    missing = [p["payment_id"] for p in payments if p["payment_id"] not in ids]
    if missing:
        raise NotYet(f"{n - len(missing)} of the {n} payments arrived (missing: {', '.join(missing[:3])}"
                     f"{' ...' if len(missing) > 3 else ''}): send every payment of the list")
    customer_of = {p["payment_id"]: p["customer_id"] for p in payments}
    placed: dict[str, set[int]] = defaultdict(set)
    for r in records:
        placed[customer_of[r.value["payment_id"]]].add(r.partition)
    if all(r.key is None for r in records):
        spread = _spread(placed)
        raise NotYet("the records have no key, so the producer picked a partition for each record at random"
                     + (f" (e.g. {spread})" if spread else "") + ": send with key=payment[\"customer_id\"]")
    wrong_key = next((r for r in records if r.key != customer_of[r.value["payment_id"]]), None)
    if wrong_key is not None:
        pid = wrong_key.value["payment_id"]
        if wrong_key.key == pid:
            raise NotYet(f"each record is keyed by its payment id ({pid}): keys that differ spread one customer "
                         f"over several partitions; key by the customer id instead")
        raise NotYet(f"payment {pid} has the key {wrong_key.key!r}, not its customer id {customer_of[pid]!r}")
    partition_for = _lab.partitioner().partition_for
    for customer, parts in sorted(placed.items()):
        want = partition_for(customer, KEYED_PARTITIONS)
        if parts != {want}:
            raise NotYet(f"customer {customer}'s payments sit in partition(s) {sorted(parts)}, but Kafka's default "
                         f"partitioner sends key {customer} to partition {want}: leave out partition=..., the key "
                         f"chooses (and every producer then agrees)")
    for customer in sorted(placed):
        sent = [p["payment_id"] for p in payments if p["customer_id"] == customer]
        stored = [r.value["payment_id"] for r in sorted(records, key=lambda r: r.offset)
                  if customer_of[r.value["payment_id"]] == customer]
        if stored != sent:
            raise NotYet(f"customer {customer}'s payments are stored in a different order than in the list: send "
                         f"them in the order given; a partition keeps exactly the order in which they were sent")
    summary = ", ".join(f"{c} in {sorted(ps)[0]}" for c, ps in sorted(placed.items()))
    return (f"all {n} payments arrived once, keyed by customer, and each customer's payments sit together and in "
            f"order in one partition ({summary}): the partition murmur2 of the key picks")

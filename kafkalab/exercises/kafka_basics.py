"""Exercises of "Kafka's building blocks" (notebooks/03_kafka_basics.ipynb)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from . import _lab
from .answers import type_name
from .core import Mistake, exercise
from .scratch import scratch_group, scratch_topic
from .verdicts import NotYet, WrongType

CHAPTER = "kafka_basics"
TOPIC = "basics-payments"
EXERCISE_GROUP = "basics-exercise"


def _customers() -> list[str]:
    return list(_lab.datagen().CUSTOMERS)


# ----------------------------------------------------------------------------------------------- Exercise 1


@contextlib.contextmanager
def _two_partition_topic() -> Iterator[dict]:
    with scratch_topic(CHAPTER, "customers", partitions=2) as topic:
        yield {"topic": topic}


def _customers_by_ack(ctx: dict, partition: int = 1) -> list[str]:
    """The reference: send one record per customer and let the broker's acknowledgements say where it went."""
    with contextlib.closing(_lab.producer()) as p:
        acks = {c: p.send(ctx["topic"], key=c.encode(), value=b"{}").get(timeout=10) for c in _customers()}
    return sorted(c for c, meta in acks.items() if meta.partition == partition)


@exercise(
    CHAPTER,
    title="Which customers land in partition 1?",
    kind="concept",
    expects="a list of customer ids, e.g. ['C001', 'C004']",
    hints=[
        "Every record of a customer went to the same partition; the acknowledgements of section 3 (`placed`, or "
        "the `keys` table) say which.",
        "`sorted(keys.index[keys.partition == 1])`, or `[c for c in datagen.CUSTOMERS if partition_for(c, 2) == 1]`.",
    ],
    solution='''
partition_1_solution = sorted(keys.index[keys.partition == 1])
print(partition_1_solution)
''',
    reference=_customers_by_ack,
    rehearsal=_two_partition_topic,
    live=True,
    mistakes=[
        Mistake("those are the customers of the other partition(s), not of partition 1",
                make=lambda ctx: _customers_by_ack(ctx, partition=0)),
        Mistake("are not customer ids of the course data (C001 ... C020)",
                make=lambda ctx: _customers_by_ack(ctx) + ["C021"]),
        Mistake("a customer appears twice in your list", make=lambda ctx: _customers_by_ack(ctx) * 2),
        Mistake("The partition comes from murmur2 of the key modulo 2 partitions, not from the customer number",
                answer=[f"C{n:03d}" for n in range(1, 21, 2)]),
        Mistake("customer ids are str like 'C001', not int", answer=[1, 3, 4], kind="wrong type"),
        Mistake("answer with a list of customer ids", answer="C001", kind="wrong type"),
    ],
)
def customers_in_partition(answer, *, topic: str = TOPIC, partition: int = 1) -> str:
    """Exercise 1: which of the 20 customer ids does the default partitioner send to ``partition`` of ``topic``?"""
    n = len(_lab.end_offsets(topic))
    if not n:
        from ..errors import LabError

        raise LabError(f"topic {topic!r} has no partitions: run the chapter's first sections to create it")
    if not isinstance(answer, (list, tuple, set)):
        raise WrongType(f"answer with a list of customer ids, e.g. ['C001', 'C004'], not {type_name(answer)}")
    odd = next((c for c in answer if not isinstance(c, str)), None)
    if odd is not None:
        raise WrongType(f"customer ids are str like 'C001', not {type_name(odd)} ({odd!r})")
    customers = _customers()
    partition_for = _lab.partitioner().partition_for
    given = sorted(answer)
    expected = sorted(c for c in customers if partition_for(c, n) == partition)
    other = sorted(c for c in customers if partition_for(c, n) != partition)
    if given == other:
        raise NotYet(f"those are the customers of the other partition(s), not of partition {partition}")
    unknown = sorted(set(given) - set(customers))
    if unknown:
        raise NotYet(f"{unknown} are not customer ids of the course data (C001 ... C020)")
    if len(given) != len(set(given)):
        raise NotYet("a customer appears twice in your list")
    missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    if missing or extra:
        raise NotYet(f"partition {partition} of {topic} holds {len(expected)} customers; you miss {missing} and list "
                     f"{extra} too many. The partition comes from murmur2 of the key modulo {n} partitions, not from "
                     f"the customer number")
    return (f"{len(expected)} customers land in partition {partition}: {', '.join(expected)}. A key always goes to "
            f"the same partition while the number of partitions stays the same")


# ----------------------------------------------------------------------------------------------- Exercise 2

_END_0 = 30  # records the rehearsal writes to partition 0


@contextlib.contextmanager
def _group_on_a_topic() -> Iterator[dict]:
    with scratch_topic(CHAPTER, "lag", partitions=2) as topic, scratch_group(CHAPTER, "lag") as group:
        with contextlib.closing(_lab.producer()) as p:
            for partition, count in ((0, _END_0), (1, 10)):
                for i in range(count):
                    p.send(topic, value=f"{partition}-{i}".encode(), partition=partition)
            p.flush()
        yield {"group": group, "topic": topic}


def _commit(ctx: dict, offset: int) -> None:
    """Commit ``offset`` on partition 0 for the rehearsal's group (what a learner's consumer would leave behind)."""
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    tp0 = TopicPartition(ctx["topic"], 0)
    with contextlib.closing(_lab.consumer(group_id=ctx["group"], enable_auto_commit=False)) as c:
        c.assign([tp0])
        c.commit({tp0: OffsetAndMetadata(offset, "", -1)})


def _committed_then(offset: int, answer):
    def make(ctx: dict):
        _commit(ctx, offset)
        return answer
    return make


def _read_ten_and_commit(ctx: dict) -> int:
    """The reference: read the first 10 records of partition 0 with the group, commit the next offset, and answer
    with the end offset the rehearsal wrote minus 10."""
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    from ..wait import wait_until

    tp0 = TopicPartition(ctx["topic"], 0)
    with contextlib.closing(_lab.consumer(group_id=ctx["group"], enable_auto_commit=False)) as c:
        c.assign([tp0])
        c.seek_to_beginning(tp0)
        got: list = []

        def ten() -> bool:
            for records in c.poll(timeout_ms=200, max_records=10 - len(got)).values():
                got.extend(records)
            return len(got) >= 10

        wait_until(ten, timeout_s=15, what="reading 10 records of partition 0")
        c.commit({tp0: OffsetAndMetadata(got[9].offset + 1, "", -1)})
    return _END_0 - 10


def _group_lag(group: str, topic: str) -> list:
    """The group's lag rows; on a fresh cluster the first group lookup waits for the offsets topic to exist."""
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError

    from ..wait import wait_until

    return wait_until(lambda: _lab.group_lag(group, topic) or [None], timeout_s=20,
                      what=f"finding the coordinator of group {group!r}",
                      fix="run the cell again; `python -m kafkalab doctor` checks the cluster",
                      retry_on=(CoordinatorNotAvailableError, CoordinatorLoadInProgressError))


@exercise(
    CHAPTER,
    title="Commit after ten records and read the group's lag",
    kind="code",
    function=False,
    expects="the lag on partition 0, an int",
    hints=[
        "Use a consumer with `group_id=EXERCISE_GROUP` and `enable_auto_commit=False`, `assign` it partition 0 "
        "and `seek_to_beginning`; `poll_records(c, want=10)` reads ten records.",
        "Commit the offset of the NEXT record to read: "
        "`c.commit({tp0: OffsetAndMetadata(last.offset + 1, \"\", -1)})`.",
        "Then `monitor.group_lag(EXERCISE_GROUP, TOPIC)` gives each partition's lag: end offset minus committed.",
    ],
    solution='''
monitor.delete_group(EXERCISE_GROUP)
with closing(clients.consumer(group_id=EXERCISE_GROUP, enable_auto_commit=False)) as c:
    c.assign([tp0])
    c.seek_to_beginning(tp0)
    ten_records = poll_records(c, want=10)
    c.commit({tp0: OffsetAndMetadata(ten_records[-1].offset + 1, "", -1)})  # the NEXT offset to read
lag_solution = monitor.group_lag(EXERCISE_GROUP, TOPIC)[0].lag
print("lag on partition 0:", lag_solution)
''',
    reference=_read_ten_and_commit,
    rehearsal=_group_on_a_topic,
    live=True,
    mistakes=[
        Mistake("has no committed offset on partition 0", answer=_END_0 - 10),
        Mistake("commit the offset of the NEXT record to read (10)", make=_committed_then(9, _END_0 - 9)),
        Mistake("committed offset 5 on partition 0, not 10", make=_committed_then(5, _END_0 - 5)),
        Mistake(f"the lag on partition 0 is {_END_0 - 10}, not 10", make=_committed_then(10, 10)),
        Mistake("answer with the lag as an int, not str", make=_committed_then(10, str(_END_0 - 10)),
                kind="wrong type"),
    ],
)
def exercise_lag(answer, *, group: str = EXERCISE_GROUP, topic: str = TOPIC) -> str:
    """Exercise 2: ``group`` committed exactly 10 records of partition 0; ``answer`` is its lag there."""
    rows = {r.partition: r for r in _group_lag(group, topic) if r is not None}
    if 0 not in rows:
        from ..errors import LabError

        raise LabError(f"topic {topic!r} has no partition 0: run the chapter's first sections to create it")
    committed = rows[0].committed
    if committed is None:
        raise NotYet(f"group {group!r} has no committed offset on partition 0. With enable_auto_commit=False nothing "
                     f"is saved until you call consumer.commit(); did you use group_id={group!r}?")
    if committed == 9:
        raise NotYet("the committed offset is 9: commit the offset of the NEXT record to read (10), not the "
                     "offset of the last record you processed (9), or the group reads record 9 twice")
    if committed != 10:
        raise NotYet(f"group {group!r} committed offset {committed} on partition 0, not 10. Start from the beginning "
                     f"(seek_to_beginning) and read exactly 10 records before committing")
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise WrongType(f"answer with the lag as an int, not {type_name(answer)}")
    if answer != rows[0].lag:
        raise NotYet(f"the lag on partition 0 is {rows[0].lag}, not {answer}: end offset {rows[0].end} minus "
                     f"committed offset {committed}")
    return (f"{group} committed offset 10 on partition 0 and is {rows[0].lag} records behind there: lag is the end "
            f"offset minus the committed offset, what the group has not confirmed yet")

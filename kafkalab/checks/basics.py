"""Checkers for "Kafka's building blocks" (notebooks/03_kafka_basics.ipynb)."""
from __future__ import annotations

from ..datagen import CUSTOMERS
from ..io.topics import end_offsets
from ..partitioner import partition_for
from . import passed


def check_customers_in_partition(topic: str, partition: int, answer: list[str]) -> None:
    """Exercise 1: which of the 20 customer ids does the default partitioner send to ``partition`` of ``topic``?"""
    n = len(end_offsets(topic))
    assert n, f"topic {topic!r} has no partitions: run the chapter's first sections to create it"
    assert isinstance(answer, (list, tuple, set)), "answer with a list of customer ids, e.g. ['C001', 'C004']"
    given = sorted(str(c) for c in answer)
    expected = sorted(c for c in CUSTOMERS if partition_for(c, n) == partition)
    other = sorted(c for c in CUSTOMERS if partition_for(c, n) != partition)
    if given == other:
        raise AssertionError(f"those are the customers of the other partition(s), not of partition {partition}")
    unknown = sorted(set(given) - set(CUSTOMERS))
    assert not unknown, f"{unknown} are not customer ids of the course data (C001 ... C020)"
    assert len(given) == len(set(given)), "a customer appears twice in your list"
    missing, extra = sorted(set(expected) - set(given)), sorted(set(given) - set(expected))
    assert not (missing or extra), (
        f"partition {partition} of {topic} holds {len(expected)} customers; you miss {missing} and list {extra} "
        f"too many. The partition comes from murmur2 of the key modulo {n} partitions, not from the customer number")
    passed(f"{len(expected)} customers land in partition {partition}: {', '.join(expected)}")


def check_exercise_lag(group: str, topic: str, answer: int) -> None:
    """Exercise 2: ``group`` committed exactly 10 records of partition 0; ``answer`` is its lag there."""
    from ..io.groups import group_lag

    rows = {r.partition: r for r in group_lag(group, topic)}
    assert 0 in rows, f"topic {topic!r} has no partition 0: run the chapter's first sections to create it"
    committed = rows[0].committed
    assert committed is not None, (
        f"group {group!r} has no committed offset on partition 0. With enable_auto_commit=False nothing is saved "
        f"until you call consumer.commit(); did you use group_id={group!r}?")
    if committed == 9:
        raise AssertionError("the committed offset is 9: commit the offset of the NEXT record to read (10), not the "
                             "offset of the last record you processed (9), or the group reads record 9 twice")
    assert committed == 10, (f"group {group!r} committed offset {committed} on partition 0, not 10. Start from the "
                             f"beginning (seek_to_beginning) and read exactly 10 records before committing")
    assert isinstance(answer, int), f"answer with the lag as an int, not {type(answer).__name__}"
    assert answer == rows[0].lag, (
        f"the lag on partition 0 is {rows[0].lag}, not {answer}: end offset {rows[0].end} minus committed "
        f"offset {committed}")
    passed(f"{group} committed offset 10 on partition 0 and is {rows[0].lag} records behind there")

"""Exercises of "Kafka's building blocks" (notebooks/03_kafka_basics.ipynb)."""
from __future__ import annotations

import contextlib
from typing import Iterator

from . import _lab
from .answers import type_name
from .core import Mistake, call_learner, exercise
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

    tp0 = TopicPartition(ctx["topic"], 0)
    with contextlib.closing(_lab.consumer(group_id=ctx["group"], enable_auto_commit=False)) as c:
        c.assign([tp0])
        c.seek_to_beginning(tp0)
        got = _lab.basics().poll_records(c, want=10, seconds=15)
        if len(got) < 10:
            from ..errors import LabError

            raise LabError(f"read {len(got)} of the 10 records of partition 0 in 15 s; is the broker overloaded?")
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
        "and `seek_to_beginning`; `basics.poll_records(c, want=10)` reads ten records.",
        "Commit the offset of the NEXT record to read: "
        "`c.commit({tp0: OffsetAndMetadata(last.offset + 1, \"\", -1)})`.",
        "Then `groups.group_lag(EXERCISE_GROUP, TOPIC)` gives each partition's lag: end offset minus committed.",
    ],
    solution='''
groups.delete_group(EXERCISE_GROUP)
with closing(clients.consumer(group_id=EXERCISE_GROUP, enable_auto_commit=False)) as c:
    c.assign([tp0])
    c.seek_to_beginning(tp0)
    ten_records = basics.poll_records(c, want=10)
    c.commit({tp0: OffsetAndMetadata(ten_records[-1].offset + 1, "", -1)})  # the NEXT offset to read
lag_solution = groups.group_lag(EXERCISE_GROUP, TOPIC)[0].lag
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


# ----------------------------------------------------------------------------------------------- Exercise 3

#: The scratch topic of Exercise 3: the seeded payments, keyed by customer, over three partitions.
COUNT_PARTITIONS = 3
COUNT_PAYMENTS = 90
#: How long the learner's function may run before the check gives up on it (its loop must end by itself).
COUNT_DEADLINE_S = 30.0


def count_exercise_payments() -> list[dict]:
    """The payments Exercise 3 writes to its scratch topic before it runs the learner's function."""
    return _lab.datagen().payments(COUNT_PAYMENTS)


def _scrubbed(message: str, names: dict[str, str]) -> str:
    """``message`` with the run-unique names replaced by words (a check's message is the same on every run)."""
    for name, word in names.items():
        message = message.replace(name, word)
    return message


def _run_with_deadline(fn, *args, deadline_s: float, names: dict[str, str]):
    """Run the learner's ``fn(*args)`` in a thread; a function still running after ``deadline_s`` is reported (the
    thread is left to finish on its own: Python cannot stop it), an exception in it is one line."""
    import threading

    box: dict = {}

    def run() -> None:
        try:
            box["value"] = call_learner(fn, *args)
        except BaseException as e:  # handed to the checking thread
            box["error"] = e

    worker = threading.Thread(target=run, name="learner-count-keys", daemon=True)
    worker.start()
    worker.join(deadline_s)
    if worker.is_alive():
        raise NotYet(f"your function did not return within {deadline_s:g} s. Its loop must end by itself: stop when "
                     f"the consumer's position has reached the end offset of every partition it was assigned (a "
                     f"`for record in consumer` loop only ends after `consumer_timeout_ms` without records)")
    error = box.get("error")
    if isinstance(error, NotYet):
        raise type(error)(_scrubbed(str(error), names)) from None
    if error is not None:
        raise error
    return box.get("value")


def _partitions_of(keys: set, by_partition: dict[int, dict[str, int]]) -> list[int] | None:
    """The partitions whose keys are exactly ``keys``, if ``keys`` is the key set of some of the partitions."""
    chosen = sorted(p for p, counts in by_partition.items() if set(counts) & keys)
    if chosen and set().union(*(set(by_partition[p]) for p in chosen)) == keys:
        return chosen
    return None


def _judge_counts(answer, truth: dict[str, int], by_partition: dict[int, dict[str, int]],
                  committed_everywhere: bool) -> None:
    """Compare the learner's counts with the topic's content; raise NotYet/WrongType naming the likely mistake."""
    if answer is None:
        raise WrongType("your function returned None: end it with `return` and the dict of counts {key: records}")
    if not isinstance(answer, dict):
        raise WrongType(f"return a dict {{key: number of records}}, not {type_name(answer)}")
    if any(isinstance(k, (bytes, bytearray)) for k in answer):
        raise WrongType("your keys are bytes, e.g. b'C001': Kafka hands keys over as bytes, so decode them "
                        "(`record.key.decode()`) and count under the text 'C001'")
    odd = next((v for v in answer.values() if isinstance(v, bool) or not isinstance(v, int)), None)
    if odd is not None:
        raise WrongType(f"each count is an int (the number of records of that key), not {type_name(odd)}")
    total = sum(truth.values())
    if not answer or not any(answer.values()):
        if committed_everywhere:
            raise NotYet("you counted nothing, although the group's committed offsets are at the end of every "
                         "partition: a new group with `auto_offset_reset=\"latest\"` starts at the end and sees only "
                         "records written after it joined. Start a new group at the beginning with "
                         "`auto_offset_reset=\"earliest\"`")
        raise NotYet(f"you counted nothing, and the topic holds {total} records: did your loop poll before it "
                     f"stopped, and does it start from the beginning (`auto_offset_reset=\"earliest\"`)?")
    if any(isinstance(k, str) and k.lstrip().startswith("{") for k in answer):
        raise NotYet("your keys look like record values (JSON payments): count `record.key`, the customer id the "
                     "producer chose as key, not `record.value`")
    if answer == truth:
        return
    unknown = sorted(set(answer) - set(truth), key=str)
    if unknown:
        raise NotYet(f"{unknown[0]!r} is not a key of the topic's records (its keys are the customer ids C001 ... "
                     f"C020): count `record.key.decode()`")
    if all(answer.get(k, 0) == 2 * n for k, n in truth.items()):
        raise NotYet("every key is counted twice: did your loop read the topic twice, or count each record in two "
                     "places?")
    counted = sum(answer.values())
    if counted > total:
        raise NotYet(f"you counted {counted} records, but the topic holds {total}: count each record once")
    only = _partitions_of(set(answer), by_partition)
    if only is not None and len(only) < len(by_partition) and all(
            answer[k] == sum(by_partition[p].get(k, 0) for p in only) for k in answer):
        names = ", ".join(map(str, only))
        raise NotYet(f"you counted only the records of partition(s) {names} of {len(by_partition)}: subscribe to "
                     f"the topic (or assign every one of its partitions), so that your consumer reads them all")
    key = next(k for k in sorted(truth) if answer.get(k, 0) != truth[k])
    raise NotYet(f"you counted {counted} of the {total} records (key {key}: {answer.get(key, 0)} of {truth[key]}): "
                 f"your loop stopped before the end. Keep polling until the position of every assigned partition "
                 f"has reached its end offset")


def _judge_commits(committed: dict[int, int], ends: dict[int, int]) -> None:
    """The group must have committed each partition's end offset: it would resume after the last record."""
    if not committed:
        raise NotYet("the group has no committed offset: with `enable_auto_commit=False` nothing is saved until you "
                     "call `consumer.commit()` (after counting). Did you use the `group` your function was given as "
                     "`group_id`?")
    if all(committed.get(p) == end - 1 for p, end in ends.items() if end):
        raise NotYet("each committed offset is one short of the end: commit the offset of the NEXT record to read "
                     "(the last record's offset + 1), as `consumer.commit()` without arguments does")
    short = sorted(p for p, end in ends.items() if committed.get(p, 0) < end)
    if short:
        p = short[0]
        got = "nothing" if p not in committed else f"offset {committed[p]}"
        raise NotYet(f"on partition {p} the group committed {got}, but the partition ends at {ends[p]}: the records "
                     f"you counted last were never committed, so a restart would count them again. Commit after "
                     f"each batch you have counted, the last one included")


@contextlib.contextmanager
def _count_rehearsal() -> Iterator[dict]:
    """What the three-way test needs: a short deadline, a stop switch and a list of consumers to close afterwards
    (the mistakes that never return or never close their consumer use them)."""
    import threading

    stop, left_open = threading.Event(), []
    try:
        yield {"deadline_s": 8.0, "_stop": stop, "_left_open": left_open}
    finally:
        stop.set()
        for consumer, group in left_open:
            if consumer is not None:
                with contextlib.suppress(Exception):
                    consumer.close()
            with contextlib.suppress(Exception):
                _lab.delete_group(group, timeout_s=10)


def _at_end(consumer) -> bool:
    assigned = list(consumer.assignment())
    ends = consumer.end_offsets(assigned)
    return bool(assigned) and all(consumer.position(tp) >= ends[tp] for tp in assigned)


def _loop(topic, group, *, reset="earliest", commit="after", key=lambda r: r.key.decode(), close=True,
          left_open=None, max_records=None, stop=None, partitions=None):
    """The anticipated mistakes of Exercise 3, as a learner would write them, one switch each."""
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    counts: dict = {}
    consumer = _lab.consumer(group_id=group, auto_offset_reset=reset, enable_auto_commit=False)
    if left_open is not None:  # the rehearsal closes what is still open, and deletes the group, at its end
        left_open.append((None if close else consumer, group))
    try:
        if partitions is None:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, p) for p in partitions])
        while not (stop is not None and stop.is_set()):
            if commit == "before":
                consumer.commit()
            batch = consumer.poll(timeout_ms=500, max_records=max_records)
            last = {}
            for tp, records in batch.items():
                for record in records:
                    counts[key(record)] = counts.get(key(record), 0) + 1
                    last[tp] = record.offset
            if commit == "after":
                consumer.commit()
            elif commit == "last offset" and last:
                consumer.commit({tp: OffsetAndMetadata(off, "", -1) for tp, off in last.items()})
            if stop is None and _at_end(consumer):
                break
    finally:
        if close:
            consumer.close()
    return counts


def _mistake(**switches):
    """A learner's function with one of ``_loop``'s switches. ``left_open`` leaves the consumer open (closed two
    seconds after the check has looked at the group); ``forever`` polls past the check's deadline, then stops."""
    def make(ctx: dict):
        def count_keys(topic, group):
            import threading

            options = dict(switches)
            if options.pop("left_open", False):
                options["left_open"] = ctx["_left_open"]
            if options.pop("forever", False):
                stop = threading.Event()
                threading.Timer(ctx["deadline_s"] + 1.0, stop.set).start()
                options["stop"], options["left_open"] = stop, ctx["_left_open"]
            counts = _loop(topic, group, **options)
            for consumer, _ in ctx["_left_open"][-1:]:
                if consumer is not None and not switches.get("close", True):
                    threading.Timer(2.0, consumer.close).start()
            return counts
        return count_keys
    return make


def _count_then_return_pairs(ctx: dict):
    def count_keys(topic, group):
        return sorted(_loop(topic, group).items())
    return count_keys


def _count_with_plain_dict(ctx: dict):
    def count_keys(topic, group):
        counts = {}
        with contextlib.closing(_lab.consumer(topic, group_id=group, enable_auto_commit=False)) as consumer:
            for record in consumer:
                counts[record.key.decode()] += 1  # KeyError: the first record of each key has no entry yet
        return counts
    return count_keys


@exercise(
    CHAPTER,
    title="Count the records per key with a committing consumer",
    kind="code",
    expects="a function count_keys(topic, group) that returns {key: number of records}",
    hints=[
        "Create the consumer with `clients.consumer(topic, group_id=group, auto_offset_reset=\"earliest\", "
        "enable_auto_commit=False)`, inside `with closing(...) as consumer:` so that it leaves the group at the end.",
        "Loop: `consumer.poll(timeout_ms=500)` returns {partition: [records]}; add 1 to `counts[record.key.decode()]` "
        "for each record (a `collections.Counter` starts every key at 0), then call `consumer.commit()`.",
        "Stop when every assigned partition is read: `assigned = list(consumer.assignment())`, `ends = "
        "consumer.end_offsets(assigned)`, done when `assigned` is not empty and `consumer.position(tp) >= ends[tp]` "
        "for every `tp` in it.",
    ],
    solution='''
from collections import Counter
from contextlib import closing

from kafkalab.io import clients


def count_keys_and_commit(topic, group):
    """Read topic from its first record as consumer group `group`, count the records of each key, commit."""
    counts = Counter()
    with closing(clients.consumer(topic, group_id=group, auto_offset_reset="earliest",
                                  enable_auto_commit=False)) as consumer:
        done = False
        while not done:
            for records in consumer.poll(timeout_ms=500).values():
                for record in records:
                    counts[record.key.decode()] += 1
            consumer.commit()  # after the batch is counted: the group resumes after it
            assigned = list(consumer.assignment())
            ends = consumer.end_offsets(assigned)
            done = bool(assigned) and all(consumer.position(tp) >= ends[tp] for tp in assigned)
    return dict(counts)
''',
    reference="count_keys_and_commit",
    rehearsal=_count_rehearsal,
    live=True,
    mistakes=[
        Mistake("a new group with `auto_offset_reset=\"latest\"` starts at the end", make=_mistake(reset="latest")),
        Mistake("your keys look like record values", make=_mistake(key=lambda r: r.value.decode())),
        Mistake("your keys are bytes", make=_mistake(key=lambda r: r.key), kind="wrong type"),
        Mistake("the group has no committed offset", make=_mistake(commit="never")),
        Mistake("commit the offset of the NEXT record to read", make=_mistake(commit="last offset")),
        Mistake("the records you counted last were never committed",
                make=_mistake(commit="before", max_records=10)),
        Mistake("you counted only the records of partition(s) 0 of 3", make=_mistake(partitions=[0])),
        Mistake("your consumer is still a member of the group", make=_mistake(close=False, left_open=True)),
        Mistake("your function did not return within", make=_mistake(forever=True)),
        Mistake("your function raised KeyError", make=_count_with_plain_dict),
        Mistake("return a dict {key: number of records}, not list", make=_count_then_return_pairs,
                kind="wrong type"),
    ],
)
def count_per_key(count_keys, *, deadline_s: float = COUNT_DEADLINE_S) -> str:
    """Exercise 3: ``count_keys(topic, group)`` must read ``topic`` from the beginning as consumer group ``group``,
    return the number of records of each key, and commit what it read. The checker writes the seeded payments
    to a fresh three-partition topic of its own, runs the function with a fresh group, and compares the counts
    with the topic's content and the group's committed offsets with the partitions' end offsets."""
    basics = _lab.basics()
    payments = count_exercise_payments()
    with scratch_topic(CHAPTER, "count", partitions=COUNT_PARTITIONS) as topic, \
            scratch_group(CHAPTER, "count") as group:
        basics.send_keyed(topic, payments)
        records = _lab.read_to_end(topic)
        ends = {p: n for p, n in _lab.end_offsets(topic).items()}
        names = {topic: "the topic", group: "the group"}
        answer = _run_with_deadline(count_keys, topic, group, deadline_s=deadline_s, names=names)
        committed = {p: off for (t, p), off in _lab.committed_offsets(group).items() if t == topic}
        members = basics.group_members(group)
    truth = basics.counts_by_key(records)
    by_partition = {p: basics.counts_by_key([r for r in records if r.partition == p]) for p in sorted(ends)}
    at_end = all(committed.get(p) == end for p, end in ends.items())
    _judge_counts(answer, truth, by_partition, committed_everywhere=at_end)
    _judge_commits(committed, ends)
    if members:
        raise NotYet("your consumer is still a member of the group after your function returned: close it "
                     "(`with closing(clients.consumer(...)) as consumer:`), or the group keeps waiting for it and "
                     "its partitions stay assigned to a consumer that no longer reads")
    busiest = max(truth, key=lambda k: (truth[k], k))
    return (f"{sum(truth.values())} records of {len(truth)} keys counted (the busiest, {busiest}, has "
            f"{truth[busiest]}), and the group committed the end offset of all {len(ends)} partitions: a restarted "
            f"consumer of the group would resume after the last record instead of counting again")

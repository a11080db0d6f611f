"""Reading a topic to its end: the one way the course reads back what it wrote.

A consumer that iterates "until nothing comes for a while" cannot tell a finished topic from a slow broker, and
returns whatever it had when it gave up. :func:`read_to_end` instead asks each partition for its end offset
first, reads until every partition's position reaches it, and when the time is up raises :class:`ReadTimeout`
naming how far it got, with the records read so far attached. It uses no consumer group: nothing is committed, so
a re-run reads the same records.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from ..errors import LabError
from ..wait import wait_until
from .clients import consumer
from .topics import require_partitions


class ReadTimeout(LabError):
    """A topic was not read to its end in time; ``records`` holds what was read until then."""

    def __init__(self, message: str, records: list) -> None:
        super().__init__(message)
        self.records = records


def read_to_end(topic: str, *, partitions: Iterable[int] | None = None, start: Mapping[int, int] | None = None,
                until: Mapping[int, int] | None = None, committed_only: bool = False, timeout_s: float = 15.0,
                missing_fix: str = "create it first", **consumer_overrides) -> list:
    """Every record of ``topic`` up to the end its partitions have now, as kafka-python ``ConsumerRecord`` objects
    in partition, then offset order.

    ``partitions`` limits the reading to those partitions; ``start`` (partition -> offset) starts a partition
    later than its first record; ``until`` (partition -> offset) stops there instead of at the current end and
    reads only the partitions it names. ``committed_only`` reads with ``isolation_level="read_committed"``: records
    of aborted or still open transactions are skipped, and the end is the last stable offset.

    A topic that does not exist is a :class:`LabError` at once (``missing_fix`` says what to do); a topic not read
    to its end within ``timeout_s`` is a :class:`ReadTimeout` that names how far each partition got.
    ``consumer_overrides`` go to :func:`kafkalab.io.clients.consumer` (``bootstrap_servers`` for another cluster).
    """
    from kafka import TopicPartition

    isolation = "read_committed" if committed_only else "read_uncommitted"
    options = {"group_id": None, "enable_auto_commit": False, "isolation_level": isolation, **consumer_overrides}
    with contextlib.closing(consumer(**options)) as c:
        found = require_partitions(c, topic, missing_fix)
        wanted = set(found) if partitions is None else set(partitions)
        if until is not None:
            wanted &= set(until)
        missing = sorted(wanted - set(found))
        if missing:
            raise LabError(f"topic {topic} has no partition {missing[0]} (it has {len(found)}); {missing_fix}")
        tps = {p: TopicPartition(topic, p) for p in sorted(wanted)}
        if not tps:
            return []
        c.assign(list(tps.values()))
        if until is not None:
            ends = {p: int(until[p]) for p in tps}
        else:
            ends = {tp.partition: off for tp, off in c.end_offsets(list(tps.values())).items()}
        for p, tp in tps.items():
            if start is not None and p in start:
                c.seek(tp, int(start[p]))
            else:
                c.seek_to_beginning(tp)
        got: dict[int, list] = {p: [] for p in tps}

        def reached_the_end() -> bool:
            for tp, batch in c.poll(timeout_ms=200).items():
                got[tp.partition].extend(r for r in batch if r.offset < ends[tp.partition])
            return all(c.position(tp) >= ends[p] for p, tp in tps.items())

        def progress() -> str:
            behind = ", ".join(f"partition {p} at {c.position(tp)} of {ends[p]}" for p, tp in tps.items()
                               if c.position(tp) < ends[p])
            return f"{sum(map(len, got.values()))} records read; {behind}"

        try:
            wait_until(reached_the_end, timeout_s=timeout_s, interval_s=0, what=f"reading {topic} to its end",
                       last_seen=progress, fix="is the broker overloaded? (`python -m kafkalab doctor`)")
        except LabError as e:
            raise ReadTimeout(str(e), [r for p in tps for r in got[p]]) from None
    return [r for p in tps for r in got[p]]

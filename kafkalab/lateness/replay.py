"""Late-data records through a real Kafka topic and back, in arrival order (Chapter 9: Handling late data).

:mod:`kafkalab.lateness.engine` judges records in the order they *arrived*. This module makes that order real: it
writes a list of :class:`~kafkalab.lateness.engine.Record` to a one-partition topic, in list order, with each
record's **event time as the Kafka record timestamp**, and reads the partition back from an offset. Each
record read back takes its event time from the Kafka record's timestamp, never from the value:

* ``event_time_ms``: the record timestamp (``CreateTime``: the producer's ``timestamp_ms``);
* ``value``: the ``amount`` of the JSON value ``{"amount": ...}``;
* ``key``: the message key (UTF-8), ``None`` when the record has none;
* ``processing_time_ms``: the ``arrival-ms`` header when the record carries one (the generator's simulated
  arrival time), else ``None``.

Why one partition: Kafka keeps order within a partition only, and the engine needs the arrival order.
Why the topic settings in :data:`TOPIC_CONFIGS`: the broker judges retention by record timestamp, so a
topic holding event times from last month would be emptied by the default seven-day retention
(``retention.ms=-1`` keeps everything); and it refuses timestamps too far in the past or future
(``message.timestamp.before.max.ms`` is ``Long.MAX_VALUE`` by default in Kafka 4.4 and set here explicitly;
``message.timestamp.after.max.ms`` defaults to one hour, so event times must not lie in the future).

:func:`quix_window_totals` runs the same topic through Quix Streams, a real stream processor, for the
chapter's cross-check.
"""
from __future__ import annotations

import contextlib
import json
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

from ..errors import LabError
from ..io.clients import consumer, producer, quiet_imports
from ..io.connection import connection
from ..io.quix import bounded_run
from ..io.read import read_to_end
from ..io.topics import recreate_topic
from .engine import Record, WindowTotal
from .generator import ReplayParams, simulated_run

#: Topic settings for records stamped with past event times (see the module docstring).
TOPIC_CONFIGS: dict[str, str] = {
    "retention.ms": "-1",
    "message.timestamp.type": "CreateTime",
    "message.timestamp.before.max.ms": str(2**63 - 1),
}
#: Header carrying a record's simulated arrival time (``Record.processing_time_ms``).
ARRIVAL_HEADER = "arrival-ms"


class TimeSeek(NamedTuple):
    """Where :func:`read_from_time` started and what it found from there on."""

    #: The timestamp asked for.
    timestamp_ms: int
    #: The first offset whose timestamp is ``>= timestamp_ms`` (``None`` if no record is that recent).
    offset: int | None
    #: Every record from that offset to the end of the partition, in arrival order.
    records: list[Record]


def create_topic(name: str) -> None:
    """(Re)create ``name`` empty, with one partition and :data:`TOPIC_CONFIGS`."""
    recreate_topic(name, partitions=1, replication=1, configs=TOPIC_CONFIGS)


def _encode(rec: Record, key: str | None) -> dict:
    headers = []
    if rec.processing_time_ms is not None:
        headers.append((ARRIVAL_HEADER, str(int(rec.processing_time_ms)).encode()))
    k = rec.key if key is None else key
    return {
        "key": None if k is None else str(k).encode(),
        "value": json.dumps({"amount": rec.value}, separators=(",", ":")).encode(),
        "timestamp_ms": int(rec.event_time_ms),
        "headers": headers,
    }


def produce_records(topic: str, records: Iterable[Record], *, key: str | None = None) -> int:
    """Append ``records`` to partition 0 of ``topic`` in the order given; return how many were written.

    Each record's timestamp is its event time. ``key`` replaces every record's own key (Quix closes windows
    per key: one key for all gives one clock for the whole stream). The producer is idempotent (kafka-python
    3's default), so a retried batch cannot overtake a later one and the order on the partition is the
    order of ``records``.
    """
    from kafka.errors import KafkaError

    n = 0
    with contextlib.closing(producer(linger_ms=5, enable_idempotence=True, acks="all")) as p:
        futures = []
        for rec in records:
            futures.append(p.send(topic, partition=0, **_encode(rec, key)))
            n += 1
        p.flush(timeout=30)
        for f in futures:
            try:
                f.get(timeout=10)
            except KafkaError as e:
                raise LabError(f"the broker refused a record for {topic}: {type(e).__name__}: {e}") from None
    return n


def _to_record(msg) -> Record:
    value = json.loads(msg.value)
    headers = dict(msg.headers or [])
    arrival = headers.get(ARRIVAL_HEADER)
    return Record(
        event_time_ms=msg.timestamp,
        value=value["amount"],
        key=None if msg.key is None else msg.key.decode(),
        processing_time_ms=None if arrival is None else int(arrival),
    )


def _missing(topic: str) -> str:
    return f"create it with replay.create_topic({topic!r})"


def read_records(topic: str, *, from_offset: int = 0, timeout_s: float = 15.0) -> list[Record]:
    """Partition 0 of ``topic`` from ``from_offset`` to its current end, in offset (= arrival) order."""
    return [_to_record(m) for m in read_to_end(topic, partitions=[0], start={0: from_offset}, timeout_s=timeout_s,
                                               missing_fix=_missing(topic))]


def offset_for_time(topic: str, timestamp_ms: int) -> int | None:
    """The earliest offset of partition 0 whose timestamp is ``>= timestamp_ms`` (Kafka's ListOffsets by time)."""
    from kafka import TopicPartition

    tp = TopicPartition(topic, 0)
    with contextlib.closing(consumer(group_id=None, enable_auto_commit=False)) as c:
        if 0 not in (c.partitions_for_topic(topic) or set()):
            raise LabError(f"topic {topic} does not exist (yet); {_missing(topic)}")
        found = c.offsets_for_times({tp: int(timestamp_ms)}, timeout_ms=10_000)[tp]
    return None if found is None else found.offset


def read_from_time(topic: str, timestamp_ms: int) -> TimeSeek:
    """Seek partition 0 to the first record stamped ``>= timestamp_ms`` and read to the end.

    The result holds every record from that offset on, including records stamped *earlier* than
    ``timestamp_ms`` that arrived later (late ones): filter by event time to get one window's records.
    """
    offset = offset_for_time(topic, timestamp_ms)
    records = [] if offset is None else read_records(topic, from_offset=offset)
    return TimeSeek(int(timestamp_ms), offset, records)


def round_trip(topic: str, records: Sequence[Record], *, key: str | None = None) -> list[Record]:
    """Recreate ``topic``, write ``records`` in order and read them back from offset 0."""
    create_topic(topic)
    produce_records(topic, records, key=key)
    return read_records(topic)


def topic_run_fn(topic: str) -> Callable[[ReplayParams], list[Record]]:
    """A ``run_fn`` for :func:`kafkalab.widgets.lateness.replay_widget`: generate, go through ``topic``, read back."""

    def run(params: ReplayParams) -> list[Record]:
        return round_trip(topic, simulated_run(params))

    run.__doc__ = f"Generate the seeded stream, write it to {topic!r} and read it back in arrival order."
    return run


def publish_json(topic: str, key: str, value: dict, *, timestamp_ms: int | None = None) -> int:
    """Write one JSON record (a report, say) to partition 0 of ``topic``; return its offset."""
    with contextlib.closing(producer(enable_idempotence=True, acks="all")) as p:
        meta = p.send(
            topic,
            key=key.encode(),
            value=json.dumps(value, separators=(",", ":"), sort_keys=True).encode(),
            partition=0,
            timestamp_ms=timestamp_ms,
        ).get(timeout=10)
    return meta.offset


def read_json(topic: str) -> list[tuple[int, str, dict]]:
    """Every record of partition 0 of ``topic`` as ``(offset, key, value)``."""
    return [(m.offset, m.key.decode(), json.loads(m.value))
            for m in read_to_end(topic, partitions=[0], missing_fix=_missing(topic))]


class LateRecord(NamedTuple):
    """A record Quix skipped because its window had closed (what its ``on_late`` callback saw)."""

    offset: int
    timestamp_ms: int
    window_start_ms: int
    window_end_ms: int
    late_by_ms: int


class QuixWindows(NamedTuple):
    """What the Quix Streams application emitted and skipped."""

    #: Closed windows, in emission order (``.final()``: one result per window).
    totals: list[WindowTotal]
    #: Records dropped as late, in arrival order.
    late: list[LateRecord]
    #: Consumer group used (deleted again after the run).
    consumer_group: str


def quix_window_totals(
    topic: str, window_ms: int, grace_ms: int, *, idle_timeout_s: float = 2.0, max_runtime_s: float = 60.0
) -> QuixWindows:
    """Run a Quix Streams tumbling-window sum with ``.final()`` over ``topic`` from offset 0, then stop.

    One bounded run (:func:`kafkalab.io.quix.bounded_run`: a fresh consumer group, deleted afterwards),
    ``auto_offset_reset="earliest"``, state in a temporary folder, no changelog topics, and
    ``app.run(timeout=idle_timeout_s)``, which returns once no new message has arrived for that long; a timer
    stops the application after ``max_runtime_s`` whatever happens. Records need a key (Quix ignores keyless
    ones) and are windowed per key.
    """
    with quiet_imports():
        from quixstreams import Application
        from quixstreams.dataframe.windows import Count, Sum

    late: list[LateRecord] = []

    def on_late(value, key, timestamp_ms, late_by_ms, start, end, name, topic_name, partition, offset) -> bool:
        late.append(LateRecord(offset, timestamp_ms, start, end, late_by_ms))
        return False  # we keep the record ourselves; no log line per late record

    with bounded_run("late-quix") as group, tempfile.TemporaryDirectory(prefix="late-quix-state-") as state_dir:
        app = Application(
            broker_address=connection().quix(),  # the bootstrap, with the client config on a secured cluster
            consumer_group=group,
            auto_offset_reset="earliest",
            state_dir=state_dir,
            use_changelog_topics=False,
            auto_create_topics=False,
            loglevel="WARNING",
            broker_availability_timeout=30,
        )
        sdf = app.dataframe(app.topic(topic, value_deserializer="json"))
        sdf = sdf.apply(lambda v: v["amount"])
        sdf = (
            sdf.tumbling_window(duration_ms=window_ms, grace_ms=grace_ms, on_late=on_late)
            .agg(total=Sum(), count=Count())
            .final()
        )
        watchdog = threading.Timer(max_runtime_s, app.stop)  # in case it never gets its partition
        watchdog.start()
        try:
            rows = app.run(timeout=idle_timeout_s)
        finally:
            stopped_by_watchdog = not watchdog.is_alive()
            watchdog.cancel()
    if stopped_by_watchdog:
        raise LabError(f"the Quix Streams application did not finish reading {topic} within {max_runtime_s:g} s; "
                       "is the broker overloaded? (`python -m kafkalab doctor`)")
    totals = [WindowTotal(r["start"], r["end"], r["total"], r["count"]) for r in rows]
    return QuixWindows(totals, late, group)


__all__ = [
    "ARRIVAL_HEADER",
    "LateRecord",
    "QuixWindows",
    "TOPIC_CONFIGS",
    "TimeSeek",
    "create_topic",
    "offset_for_time",
    "produce_records",
    "publish_json",
    "quix_window_totals",
    "read_from_time",
    "read_json",
    "read_records",
    "round_trip",
    "topic_run_fn",
]

"""Transactions outside Kafka Streams, with kafka-python: the small pieces Chapter 12, *Consumer groups, queues and
transactions in Kafka 4*, builds its consume-transform-produce loop from.

A transactional producer (``transactional_id``) writes to several partitions and commits the consumer's offsets
in the same transaction (``send_offsets_to_transaction``): either all of it becomes visible to ``read_committed``
readers, or none of it. After an abort the consumer must go back to the last committed offsets itself
(:func:`rewind`), or it would skip the records whose output was just thrown away.
"""
from __future__ import annotations

from collections.abc import Iterable

from .errors import LabError


def transactional_producer(transactional_id: str, **overrides):
    """A kafka-python producer with ``transactional_id`` set and ``init_transactions()`` done: ready for
    ``begin_transaction()``. Initialising fences every older producer with the same id (zombie fencing)."""
    from .io.clients import producer

    p = producer(transactional_id=transactional_id, **overrides)
    try:
        p.init_transactions()
    except Exception as e:
        p.close(timeout=5)
        raise LabError(f"init_transactions for {transactional_id!r} failed ({type(e).__name__}: {e}); is the "
                       "cluster up, and does it have the __transaction_state topic? `python -m kafkalab doctor`") from None
    return p


def next_offsets(records: Iterable) -> dict:
    """What to commit after processing ``records`` (kafka-python ``ConsumerRecord`` objects): for each partition,
    the offset after the last record, as ``{TopicPartition: OffsetAndMetadata}``."""
    from kafka import OffsetAndMetadata, TopicPartition

    last: dict = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        last[tp] = max(last.get(tp, -1), r.offset)
    return {tp: OffsetAndMetadata(off + 1, "", -1) for tp, off in last.items()}


def rewind(consumer) -> dict[int, int]:
    """Seek every partition assigned to ``consumer`` back to its group's committed offset (to the beginning where
    it committed none). Call it after ``abort_transaction()``: the aborted batch is read again. Returns
    partition -> the offset it will read next."""
    out = {}
    for tp in consumer.assignment():
        committed = consumer.committed(tp)
        if committed is None:
            consumer.seek_to_beginning(tp)
            out[tp.partition] = consumer.position(tp)
        else:
            consumer.seek(tp, committed)
            out[tp.partition] = committed
    return out


def both_views(topic: str, timeout_s: float = 15) -> list[dict]:
    """Every record of ``topic`` once, with whether a ``read_committed`` and a ``read_uncommitted`` consumer see
    it: ``{"partition", "offset", "key", "value", "read_committed", "read_uncommitted"}`` (str key and value)."""
    from .io.read import read_to_end

    def rows(committed_only: bool) -> dict:
        return {(r.partition, r.offset): r for r in read_to_end(topic, committed_only=committed_only,
                                                                timeout_s=timeout_s)}

    committed, everything = rows(True), rows(False)
    out = []
    for (p, o), r in sorted(everything.items()):
        out.append({"partition": p, "offset": o, "key": _text(r.key), "value": _text(r.value),
                    "read_committed": (p, o) in committed, "read_uncommitted": True})
    return out


def _text(b) -> str | None:
    return None if b is None else b.decode(errors="replace")

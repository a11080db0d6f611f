"""Helpers of Chapter 3, *Kafka's building blocks* (notebooks/03_kafka_basics.ipynb): send keyed events and keep
every acknowledgement, poll a consumer for a bounded number of records, and follow one consumer's offsets on one
partition step by step.

They are the loops the chapter would otherwise repeat in its cells. Groups (settling, lag, deletion) are
:mod:`kafkalab.io.groups`; reading a whole topic back is :func:`kafkalab.io.read.read_to_end`.
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .io.clients import admin, json_producer
from .validate import count


def send_keyed(topic: str, events: Iterable[dict], key: str = "customer_id", timeout_s: float = 10.0) -> list:
    """Send each event as JSON to ``topic``, keyed by its field ``key``, and wait for every acknowledgement.

    Returns ``(event, metadata)`` pairs in send order; ``metadata.partition`` and ``metadata.offset`` say where the
    broker stored the record. All records are sent before the first acknowledgement is awaited, so the producer
    batches them as it would in a real application.
    """
    with contextlib.closing(json_producer()) as p:
        futures = [(e, p.send(topic, key=e[key], value=e)) for e in events]
        return [(e, f.get(timeout=timeout_s)) for e, f in futures]


def poll_records(consumer, want: int | None = None, seconds: float = 5.0) -> list:
    """Poll ``consumer`` until ``want`` records arrived, or ``seconds`` passed; return them in arrival order.

    With ``want=None`` it keeps every record that arrives within ``seconds``. It never returns more than ``want``
    records (``max_records`` limits each poll), so the consumer's position ends right after the last one returned:
    what a following ``commit()`` saves.
    """
    if want is not None:
        count("want", want, low=0)
    got: list = []
    deadline = time.monotonic() + seconds
    while (want is None or len(got) < want) and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=200, max_records=None if want is None else want - len(got))
        for records in batch.values():
            got += records
    return got


@dataclass
class OffsetTrace:
    """The three offsets of one partition as one consumer sees them, recorded step by step.

    ``record(step, consumer)`` notes the group's **committed** offset (``"none"`` before the group's first commit
    there), the consumer's **position** (the next offset it will fetch) and the partition's **end offset** (the
    offset the next record written will get). ``table()`` shows the steps as a DataFrame.
    """

    partition: object  # a kafka.TopicPartition
    steps: list[dict] = field(default_factory=list)

    def record(self, step: str, consumer) -> dict:
        """Add one row for ``step`` as ``consumer`` (assigned to the partition) sees it now; return the row."""
        committed = consumer.committed(self.partition)
        row = {"step": step, "committed": "none" if committed is None else committed,
               "position": consumer.position(self.partition),
               "end offset": consumer.end_offsets([self.partition])[self.partition]}
        self.steps.append(row)
        return row

    def table(self):
        """The recorded steps as a DataFrame indexed by step."""
        import pandas as pd

        return pd.DataFrame(self.steps).set_index("step")


def counts_by_key(records: Sequence) -> dict[str, int]:
    """Records per key (keys decoded as UTF-8; a record without a key counts under ``None``), sorted by key."""
    out: dict = {}
    for r in records:
        k = None if r.key is None else r.key.decode()
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))


def group_members(group: str) -> list[str]:
    """The client ids of ``group``'s current members, sorted (empty when nobody is in the group)."""
    with contextlib.closing(admin()) as a:
        described = a.describe_groups([group]).get(group, {})
    return sorted(m["client_id"] for m in described.get("members", []))

"""Topic administration: create a topic afresh, delete one, ask where its partitions end.

Every chapter starts from the same state by recreating its topics (:func:`recreate_topic`): a re-run of a notebook
then sees exactly what the first run saw.
"""
from __future__ import annotations

import contextlib

from ..errors import LabError
from ..wait import wait_until
from .clients import admin, consumer


def recreate_topic(name: str, partitions: int = 1, replication: int = 1, configs: dict | None = None,
                   connection=None) -> None:
    """Delete ``name`` if it exists and create it empty, so that a notebook re-run starts from the same state.

    Returns once every partition has a leader. ``connection`` (kafkalab.io.connection) for another cluster or user.
    """
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    delete_topic(name, connection=connection)
    new = NewTopic(name, partitions, replication, topic_configs=configs or {})
    with contextlib.closing(admin(connection=connection)) as a:

        def created() -> bool:
            a.create_topics([new])
            return True

        # deletion finishes in the background: creating may briefly still meet the old topic
        wait_until(created, timeout_s=30, interval_s=0.3, retry_on=(TopicAlreadyExistsError,),
                   what=f"creating topic {name} (the old one is still being deleted)",
                   fix="run the cell again in a few seconds")

        def led() -> bool:
            parts = a.describe_topics([name])[0]["partitions"]
            return len(parts) == partitions and all(p["leader_id"] >= 0 for p in parts)

        wait_until(led, timeout_s=30, what=f"a leader for every partition of {name}",
                   fix="see `python -m kafkalab doctor`")


def delete_topic(name: str, connection=None) -> bool:
    """Delete ``name`` if it exists and wait until it is gone (so it can be created again). True if it existed."""
    with contextlib.closing(admin(connection=connection)) as a:
        if name not in a.list_topics():
            return False
        a.delete_topics([name])
        wait_until(lambda: name not in a.list_topics(), timeout_s=30, what=f"deleting topic {name}",
                   fix="try again, or see `python -m kafkalab doctor`")
        return True


def end_offsets(topic: str) -> dict[int, int]:
    """Partition -> end offset (the offset the next record will get) of ``topic``; empty if it does not exist."""
    from kafka import TopicPartition

    with contextlib.closing(consumer(enable_auto_commit=False)) as c:
        parts = c.partitions_for_topic(topic) or set()
        ends = c.end_offsets([TopicPartition(topic, p) for p in parts])
        return {tp.partition: off for tp, off in sorted(ends.items())}


def require_partitions(c, topic: str, fix: str = "create it first") -> list[int]:
    """The partition numbers of ``topic`` as consumer ``c`` sees them; a missing topic is a :class:`LabError` at
    once (reading it would otherwise wait for a timeout)."""
    parts = sorted(c.partitions_for_topic(topic) or ())
    if not parts:
        raise LabError(f"topic {topic} does not exist (or has no partitions yet); {fix}")
    return parts

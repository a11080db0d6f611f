"""Consumer groups: delete one, wait until its members know their partitions, how far behind it is, and the
settings the broker keeps per group.

Taught in Chapter 3, *Kafka's building blocks* (:func:`settle`, :func:`group_lag`); every chapter that runs a group
deletes it through :func:`delete_group` so a re-run starts from offset 0.

Lag is ``end offset - committed offset`` per partition: how many records the group has not yet confirmed. A
partition the group never committed on has no committed offset; its lag is counted from the partition's first
offset (what a consumer with ``auto_offset_reset="earliest"`` would still have to read).
"""
from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..errors import LabError
from ..wait import wait_until
from .clients import admin

#: kafka-python 3 reports each group's deletion as "OK" or the name of the error.
_GONE = ("OK", "GroupIdNotFoundError")


# ------------------------------------------------------------------------------------------ deleting
def delete_group(group: str, timeout_s: float = 20.0, connection=None) -> bool:
    """Delete a consumer group (its committed offsets) so a re-run starts fresh. True if it existed.

    A group that still has members cannot be deleted: close its consumers first. A member that died without
    leaving is dropped by the broker after its session timeout, and one that is closing leaves a moment later,
    so this asks again for ``timeout_s``. ``connection`` (kafkalab.io.connection) for another cluster or user.
    """
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError

    last = {"outcome": None}
    with contextlib.closing(admin(connection=connection)) as a:

        def deleted() -> bool:
            try:  # kafka-python 3 answers {group: "OK" or the error's name}
                last["outcome"] = a.delete_groups([group]).get(group, "OK")
            except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                last["outcome"] = "coordinator not ready"  # first group on a fresh cluster: __consumer_offsets is made
            return last["outcome"] in _GONE

        try:
            wait_until(deleted, timeout_s=timeout_s, interval_s=0.5, what=f"deleting group {group!r}",
                       last_seen=lambda: last["outcome"])
        except LabError:
            if last["outcome"] == "NonEmptyGroupError":
                raise LabError(f"group {group!r} still has members after {timeout_s:g} s: close its consumers "
                               "(consumer.close()), or restart the kernel that runs them") from None
            raise
    return last["outcome"] == "OK"


def idle_groups(pattern: str) -> list[str]:
    """Groups whose id matches the regular expression ``pattern`` and that have no member now, sorted."""
    with contextlib.closing(admin()) as a:
        return sorted(g["group_id"] for g in a.list_groups()
                      if re.match(pattern, g["group_id"]) and g.get("group_state") == "Empty")


def committed_offsets(group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the offset ``group`` has committed there (partitions without a commit are left out)."""
    with contextlib.closing(admin()) as a:
        found = a.list_group_offsets({group: None}).get(group, {})
    return {(tp.topic, tp.partition): om.offset for tp, om in found.items() if om.offset >= 0}


# ------------------------------------------------------------------------------------------ group configurations
def _group_resource(group: str, configs: Mapping | None = None):
    from kafka.admin import ConfigResource, ConfigResourceType

    return ConfigResource(ConfigResourceType.GROUP, group, configs=configs)


def configure_group(group: str, **configs: str | int) -> None:
    """Set group configurations (``kafka-configs --alter --entity-type groups``), before or after the group exists.

    Since Kafka 4.0, consumer groups of the new protocol (KIP-848), streams groups (KIP-1071) and share groups take
    their session timeout, heartbeat interval and record lock from the broker; a group may override them within the
    broker's bounds (Chapters 5 and 12). Keys contain dots, so pass them unpacked: ``configure_group(g,
    **{"consumer.session.timeout.ms": 10000})``. The broker's refusal is a :class:`LabError` quoting its reason,
    e.g. "streams.session.timeout.ms must be in the range 45000 to 60000 inclusive".
    """
    if not configs:
        return
    wanted = {k: str(v) for k, v in configs.items()}
    with contextlib.closing(admin()) as a:
        answer = a.alter_configs([_group_resource(group, wanted)])
    outcome = answer.get("group", {}).get(group, "OK")
    if outcome != "OK":
        raise LabError(f"the broker refused the group configs {wanted} of {group}: {str(outcome).split(': ', 1)[-1]}")


def group_configs(group: str) -> dict[str, str]:
    """The configurations set on ``group`` itself (the others are the broker's ``group.*`` defaults)."""
    with contextlib.closing(admin()) as a:
        found = a.describe_configs([_group_resource(group)])
    return {k: v["value"] for k, v in found.get("group", {}).get(group, {}).items()}


def group_config_origins(group: str, names: Iterable[str]) -> dict[str, tuple[int | str, str]]:
    """``{name: (value, where it comes from)}`` for ``group``: "set for this group", or the broker setting it falls
    back to ("the broker's group.streams.session.timeout.ms"). The group need not exist."""
    names = list(names)
    with contextlib.closing(admin()) as a:
        found = a.describe_configs([_group_resource(group, names)], include_synonyms=True,
                                   config_filter="all").get("group", {}).get(group, {})
    if isinstance(found, str):  # the error's name
        raise LabError(f"the broker did not describe the configs of group {group}: {found}")
    out = {}
    for name in names:
        entry = found.get(name) or {}
        value = entry.get("value")
        value = int(value) if isinstance(value, str) and value.isdigit() else value
        if entry.get("config_source") == "DYNAMIC_GROUP_CONFIG":
            origin = "set for this group"
        else:
            synonyms = [s.get("name") for s in entry.get("synonyms") or [] if isinstance(s, dict)]
            origin = f"the broker's {synonyms[-1]}" if synonyms else "the broker's default"
        out[name] = (value, origin)
    return out


def clear_group_configs(group: str) -> list[str]:
    """Remove every config set for ``group`` (they outlive the group itself); returns their names."""
    from kafka.errors import KafkaError

    try:
        with contextlib.closing(admin()) as a:
            found = a.describe_configs([_group_resource(group)]).get("group", {}).get(group, {})
            own = sorted(k for k, v in found.items() if isinstance(v, dict)
                         and v.get("config_source") == "DYNAMIC_GROUP_CONFIG") if isinstance(found, dict) else []
            if own:
                a.alter_configs([_group_resource(group, {k: ("DELETE", None) for k in own})])
    except KafkaError:  # a broker without group configs (before Kafka 4.0): nothing was set
        return []
    return own


def group_types(groups: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
    """group id -> (type, protocol type) as the broker lists them, e.g. ``("consumer", "consumer")`` for a
    KIP-848 group, ``("classic", "consumer")`` for a classic one, ``("share", "share")``; the ``kafka-groups
    --list`` columns. Only ``groups`` if given."""
    with contextlib.closing(admin()) as a:
        listed = a.list_groups()
    wanted = None if groups is None else set(groups)
    return {g["group_id"]: (g.get("group_type") or "classic", g.get("protocol_type") or "")
            for g in listed if wanted is None or g["group_id"] in wanted}


# ------------------------------------------------------------------------------------------ settling
def _broker_assignment(description: dict) -> dict[str, list[tuple[str, int]]]:
    """client id -> sorted (topic, partition) pairs, from one ``describe_groups`` entry."""
    out = {}
    for m in description["members"]:
        given = m["member_assignment"]  # empty bytes while the group rebalances
        given = given.get("assigned_partitions", []) if isinstance(given, dict) else []
        out[m["client_id"]] = sorted((t["topic"], p) for t in given for p in t["partitions"])
    return out


def settle(consumers: Sequence, timeout_s: float = 30.0, poll_ms: int = 500,
           on_records=None) -> dict[str, list[tuple[str, int]]]:
    """Poll every consumer of one group until the group is stable and each member knows its partitions.

    The broker's view (``describe_groups``) and each consumer's own ``assignment()`` must agree, and together the
    members must hold every partition of the subscribed topics (a member that joined before it knew the topic's
    partitions is first handed nothing, then rejoins). Returns client id -> sorted ``(topic, partition)`` pairs
    (an empty list for an idle member). Records polled while settling go to ``on_records(consumer, records)``
    (called from the polling thread) if given, else they are dropped.

    Each consumer polls in a thread of its own, as if it were its own process. Polling several members in turn
    from one thread leaves each idle while the others poll; kafka-python 3.0.12 then drops a join that completed
    in that gap and starts another one, and the group can keep rebalancing forever.
    """
    if not consumers:
        raise LabError("consumers=[]: give at least one KafkaConsumer")
    groups = {c.config["group_id"] for c in consumers}
    ids = [c.config["client_id"] for c in consumers]
    if len(groups) != 1 or None in groups:
        raise LabError(f"the consumers belong to groups {sorted(map(str, groups))}; settle() needs one group_id")
    if len(set(ids)) != len(ids):
        raise LabError(f"client ids {ids} repeat; give each consumer its own client_id to tell them apart")
    group = groups.pop()
    subscribed = sorted(set().union(*(c.subscription() or set() for c in consumers)))
    if not subscribed:
        raise LabError("the consumers subscribe to nothing; call consumer.subscribe([topic]) first")

    stop = threading.Event()
    failures: list[BaseException] = []

    def keep_polling(c) -> None:
        try:
            while not stop.is_set():
                records = c.poll(timeout_ms=poll_ms)
                if records and on_records is not None:
                    on_records(c, records)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=keep_polling, args=(c,), name=f"settle-{c.config['client_id']}", daemon=True)
               for c in consumers]
    seen: dict = {}
    try:
        with contextlib.closing(admin()) as a:
            expected = sorted((t["name"], p["partition_index"])
                              for t in a.describe_topics(subscribed) for p in t["partitions"])
            for t in threads:
                t.start()

            def settled() -> dict | None:
                if failures:
                    raise failures[0]
                described = a.describe_groups([group])[group]
                broker = _broker_assignment(described)
                local = {c.config["client_id"]: sorted((tp.topic, tp.partition) for tp in c.assignment())
                         for c in consumers}
                held = sorted(pair for pairs in local.values() for pair in pairs)
                seen.update(state=described["group_state"], broker=broker, local=local)
                if described["group_state"] == "Stable" and broker == local and held == expected:
                    return dict(sorted(local.items()))
                return None

            return wait_until(
                settled, timeout_s=timeout_s, interval_s=0.1, what=f"group {group!r} settling",
                last_seen=lambda: (f"state {seen.get('state')}, {len(seen.get('broker', {}))} of {len(consumers)} "
                                   f"members; broker assigns {seen.get('broker')}, members hold {seen.get('local')}"),
                fix="are the consumers subscribed, and is the cluster up?")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=poll_ms / 1000 + 5)


# ------------------------------------------------------------------------------------------ lag
@dataclass(frozen=True)
class PartitionLag:
    """Where a group stands on one partition."""

    topic: str
    partition: int
    start: int  # first offset still in the log
    end: int  # the offset the next record will get
    committed: int | None  # None: the group never committed on this partition

    @property
    def lag(self) -> int:
        """Records the group has not committed yet (counted from ``start`` when it never committed)."""
        return self.end - (self.start if self.committed is None else self.committed)


def lag_rows(ends: Mapping[tuple[str, int], int], committed: Mapping[tuple[str, int], int | None],
             starts: Mapping[tuple[str, int], int] | None = None) -> list[PartitionLag]:
    """Pure arithmetic behind :func:`group_lag`: one row per partition in ``ends``, sorted by topic and partition.

    A committed offset of ``None`` or ``-1`` (Kafka's "no offset") means the group never committed there.
    """
    rows = []
    for (topic, partition), end in sorted(ends.items()):
        c = committed.get((topic, partition))
        c = None if c is None or c < 0 else c
        start = (starts or {}).get((topic, partition), 0)
        if c is not None and c > end:
            raise LabError(f"{topic}[{partition}]: committed offset {c} is past the end offset {end}; "
                           "was the topic deleted and re-created while the group kept its offsets?")
        rows.append(PartitionLag(topic, partition, start, end, c))
    return rows


def group_lag(group: str, topics: str | Iterable[str] | None = None) -> list[PartitionLag]:
    """Lag of ``group`` on every partition of ``topics`` (default: the topics the group committed on)."""
    from kafka import TopicPartition
    from kafka.admin import OffsetSpec

    with contextlib.closing(admin()) as a:
        fetched = a.list_group_offsets({group: None}).get(group, {})
        if topics is None:
            names = sorted({tp.topic for tp in fetched})
        else:
            names = [topics] if isinstance(topics, str) else sorted(topics)
        if not names:
            return []
        described = a.describe_topics(names)
        tps = []
        for t in described:
            if t.get("error_code") or not t["partitions"]:
                raise LabError(f"topic {t['name']!r} does not exist (or has no partitions); check the name")
            tps += [TopicPartition(t["name"], p["partition_index"]) for p in t["partitions"]]
        ends = a.list_partition_offsets({tp: OffsetSpec.LATEST for tp in tps})
        starts = a.list_partition_offsets({tp: OffsetSpec.EARLIEST for tp in tps})
    return lag_rows({(tp.topic, tp.partition): ends[tp].offset for tp in tps},
                    {(tp.topic, tp.partition): m.offset for tp, m in fetched.items()},
                    {(tp.topic, tp.partition): starts[tp].offset for tp in tps})

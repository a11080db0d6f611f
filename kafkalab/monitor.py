"""Watch the course cluster the way a "Kafka Manager" would: what runs, who reads what, how far behind, how fast.

Taught in Chapter 1, *The Kafka ecosystem* (:func:`stack`, :func:`quorum`, :func:`node_roles`: the live tour of the
local stack) and Chapter 2, *Kafka's building blocks* (:func:`settle` for consumer-group assignments,
:func:`group_lag` and :class:`LagMonitor` for lag, :func:`measure_produce` for batch- against stream-shaped traffic).

Lag is ``end offset - committed offset`` per partition: how many records the group has not yet confirmed. A
partition the group never committed on has no committed offset; its lag is counted from the partition's first
offset (what a consumer with ``auto_offset_reset="earliest"`` would still have to read).
"""
from __future__ import annotations

import contextlib
import html
import json
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import ipywidgets as widgets

from .clients import admin, producer
from .config import HOST, PORTS
from .errors import LabError
from .outputs import show

#: The message every companion service reports when it does not answer (the chapters that need one start it).
NOT_RUNNING = "not running — started by the chapter that needs it"


# ------------------------------------------------------------------------------------------ the stack tour
@dataclass(frozen=True)
class Component:
    """One part of the local stack and whether it runs."""

    name: str
    role: str
    running: bool
    detail: str
    up_word: str = "running"  # what "it works" means for this part (topics are "available", not "running")

    @property
    def status(self) -> str:
        return self.up_word if self.running else NOT_RUNNING


def node_roles(node_id: int = 1) -> list[str]:
    """The ``process.roles`` of a node that serves clients (``["broker", "controller"]`` on the course cluster)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    with contextlib.closing(admin()) as a:
        found = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(node_id), {"process.roles": None})],
                                   config_filter="all")
    value = found.get("broker", {}).get(str(node_id), {}).get("process.roles", {}).get("value")
    if value is None:
        raise LabError(f"node {node_id} did not report process.roles; is it a broker of this cluster? "
                       "(`python -m kafkalab status`)")
    return [role.strip() for role in value.split(",") if role.strip()]


def quorum() -> dict:
    """The KRaft controller quorum: leader id, voter ids, observer ids, controller endpoints, high watermark."""
    with contextlib.closing(admin()) as a:
        q = a.describe_metadata_quorum()
    part = q["topics"][0]["partitions"][0]  # the quorum replicates one log: __cluster_metadata, partition 0
    endpoints = {n["node_id"]: [f"{x['host']}:{x['port']}" for x in n["listeners"]] for n in q.get("nodes", [])}
    return {
        "leader": part["leader_id"],
        "voters": sorted(v["replica_id"] for v in part["current_voters"]),
        "observers": sorted(o["replica_id"] for o in part["observers"]),
        "endpoints": dict(sorted(endpoints.items())),
        "high_watermark": part["high_watermark"],
    }


def _http_json(url: str, timeout_s: float):
    """GET ``url`` and decode JSON; None when nothing answers or the answer is not JSON."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return json.loads(response.read().decode())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _service(name: str, role: str, port: int, path: str, describe, timeout_s: float) -> Component:
    from .cluster.procs import port_answers

    if not port_answers(port, HOST, timeout=min(timeout_s, 1.0)):
        return Component(name, role, False, f"nothing listens on {HOST}:{port}")
    answer = _http_json(f"http://{HOST}:{port}{path}", timeout_s)
    if answer is None:
        return Component(name, role, False, f"{HOST}:{port} answers, but not as a {name}: another program holds the port?")
    return Component(name, role, True, f"{HOST}:{port}, {describe(answer)}")


def stack(timeout_s: float = 3.0) -> list[Component]:
    """Every component of the local stack, in the order of the ecosystem diagram, with whether it runs.

    Brokers and the controller quorum are asked through the admin client; the schema registry (port 8081) and
    Kafka Connect (port 8083) through their REST APIs. Services that do not answer are reported, not raised.
    """
    from .clients import describe_cluster

    cluster = describe_cluster(timeout_s=timeout_s)
    parts = []
    for b in sorted(cluster["brokers"], key=lambda b: b["broker_id"]):
        roles = node_roles(b["broker_id"])
        parts.append(Component(f"broker {b['broker_id']}", "stores partitions, serves producers and consumers", True,
                               f"{b['host']}:{b['port']}, process.roles = {', '.join(roles)}"))
    q = quorum()
    ends = ", ".join(e for eps in q["endpoints"].values() for e in eps)
    parts.append(Component("KRaft controller quorum", "keeps the cluster's metadata (ZooKeeper's old job)",
                           q["leader"] in q["voters"],
                           f"leader node {q['leader']}, voters {q['voters']}, listening on {ends}"))
    with contextlib.closing(admin()) as a:
        names = a.list_topics()
    internal = [n for n in names if n.startswith("__")]
    parts.append(Component("topics", "named, partitioned logs the data lives in", True,
                           f"{len(names) - len(internal)} topics (+ {len(internal)} internal)", "available"))
    parts.append(_service("schema registry", "stores and checks record schemas", PORTS["registry"],
                          "/apis/ccompat/v7/subjects", lambda subjects: f"{len(subjects)} subject(s)", timeout_s))
    parts.append(_service("Kafka Connect", "copies data between Kafka and other systems", PORTS["connect"],
                          "/", lambda info: f"version {info.get('version', '?')}", timeout_s))
    return parts


def stack_table(components: Sequence[Component]):
    """The tour as a table (a pandas DataFrame): component, role, status, detail."""
    import pandas as pd

    return pd.DataFrame([{"component": c.name, "role": c.role, "status": c.status, "detail": c.detail}
                         for c in components])


# ------------------------------------------------------------------------------------------ consumer groups
def delete_group(group: str, timeout_s: float = 20.0) -> bool:
    """Delete a consumer group (its committed offsets) so a re-run starts fresh. True if it existed.

    A group that still has members cannot be deleted: close its consumers first. A member that died without
    leaving is dropped by the broker after its session timeout, so this retries for ``timeout_s``.
    """
    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError

    deadline = time.monotonic() + timeout_s
    with contextlib.closing(admin()) as a:
        while True:
            try:
                outcome = a.delete_groups([group]).get(group, "OK")
            except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError):
                outcome = "coordinator not ready"  # first group on a fresh cluster: __consumer_offsets is being made
            if outcome == "OK":
                return True
            if outcome == "GroupIdNotFoundError":
                return False
            if time.monotonic() > deadline:
                if outcome == "NonEmptyGroupError":
                    raise LabError(f"group {group!r} still has members after {timeout_s:.0f} s: close its consumers "
                                   "(consumer.close()), or restart the kernel that runs them")
                raise LabError(f"could not delete group {group!r}: {outcome}")
            time.sleep(0.5)


def _broker_assignment(description: dict) -> dict[str, list[tuple[str, int]]]:
    """client id -> sorted (topic, partition) pairs, from one ``describe_groups`` entry."""
    out = {}
    for m in description["members"]:
        given = m["member_assignment"]  # empty bytes while the group rebalances
        given = given.get("assigned_partitions", []) if isinstance(given, dict) else []
        out[m["client_id"]] = sorted((t["topic"], p) for t in given for p in t["partitions"])
    return out


def settle(consumers: Sequence, timeout_s: float = 30.0, poll_ms: int = 500, on_records=None) -> dict[str, list[tuple[str, int]]]:
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
    deadline = time.monotonic() + timeout_s
    try:
        with contextlib.closing(admin()) as a:
            expected = sorted((t["name"], p["partition_index"])
                              for t in a.describe_topics(subscribed) for p in t["partitions"])
            for t in threads:
                t.start()
            while True:
                time.sleep(0.1)
                if failures:
                    raise failures[0]
                described = a.describe_groups([group])[group]
                broker = _broker_assignment(described)
                local = {c.config["client_id"]: sorted((tp.topic, tp.partition) for tp in c.assignment())
                         for c in consumers}
                held = sorted(pair for pairs in local.values() for pair in pairs)
                if described["group_state"] == "Stable" and broker == local and held == expected:
                    return dict(sorted(local.items()))
                if time.monotonic() > deadline:
                    raise LabError(f"group {group!r} did not settle within {timeout_s:.0f} s (state "
                                   f"{described['group_state']}, {len(broker)} of {len(consumers)} members; broker "
                                   f"assigns {broker}, members hold {local}); are the consumers subscribed, and is "
                                   "the cluster up?")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=poll_ms / 1000 + 5)


def assignment_table(assignment: Mapping[str, Sequence[tuple[str, int]]]):
    """Member -> partitions as a DataFrame; members with no partition are marked idle."""
    import pandas as pd

    rows = []
    for member, pairs in sorted(assignment.items()):
        parts = sorted(p for _, p in pairs)
        rows.append({"member": member, "partitions": ", ".join(map(str, parts)) if parts else "— (idle)"})
    return pd.DataFrame(rows)


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


def lag_table(rows: Sequence[PartitionLag]):
    """The lag rows as a DataFrame: topic, partition, end offset, committed offset, lag."""
    import pandas as pd

    return pd.DataFrame([{"topic": r.topic, "partition": r.partition, "end offset": r.end,
                          "committed": "none" if r.committed is None else r.committed, "lag": r.lag} for r in rows])


def lag_figure(rows: Sequence[PartitionLag], group: str = ""):
    """Bars of end offset against committed offset per partition; the gap between them is the lag."""
    import plotly.graph_objects as go

    labels = [f"{r.topic} [{r.partition}]" for r in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[r.end for r in rows], name="end offset", marker_color="#9ecae1")
    fig.add_bar(x=labels, y=[r.committed or 0 for r in rows], name="committed offset", marker_color="#3182bd",
                text=[f"lag {r.lag}" for r in rows], textposition="outside")
    total = sum(r.lag for r in rows)
    fig.update_layout(barmode="group", height=340, width=620, margin=dict(t=50, l=50, r=20, b=40),
                      title=f"Group {group}: total lag {total}" if group else f"Total lag {total}",
                      yaxis_title="offset", legend=dict(orientation="h", y=-0.2))
    return fig


def _lag_html(rows: Sequence[PartitionLag]) -> str:
    head = "<tr><th>partition</th><th>end offset</th><th>committed</th><th>lag</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(r.topic)} [{r.partition}]</td><td>{r.end}</td>"
        f"<td>{'none' if r.committed is None else r.committed}</td><td><b>{r.lag}</b></td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


class LagMonitor(widgets.VBox):
    """A small lag dashboard: a Refresh button, a table and a bar chart for one group on some topics.

    ``refresh()`` re-reads the offsets from the cluster and returns the rows, so tests and notebooks can use it
    without clicking. Live clicks need a running kernel (JupyterLab or Binder); the book shows the saved state.
    """

    def __init__(self, group: str, topics: str | Iterable[str] | None = None) -> None:
        self.group = group
        self.topics = topics
        self.rows: list[PartitionLag] = []
        self.figure = None
        self.button = widgets.Button(description="Refresh", icon="refresh", tooltip="read the offsets again")
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.output = widgets.Output()
        self.refreshes = 0
        self.button.on_click(lambda _: self.refresh())
        super().__init__([widgets.HTML(f"<b>Consumer group</b> <code>{html.escape(group)}</code>"),
                          widgets.HBox([self.button, self.status]), self.table, self.output])
        self.refresh()

    @property
    def total_lag(self) -> int:
        return sum(r.lag for r in self.rows)

    def refresh(self) -> list[PartitionLag]:
        """Read end and committed offsets again and redraw; on failure show the error and keep the last rows."""
        from kafka.errors import KafkaError

        try:
            rows = group_lag(self.group, self.topics)
        except (LabError, KafkaError) as exc:
            self.status.value = f'<span style="color:#c62828">{html.escape(str(exc))}</span>'
            return self.rows
        self.rows = rows
        self.refreshes += 1
        self.figure = lag_figure(rows, self.group)
        self.table.value = _lag_html(rows)
        self.status.value = f"total lag <b>{self.total_lag}</b> (refreshed at {time.strftime('%H:%M:%S')})"
        # Replace the Output widget's contents through its state, not by capturing display messages: a capture
        # (`with self.output: clear_output(wait=True); display(...)`) started from a later cell can leave nbclient
        # waiting forever when the notebook runs under nbconvert or nbval.
        show(self.output, self.figure)
        return rows


# ------------------------------------------------------------------------------------------ throughput
@dataclass(frozen=True)
class Throughput:
    """How fast one producer wrote ``messages`` records of ``message_bytes`` each (1 MB = 1,000,000 bytes)."""

    label: str
    messages: int
    message_bytes: int
    seconds: float

    @property
    def msgs_per_s(self) -> float:
        return self.messages / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.messages * self.message_bytes / self.seconds / 1_000_000


def measure_produce(topic: str, messages: int, message_bytes: int, label: str = "", **producer_overrides) -> Throughput:
    """Send ``messages`` records of ``message_bytes`` random bytes to ``topic`` and time it until all are acknowledged.

    One warm-up record (not counted) fetches the metadata first. The producer keeps kafka-python's defaults
    (``acks=all``, ``linger_ms=0``, 16 KB batches) unless you override them.
    """
    if messages < 1 or message_bytes < 1:
        raise LabError(f"messages={messages}, message_bytes={message_bytes}: both must be 1 or more")
    overrides = {"max_request_size": max(1_048_576, message_bytes + 1024), **producer_overrides}
    payload = random.Random(message_bytes).randbytes(message_bytes)  # incompressible, the same on every run
    with contextlib.closing(producer(**overrides)) as p:
        p.send(topic, payload).get(timeout=30)
        t0 = time.perf_counter()
        for _ in range(messages):
            p.send(topic, payload)
        p.flush(timeout=120)
        seconds = time.perf_counter() - t0
    return Throughput(label or f"{messages} x {message_bytes} B", messages, message_bytes, seconds)


def throughput_table(results: Sequence[Throughput]):
    """The measurements as a DataFrame (volatile numbers: they depend on the machine and its load)."""
    import pandas as pd

    return pd.DataFrame([{"traffic": r.label, "messages": r.messages, "message size (bytes)": r.message_bytes,
                          "seconds": round(r.seconds, 2), "msgs/s": round(r.msgs_per_s),
                          "MB/s": round(r.mb_per_s, 1)} for r in results])

"""Watch the course cluster the way a "Kafka Manager" would: what runs, who reads what, how fast.

Taught in Chapter 2, *The Kafka ecosystem* (:func:`stack`, :func:`quorum`, :func:`node_roles`: the live tour of the
local stack) and Chapter 3, *Kafka's building blocks* (:func:`assignment_table` for consumer-group assignments,
:func:`measure_produce` for batch- against stream-shaped traffic). Groups themselves (settling, lag, deletion) are
:mod:`kafkalab.io.groups`; the lag widget is :mod:`kafkalab.widgets.lag`.
"""
from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .cluster import services
from .cluster.procs import port_answers
from .config import HOST
from .errors import LabError
from .io import http
from .io.clients import admin, describe_cluster, producer
from .validate import count

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


def _service(name: str, label: str, role: str, path: str, describe, timeout_s: float) -> Component:
    """One companion service (``name`` as :mod:`kafkalab.cluster.services` knows it), asked through its REST API."""
    svc = services.service(name)
    if not port_answers(svc.port, HOST, timeout=min(timeout_s, 1.0)):
        return Component(label, role, False, f"nothing listens on {HOST}:{svc.port}")
    try:
        answer = http.call("GET", svc.url + path, timeout_s=timeout_s)
    except LabError:
        answer = None
    if not isinstance(answer, (dict, list)):
        return Component(label, role, False,
                         f"{HOST}:{svc.port} answers, but not as a {label}: another program holds the port?")
    return Component(label, role, True, f"{HOST}:{svc.port}, {describe(answer)}")


def stack(timeout_s: float = 3.0) -> list[Component]:
    """Every component of the local stack, in the order of the ecosystem diagram, with whether it runs.

    Brokers and the controller quorum are asked through the admin client; the schema registry and Kafka Connect
    (ports 8081 and 8083 unless configured otherwise) through their REST APIs. Services that do not answer are
    reported, not raised.
    """
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
    parts.append(_service("registry", "schema registry", "stores and checks record schemas",
                          services.Registry.CCOMPAT + "/subjects", lambda subjects: f"{len(subjects)} subject(s)",
                          timeout_s))
    parts.append(_service("connect", "Kafka Connect", "copies data between Kafka and other systems",
                          "/", lambda info: f"version {info.get('version', '?')}", timeout_s))
    return parts


def stack_table(components: Sequence[Component]):
    """The tour as a table (a pandas DataFrame): component, role, status, detail."""
    import pandas as pd

    return pd.DataFrame([{"component": c.name, "role": c.role, "status": c.status, "detail": c.detail}
                         for c in components])


# ------------------------------------------------------------------------------------------ consumer groups
def assignment_table(assignment: Mapping[str, Sequence[tuple[str, int]]]):
    """Member -> partitions as a DataFrame; members with no partition are marked idle."""
    import pandas as pd

    rows = []
    for member, pairs in sorted(assignment.items()):
        parts = sorted(p for _, p in pairs)
        rows.append({"member": member, "partitions": ", ".join(map(str, parts)) if parts else "— (idle)"})
    return pd.DataFrame(rows)


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
    count("messages", messages)
    count("message_bytes", message_bytes)
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

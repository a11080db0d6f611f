"""Replication and failure on the three-broker cluster (notebooks/11_replication.ipynb).

What the chapter asks the cluster — who leads each partition, which replicas are in sync — and the ways it
breaks brokers on purpose: killed, paused, restarted. Every way of breaking one comes as a ``with`` block that
puts the cluster back when the block ends, even when a cell fails half way. Reading a topic back is
:func:`kafkalab.io.read.read_to_end` (with ``until=`` the end offsets of the moment that matters).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Iterator

from .cluster import broker
from .errors import LabError
from .wait import wait_until

PartitionState = dict  # {"leader": int, "replicas": [int, ...], "isr": [int, ...]} (isr sorted)


class Replicas:
    """Partition state of topics, read through one admin client (``ADMIN`` in chapter 10)."""

    def __init__(self, admin, retry_s: float = 1.5) -> None:
        self.admin = admin
        self.retry_s = retry_s

    def partitions(self, topic: str) -> dict[int, PartitionState]:
        """Partition -> its leader, replicas and in-sync replicas, as the cluster reports them now.

        A broker that has just died may be the one asked: the question is asked again for ``retry_s`` seconds.
        """
        from kafka.errors import KafkaError

        (described,) = wait_until(lambda: (self.admin.describe_topics([topic])[0]["partitions"],),
                                  timeout_s=self.retry_s, interval_s=0.3, retry_on=(KafkaError,),
                                  what=f"describing {topic}",
                                  fix="is a majority of the brokers up? (`python -m kafkalab status`)")
        return {p["partition_index"]: {"leader": p["leader_id"], "replicas": p["replica_nodes"],
                                       "isr": sorted(p["isr_nodes"])}
                for p in sorted(described, key=lambda p: p["partition_index"])}

    def table(self, topic: str):
        """The same as a table; the preferred leader is the first replica in the list."""
        import pandas as pd

        return pd.DataFrame([{"partition": n, "leader": s["leader"], "replicas": s["replicas"],
                              "in-sync replicas (ISR)": s["isr"], "preferred leader": s["replicas"][0]}
                             for n, s in self.partitions(topic).items()]).set_index("partition")

    def led_by(self, topic: str, node: int) -> int:
        """A partition of ``topic`` whose leader is ``node``."""
        found = [n for n, s in self.partitions(topic).items() if s["leader"] == node]
        if not found:
            raise LabError(f"broker {node} leads no partition of {topic}; replicas.table({topic!r}) shows who does")
        return found[0]

    def led_away_from_controller(self, topic: str) -> int:
        """A partition of ``topic`` whose leader is not the active controller (the lowest such partition).

        On the course's combined nodes, killing the broker that also leads the controller quorum adds a controller
        election to the failover; under load the two surviving voters can then take a minute or more to agree.
        """
        controller = self.admin.describe_metadata_quorum()["topics"][0]["partitions"][0]["leader_id"]
        found = [n for n, s in self.partitions(topic).items() if s["leader"] not in (controller, -1)]
        if not found:
            raise LabError(f"every partition of {topic} is led by the active controller (node {controller}); "
                           "recreate the topic so that its leaders spread over the brokers")
        return found[0]

    def watch(self, topic: str, partition: int, done: Callable[[PartitionState], bool], timeout_s: float = 60,
              seen: list | None = None) -> list:
        """Poll one partition until ``done(state)`` holds; return the changes seen as (time, leader, ISR),
        appended to ``seen`` if given. Raises :class:`LabError` (naming the last state) after ``timeout_s``."""
        seen = [] if seen is None else seen

        def reached() -> bool:
            state = self.partitions(topic)[partition]
            if not seen or (state["leader"], state["isr"]) != seen[-1][1:]:
                seen.append((time.monotonic(), state["leader"], state["isr"]))
            return done(state)

        wait_until(reached, timeout_s=timeout_s, interval_s=0.1,
                   what=f"partition {partition} of {topic} reaching the state we waited for",
                   last_seen=lambda: f"leader {seen[-1][1]}, ISR {seen[-1][2]}")
        return seen

    def wait_in_sync(self, *topics: str, timeout_s: float = 60) -> None:
        """Wait until every replica of every partition of ``topics`` is back in the ISR."""
        for topic in topics:
            for n in self.partitions(topic):
                self.watch(topic, n, lambda st: st["leader"] >= 0 and bool(st["replicas"])
                           and st["isr"] == sorted(st["replicas"]), timeout_s)


@contextlib.contextmanager
def nodes_restored() -> Iterator[None]:
    """Whatever happens in the block, start the nodes that are not running when it ends (with their data)."""
    try:
        yield
    finally:
        broker.up(quiet=True)


@contextlib.contextmanager
def frozen(node_ids) -> Iterator[list[int]]:
    """Pause nodes with SIGSTOP (as a long garbage-collection pause would); SIGCONT resumes every node it stopped
    when the block ends, however it ends (even if stopping a later node failed)."""
    pids = []
    for node in node_ids:
        pid = broker.node_pid(node)
        if pid is None:
            raise LabError(f"node-{node} is not running; `python -m kafkalab up` starts it")
        pids.append(pid)
    stopped: list[int] = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield pids
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):  # killed inside the block: nothing to resume
                os.kill(pid, signal.SIGCONT)


class Payments:
    """Numbered payments sent in the background; remembers when each was acknowledged and which failed."""

    def __init__(self, producer, topic: str, rate: float = 200, customers: int = 40) -> None:
        self.producer, self.topic, self.rate, self.customers = producer, topic, rate, customers
        self.acked: dict[int, float] = {}  # payment number -> time of its acknowledgement
        self.failed: dict[int, str] = {}  # payment number -> its error
        self.sent = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _send_until_stopped(self) -> None:
        while not self._stop.is_set():
            n = self.sent
            future = self.producer.send(self.topic, key=f"C{n % self.customers:03d}".encode(),
                                        value=json.dumps({"payment_id": n}).encode())
            future.add_callback(lambda _meta, n=n: self.acked.setdefault(n, time.monotonic()))
            future.add_errback(lambda exc, n=n: self.failed.setdefault(n, repr(exc)))
            self.sent += 1
            time.sleep(1 / self.rate)
        self.producer.flush(timeout=60)

    def __enter__(self) -> Payments:
        self._thread = threading.Thread(target=self._send_until_stopped, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        """Stop sending, wait for the last acknowledgements, close the producer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=90)
        self.producer.close(timeout=10)


class Probe:
    """One ``acks=all`` send at a time with ``retries=0`` (section 6 of Chapter 11): the broker's own answer at once,
    where a normal producer would retry ``NotEnoughReplicas`` until its delivery timeout and then report only
    "Expiring 1 record(s)"."""

    def __init__(self, bootstrap: str, request_timeout_ms: int = 3000) -> None:
        from .io.clients import producer

        self.producer = producer(bootstrap_servers=bootstrap, acks="all", retries=0, enable_idempotence=False,
                                 request_timeout_ms=request_timeout_ms)

    def send(self, topic: str, partition: int, timeout_s: float = 10) -> str:
        """Send one record to ``partition`` of ``topic``: "acknowledged" or "not acknowledged: <error name>"."""
        from kafka.errors import KafkaError

        try:
            self.producer.send(topic, value=b"probe", partition=partition).get(timeout=timeout_s)
            return "acknowledged"
        except KafkaError as e:
            return f"not acknowledged: {type(e).__name__}"

    def close(self) -> None:
        self.producer.close(timeout=10)


# ----------------------------------------------------------------------------------------------- a leader kill test
@dataclass(frozen=True)
class KillReport:
    """What a leader kill did to numbered payments written with some settings (:func:`leader_kill_test`).

    ``before`` were written while the followers were paused, just before the leader was killed; ``during`` while
    the killed broker was down. ``in_sync_while_down`` is the ISR size of the partition then."""

    replication_factor: int
    min_insync: int
    acks: object
    idempotent: bool
    before_acknowledged: int
    during_written: int
    during_acknowledged_in_time: int  # within the few seconds the broker stayed down
    refused_while_down: bool  # a single acks=all send then got NotEnoughReplicas from the new leader
    acknowledged: int  # in the end, before and during
    lost: int  # acknowledged but not in the topic after the failover
    duplicates: int  # payments stored more than once
    in_sync_while_down: int


def _refused(topic: str, bootstrap: str, timeout_s: float = 45) -> bool:
    """Does the leader of partition 0 refuse an acks=all write now (NotEnoughReplicas)? One :class:`Probe` send
    at a time until the broker gives either answer; a timeout or a stale leader just means "ask again"."""
    probe = Probe(bootstrap, request_timeout_ms=5000)
    try:
        def answered() -> str | None:
            outcome = probe.send(topic, 0, timeout_s=8)
            return outcome if outcome == "acknowledged" or "NotEnoughReplicas" in outcome else None

        return "NotEnoughReplicas" in wait_until(answered, timeout_s=timeout_s, interval_s=0.5,
                                                 what=f"a clear answer to one acks=all write to {topic}")
    finally:
        probe.close()


def leader_kill_test(topic: str, bootstrap: str, settings: Mapping[str, object], per_phase: int = 50,
                     outage_s: float = 5.0) -> KillReport:
    """Write numbered payments to the one-partition ``topic`` with the producer ``settings`` (``acks``,
    ``enable_idempotence``) through a leader kill, and count what survived.

    1. Pause both followers (SIGSTOP) for a second, so nothing written now reaches them; write ``per_phase``
       payments; kill the leader (SIGKILL); resume the followers. One of them takes over.
    2. While the killed broker is down, send one acks=all probe (does the new leader refuse writes with
       NotEnoughReplicas?), write ``per_phase`` more and wait up to ``outage_s`` for their acknowledgements; note
       the ISR size.
    3. Restart the broker, let every producer request finish, wait until all replicas are in sync, read the topic
       back and compare it with the acknowledgements.
    """
    from collections import Counter

    from .io.clients import admin, producer
    from .io.read import read_to_end

    a = admin(bootstrap_servers=bootstrap)
    replicas = Replicas(a)
    p = producer(bootstrap_servers=bootstrap, acks=settings["acks"],
                 enable_idempotence=bool(settings["enable_idempotence"]), request_timeout_ms=10000,
                 delivery_timeout_ms=60000, linger_ms=0)
    try:
        replicas.wait_in_sync(topic)
        p.send(topic, key=b"warm-up", value=b"warm-up").get(timeout=20)  # metadata and a producer id first
        state = replicas.partitions(topic)[0]
        leader, followers = state["leader"], [n for n in state["replicas"] if n != state["leader"]]
        with nodes_restored():
            with frozen(followers):
                time.sleep(1)  # the followers' pending fetches expire empty (replica.fetch.wait.max.ms, 500 ms)
                before = [p.send(topic, key=b"before", value=json.dumps({"payment_id": i}).encode())
                          for i in range(per_phase)]
                time.sleep(0.5)
                before_acked = sum(f.succeeded() for f in before)
                broker.kill_node(leader)
            replicas.watch(topic, 0, lambda s: s["leader"] not in (leader, -1), timeout_s=90)
            in_sync = len(replicas.partitions(topic)[0]["isr"])
            refused = _refused(topic, bootstrap)
            during = [p.send(topic, key=b"during", value=json.dumps({"payment_id": per_phase + i}).encode())
                      for i in range(per_phase)]
            deadline = time.monotonic() + outage_s
            while time.monotonic() < deadline and not all(f.is_done for f in during):
                time.sleep(0.1)
            during_in_time = sum(f.succeeded() for f in during)
            broker.up(quiet=True)
        p.flush(timeout=90)
        replicas.wait_in_sync(topic, timeout_s=90)
        acked = [i for i, f in enumerate(before + during) if f.succeeded()]
        stored = Counter(json.loads(r.value)["payment_id"] for r in read_to_end(topic, bootstrap_servers=bootstrap)
                         if r.key in (b"before", b"during"))
    finally:
        p.close(timeout=10)
        a.close()
    return KillReport(
        replication_factor=len(state["replicas"]), min_insync=int(settings.get("min_insync_replicas", 0) or 0),
        acks=settings["acks"], idempotent=bool(settings["enable_idempotence"]), before_acknowledged=before_acked,
        during_written=per_phase, during_acknowledged_in_time=during_in_time, refused_while_down=refused,
        acknowledged=len(acked),
        lost=sum(1 for i in acked if i not in stored), duplicates=sum(1 for c in stored.values() if c > 1),
        in_sync_while_down=in_sync)

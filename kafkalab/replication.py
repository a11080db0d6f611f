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

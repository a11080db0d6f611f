"""Share groups ("queues for Kafka", KIP-932) from Python, taught in Chapter 12, *Consumer groups, queues and
transactions in Kafka 4*.

The course's Python clients have no share consumer: kafka-python has none, and confluent-kafka's ``ShareConsumer``
needs 2.15 or newer while Quix Streams requires confluent-kafka < 2.13. So the consumers here are Kafka's own Java
``KafkaShareConsumer``, in ``streams/ShareWorker.java``, started with Java's single-file launcher and the jars Maven
resolved, and driven from Python one JSON line at a time: the JVM prints every batch it receives, Python decides
per record (accept, release or reject) and writes the decisions back; the JVM acknowledges them and reports the
outcome. The Kafka protocol work is all Kafka's; the decisions are yours::

    configure_group(GROUP, **CLASSROOM)                   # start at the earliest record, answer quickly
    with run(GROUP, TOPIC, consumers=3, handle=decide) as workers:
        workers.wait_for(lambda w: len(w.accepted()) >= 60, timeout_s=30, what="all 60 records accepted")
    workers.deliveries                                      # who got which record, how often, and what we said

A share group's settings are group configurations on the broker (``kafka-configs --entity-type groups``), not
client settings: :func:`kafkalab.io.groups.configure_group` sets them with the admin API.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .config import JVM_DIR, REPO, bootstrap_servers
from .io.connection import connection
from .errors import LabError
from .wait import wait_until

#: The Java program that holds the share consumers.
WORKER_SOURCE = REPO / "streams" / "ShareWorker.java"
#: What a handler may answer for a record (Kafka's AcknowledgeType, in lower case).
DECISIONS = ("accept", "release", "reject")
#: Group settings for the chapter's share groups: read from the first record (a new share group starts at the end
#: of the log), and 1 s heartbeats so that members get their assignment within a second (default 5 s; the course
#: broker lowers the floor to allow it, see server.properties.template).
CLASSROOM = {"share.auto.offset.reset": "earliest", "share.heartbeat.interval.ms": "1000"}
#: A small heap and a quick start for a short-lived client JVM.
JVM_OPTS = ["-Xmx96m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


# ------------------------------------------------------------------------------------------ the cluster
def share_version(bootstrap: str | None = None) -> int:
    """The cluster's finalized ``share.version`` feature (0: share groups are off), from its ApiVersions answer."""
    from .io.clients import admin

    with contextlib.closing(admin(**({"bootstrap_servers": bootstrap} if bootstrap else {}))) as a:
        features = a.describe_features()
    return int(features.get("share.version", {}).get("finalized", (0, 0))[1])


def share_groups_off(bootstrap: str | None = None) -> LabError:
    """The one line for a cluster without share groups: the cause and the command that fixes it."""
    where = bootstrap or bootstrap_servers()
    return LabError(f"share groups are off on the cluster at {where} (feature share.version=0; its data predates "
                    f"Kafka 4.2, or someone disabled them): turn them on with `python -m kafkalab tool kafka-features "
                    f"--bootstrap-server {where} upgrade --feature share.version=2`")


def require_share_groups(bootstrap: str | None = None) -> None:
    """Raise :func:`share_groups_off` when the cluster has share groups off, instead of starting share consumers
    that fail on their first heartbeat."""
    if share_version(bootstrap) < 1:
        raise share_groups_off(bootstrap)


#: The headers a broker puts on a dead-letter record (KIP-1191, Kafka 4.4), and the names :func:`dead_letters` uses.
DLQ_HEADERS = {"__dlq.errors.topic": "topic", "__dlq.errors.partition": "partition", "__dlq.errors.offset": "offset",
               "__dlq.errors.group": "group", "__dlq.errors.delivery.count": "delivery_count",
               "__dlq.errors.message": "reason"}


def dead_letters(topic: str, expect: int = 0, timeout_s: float = 20) -> list[dict]:
    """The records of a share group's dead-letter topic, as dicts of their context headers (which record of which
    topic, which group, after how many deliveries, why). The broker writes them a moment after it archives a
    record, so this waits up to ``timeout_s`` for ``expect`` of them."""
    from .io.read import read_to_end

    def read() -> list[dict]:
        rows = []
        for r in read_to_end(topic, timeout_s=timeout_s):
            h = {DLQ_HEADERS[k]: v.decode(errors="replace") for k, v in (r.headers or []) if k in DLQ_HEADERS}
            rows.append({**h, "dlq_offset": r.offset})
        return rows

    found: list[dict] = []

    def enough():
        found[:] = read()
        return len(found) >= expect

    wait_until(enough, timeout_s=timeout_s, interval_s=0.3, what=f"{expect} record(s) in the dead-letter topic {topic}",
               last_seen=lambda: f"{len(found)} record(s)",
               fix="does the topic allow it (errors.deadletterqueue.group.enable=true), and does the group name it "
                   "(errors.deadletterqueue.topic.name)?")
    return found


# ------------------------------------------------------------------------------------------ the worker JVM
@dataclass(frozen=True)
class Delivery:
    """One delivery of one record to one share consumer (a record released or timed out is delivered again)."""

    worker: str  # the worker (JVM) that received it
    consumer: int  # which of its share consumers, 0 ..
    partition: int
    offset: int
    key: str | None
    value: str | None
    delivery_count: int  # 1 the first time, 2 after one release or lock timeout ...
    t: float  # wall-clock time it was printed by the JVM
    decision: str | None = None  # what the handler answered (None: not answered, e.g. still processing)

    @property
    def member(self) -> str:
        """``<worker>/<consumer>``: one share consumer, across workers."""
        return f"{self.worker}/{self.consumer}"


def java_command(group: str, topic: str, *, consumers: int = 1, mode: str = "accept", max_seconds: int = 120,
                 configs: dict | None = None, bootstrap: str | None = None) -> list[str]:
    """The ``java`` command line of one ShareWorker JVM (``mode``: ``ask``, ``accept`` or ``count:<n>``)."""
    if not (mode in ("ask", "accept") or mode.startswith("count:") and mode[6:].isdigit()):
        raise LabError(f"mode {mode!r}: use 'ask', 'accept' or 'count:<records>'")
    if isinstance(consumers, bool) or not isinstance(consumers, int) or consumers < 1:
        raise LabError(f"consumers={consumers!r}: give a whole number of share consumers, at least 1")
    from .cluster.java import find_java
    from .cluster.maven import classpath

    # on a secured cluster the client config too, secrets read from its file by Kafka (kafkalab.io.connection)
    secured = {} if bootstrap and bootstrap != bootstrap_servers() else connection().java_by_reference()
    extra = [f"{k}={v}" for k, v in {**secured, **(configs or {})}.items()]
    return [find_java("streams"), *JVM_OPTS, f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-streams.properties'}",
            f"-Dkafkalab.share.group={group}",  # lets tests find this JVM (procs.pids_with_arg)
            "-cp", classpath("streams", quiet=True), str(WORKER_SOURCE),
            bootstrap or bootstrap_servers(), group, topic, str(consumers), mode, str(int(max_seconds)), *extra]


class ShareWorker:
    """One JVM with ``consumers`` share consumers of one share group; see :func:`run`.

    ``handle(delivery) -> "accept" | "release" | "reject"`` decides per record (each consumer's batches are
    handled in a Python thread of their own, so a slow handler holds up only its consumer). Without a handler the
    JVM accepts every record itself. Everything the JVM reports is kept: :attr:`deliveries` (as handled, with the
    answer), :attr:`received` (every record of every batch as it arrived, before any answer), :attr:`acks`
    (per-partition outcome of each acknowledgement, with the broker's error if it refused one), :attr:`errors`.
    """

    def __init__(self, group: str, topic: str, *, consumers: int = 1, handle: Callable | None = None,
                 name: str = "w", max_seconds: int = 120, configs: dict | None = None,
                 bootstrap: str | None = None) -> None:
        self.group, self.topic, self.name, self.handle = group, topic, name, handle
        self.consumers = consumers
        self.deliveries: list[Delivery] = []
        self.received: list[Delivery] = []
        self.acks: list[dict] = []
        self.errors: list[str] = []
        self.refused: list[dict] = []
        self.handler_error: BaseException | None = None
        self.started: set[int] = set()
        self.closed: set[int] = set()
        self.lock_ms: int | None = None
        self.ended: str | None = None
        self._changed = threading.Condition()
        self._queues = [_Queue() for _ in range(consumers)]
        self._write_lock = threading.Lock()
        self._stderr: list[str] = []
        self.bootstrap = bootstrap or bootstrap_servers()
        cmd = java_command(group, topic, consumers=consumers, mode="ask" if handle else "accept",
                           max_seconds=max_seconds, configs=configs, bootstrap=self.bootstrap)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1, start_new_session=True, cwd=REPO)
        self._threads = [threading.Thread(target=self._pump, daemon=True, name=f"share-{name}-out"),
                         threading.Thread(target=self._pump_err, daemon=True, name=f"share-{name}-err")]
        if handle:
            self._threads += [threading.Thread(target=self._decide, args=(i,), daemon=True, name=f"share-{name}-{i}")
                              for i in range(consumers)]
        for t in self._threads:
            t.start()

    # ------------------------------------------------------------------ reading the JVM
    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                self._stderr.append(line.rstrip())
                continue
            kind, i = ev.get("event"), ev.get("consumer", 0)
            with self._changed:
                if kind == "started":
                    self.started.add(i)
                elif kind == "batch":
                    self.lock_ms = ev.get("lock_ms", self.lock_ms)
                    got = [Delivery(self.name, i, r["partition"], r["offset"], r["key"], r["value"],
                                    r["delivery_count"], ev["t"], None if self.handle else "accept")
                           for r in ev["records"]]
                    self.received.extend(got)
                    if self.handle:
                        self._queues[i].put(got)
                    else:
                        self.deliveries.extend(got)
                elif kind == "acked":
                    self.acks.extend({"member": f"{self.name}/{i}", "t": ev["t"], **p} for p in ev["partitions"])
                elif kind == "refused":
                    self.refused.append({"member": f"{self.name}/{i}", "t": ev["t"], "error": ev["error"],
                                         "offsets": ev["offsets"]})
                elif kind == "error":
                    self.errors.append(ev["error"])
                elif kind == "closed":
                    self.closed.add(i)
                self._changed.notify_all()
        for q in self._queues:
            q.put(None)
        with self._changed:
            self._changed.notify_all()

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.strip():
                self._stderr.append(line.rstrip())

    def _decide(self, i: int) -> None:
        """Consumer ``i``'s batches: ask the handler about each record, in order, then answer the JVM."""
        while True:
            batch = self._queues[i].get()
            if batch is None:
                return
            words = []
            for d in batch:
                with self._changed:  # visible while being handled (decision None), e.g. for a stalled consumer
                    self.deliveries.append(d)
                    at = len(self.deliveries) - 1
                    self._changed.notify_all()
                decision = self._ask(d)
                with self._changed:
                    self.deliveries[at] = _decided(d, decision)
                    self._changed.notify_all()
                words.append(decision)
            self._send(f"{i} {' '.join(words)}")

    def _ask(self, d: Delivery) -> str:
        if self.handler_error is not None:
            return "release"
        try:
            answer = self.handle(d)
        except Exception as e:  # kept, re-raised by wait_for/stop; the record goes back to the queue
            self.handler_error = e
            return "release"
        word = str(getattr(answer, "name", answer)).lower() if answer is not None else "none"
        if word not in DECISIONS:
            self.handler_error = ValueError(f"the handler returned {answer!r} for offset {d.offset}; return one of "
                                            f"{', '.join(repr(x) for x in DECISIONS)}")
            return "release"
        return word

    def _send(self, line: str) -> None:
        with self._write_lock:
            with contextlib.suppress(BrokenPipeError, ValueError, OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.write(line + "\n")
                self.proc.stdin.flush()

    # ------------------------------------------------------------------ what happened
    @property
    def pid(self) -> int:
        return self.proc.pid

    def accepted(self) -> list[Delivery]:
        """Deliveries the handler (or the JVM) accepted."""
        return [d for d in self.deliveries if d.decision == "accept"]

    def per_member(self) -> Counter:
        """How many deliveries each share consumer got."""
        return Counter(d.member for d in self.deliveries)

    def log(self, n: int = 8) -> str:
        """The JVM's last warnings and errors (stderr), for error messages."""
        return " | ".join(self._stderr[-n:]) or "no output"

    def wait_for(self, condition: Callable[["ShareWorker"], object], *, timeout_s: float = 30, what: str) -> None:
        """Block until ``condition(self)`` is true; fail with the JVM's own words if it dies or the handler raised."""
        def ready():
            if self.handler_error is not None:
                raise self.handler_error
            if self.errors:
                if "does not support the share group protocol" in self.errors[0]:
                    raise share_groups_off(self.bootstrap)
                raise LabError(f"the share consumer failed: {self.errors[0]}")
            if self.proc.poll() is not None and not condition(self):
                raise LabError(f"the ShareWorker JVM exited (code {self.proc.returncode}) before {what}: {self.log()}")
            return condition(self)

        wait_until(ready, timeout_s=timeout_s, interval_s=0.1, what=what,
                   last_seen=lambda: f"{len(self.deliveries)} deliveries, errors {self.errors[:1]}, {self.log(3)}",
                   fix="is the cluster up, and does the topic have records?")

    # ------------------------------------------------------------------ ending it
    def stop(self, grace_s: float = 15) -> str:
        """Close the consumers cleanly ("stop" on standard input), SIGKILL after ``grace_s``. Returns how it ended."""
        if self.proc.poll() is None:
            self._send("stop")
            try:
                self.proc.wait(timeout=grace_s)
                how = "stopped"
            except subprocess.TimeoutExpired:
                self.kill()
                how = "killed"
        else:
            how = "exited"
        self.ended = self.ended or how
        for t in self._threads:
            t.join(timeout=5)
        return self.ended

    def kill(self) -> None:
        """``kill -9`` of the JVM: its consumers vanish without acknowledging or leaving the group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.ended = self.ended or "killed"


class _Queue:
    """A tiny blocking queue (queue.Queue would do; this keeps the worker's imports obvious)."""

    def __init__(self) -> None:
        self._items: list = []
        self._cv = threading.Condition()

    def put(self, item) -> None:
        with self._cv:
            self._items.append(item)
            self._cv.notify()

    def get(self):
        with self._cv:
            while not self._items:
                self._cv.wait()
            return self._items.pop(0)


def _decided(d: Delivery, decision: str) -> Delivery:
    return Delivery(d.worker, d.consumer, d.partition, d.offset, d.key, d.value, d.delivery_count, d.t, decision)


@contextlib.contextmanager
def run(group: str, topic: str, *, consumers: int = 1, handle: Callable | None = None, name: str = "w",
        max_seconds: int = 120, configs: dict | None = None, grace_s: float = 15,
        bootstrap: str | None = None) -> Iterator[ShareWorker]:
    """Start a :class:`ShareWorker` JVM, yield it once its consumers have subscribed, and always stop it.

    ``configs`` are share-consumer settings, e.g. ``{"max.poll.records": 5, "share.acquire.mode": "record_limit"}``
    (at most 5 records per poll, so one consumer does not take a whole batch). The handler's exception, if any,
    is raised when the block ends. A cluster without share groups is a :class:`LabError` naming the fix, before
    any JVM starts. ``bootstrap`` points at another cluster than the course's.
    """
    require_share_groups(bootstrap)
    worker = ShareWorker(group, topic, consumers=consumers, handle=handle, name=name, max_seconds=max_seconds,
                         configs=configs, bootstrap=bootstrap)
    try:
        worker.wait_for(lambda w: len(w.started) == consumers, timeout_s=60, what=f"{consumers} share consumer(s) starting")
        yield worker
    finally:
        worker.stop(grace_s)
    if worker.handler_error is not None:
        raise worker.handler_error

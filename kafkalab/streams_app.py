"""Run the Kafka Streams application of Chapter 4 from Python, and its Quix Streams twin.

Chapter 4 ("Building real-time stream processing applications") runs ``streams/PaymentsApp.java``: a real
Kafka Streams topology (filter, mapValues, a KStream-KTable join, a count-and-sum per customer in a state
store). It needs no build tool: Java's single-file source launcher compiles the file in memory at start-up,
with the jars Maven resolved for the ``streams`` profile on the class path.

:func:`run` is a context manager around one such JVM::

    with streams_app.run(app_id, state_dir=state) as app:   # returns once the app reports RUNNING
        wait_for_records("streams-enriched", 45)
    # here the JVM is gone: SIGTERM (clean close), then SIGKILL after a grace period, even if the block failed

The JVM also stops by itself after ``max_seconds``: nothing is left running if Python dies first.

The same logic in plain Python (:func:`expected`) and in Quix Streams (:func:`quix_run`) lets the chapter check
that the three agree record for record.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .clients import admin, consumer, producer, quiet_imports, recreate_topic
from .cluster.java import find_java
from .cluster.maven import classpath
from .config import JVM_DIR, REPO, bootstrap_servers
from .datagen import CUSTOMERS, EPOCH_MS
from .errors import LabError
from .monitor import delete_group

#: The Java source the chapter runs.
APP_SOURCE = REPO / "streams" / "PaymentsApp.java"
#: Every line the application prints for Python starts with this word.
MARKER = "kafkalab-streams"
#: Payments below this amount (euros) are filtered out: the same constant as ``PaymentsApp.MIN_AMOUNT``.
MIN_AMOUNT = 10.0
#: The two state stores of the topology, as named in the Java source.
STORES = ("customers-store", "totals-store")
#: Values of ``processing.guarantee``.
AT_LEAST_ONCE, EXACTLY_ONCE = "at_least_once", "exactly_once_v2"
#: Settings for topics whose records carry past event times (the broker deletes by record timestamp).
KEEP_FOREVER = {"retention.ms": "-1"}
#: Customer tiers, cycled over the customers.
TIERS = ("basic", "silver", "gold")
#: JVM options: a small heap and quick start-up (client compiler only) for a short-lived classroom app.
JVM_OPTS = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


# --------------------------------------------------------------------------------------------- topics and data


def topic_names(prefix: str = "streams") -> dict[str, str]:
    """The four topics of the application for ``prefix``: payments, customers, enriched, totals."""
    return {name: f"{prefix}-{name}" for name in ("payments", "customers", "enriched", "totals")}


def create_topics(prefix: str = "streams", partitions: int = 2) -> dict[str, str]:
    """(Re)create the application's topics empty; the customers topic is compacted (it holds a table).

    Input topics of a join must be **co-partitioned**: the same number of partitions and the same partitioner,
    so that a customer's payments and the customer's table record land in partitions with the same number.
    """
    names = topic_names(prefix)
    for role, name in names.items():
        configs = {"cleanup.policy": "compact"} if role == "customers" else dict(KEEP_FOREVER)
        recreate_topic(name, partitions=partitions, configs=configs)
    return names


def customer_changelog() -> list[tuple[str, dict | None]]:
    """The records of the customers topic, in the order they are written: a table's history.

    C001..C019 get a tier; then C003 is upgraded twice, C007 is downgraded, and C019 is deleted with a
    tombstone (a record with no value). C020 never appears. Same data on every call.
    """
    rows: list[tuple[str, dict | None]] = [
        (c, {"tier": TIERS[i % len(TIERS)]}) for i, c in enumerate(CUSTOMERS) if c != "C020"
    ]
    rows += [("C003", {"tier": "silver"}), ("C003", {"tier": "gold"}), ("C007", {"tier": "basic"}), ("C019", None)]
    return rows


def table_of(changelog: Iterable[tuple[str, dict | None]]) -> dict[str, dict]:
    """What a table sees after reading ``changelog`` in order: the latest value per key, tombstones deleted."""
    table: dict[str, dict] = {}
    for key, value in changelog:
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return dict(sorted(table.items()))


def produce_customers(topic: str, rows: Iterable[tuple[str, dict | None]], start_ms: int | None = None) -> int:
    """Write ``rows`` (key, JSON value or ``None`` for a tombstone) in order, one second apart in record time.

    The timestamps start an hour before the first payment, so the table is complete before any payment.
    """
    start_ms = EPOCH_MS - 3_600_000 if start_ms is None else start_ms
    with contextlib.closing(producer(acks="all")) as p:
        futures = [
            p.send(topic, key=key.encode(), value=None if value is None else json.dumps(value).encode(),
                   timestamp_ms=start_ms + i * 1000)
            for i, (key, value) in enumerate(rows)
        ]
        p.flush(timeout=30)
        for f in futures:
            f.get(timeout=10)
    return len(futures)


def produce_payments(topic: str, payments: Iterable[dict]) -> int:
    """Write payment events keyed by ``customer_id``, each stamped with its event time ``ts_ms``."""
    with contextlib.closing(producer(acks="all")) as p:
        futures = [
            p.send(topic, key=pay["customer_id"].encode(), value=json.dumps(pay).encode(), timestamp_ms=pay["ts_ms"])
            for pay in payments
        ]
        p.flush(timeout=30)
        for f in futures:
            f.get(timeout=10)
    return len(futures)


@dataclass(frozen=True)
class Message:
    """One record read back from a topic."""

    partition: int
    offset: int
    key: str | None
    value: dict | None


def read_topic(topic: str, *, committed_only: bool = True, timeout_s: float = 15) -> list[Message]:
    """Every record of ``topic`` from the beginning to its current end, in partition and offset order.

    ``committed_only`` reads with ``isolation.level=read_committed``: records of aborted (or still open)
    transactions are skipped, as a downstream consumer of an exactly-once application should do.
    """
    from kafka import TopicPartition

    isolation = "read_committed" if committed_only else "read_uncommitted"
    out: list[Message] = []
    with contextlib.closing(consumer(enable_auto_commit=False, group_id=None, isolation_level=isolation)) as c:
        parts = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        if not parts:
            raise LabError(f"topic {topic} does not exist; create it first")
        c.assign(parts)
        c.seek_to_beginning(*parts)
        ends = c.end_offsets(parts)  # with read_committed: the last stable offset
        deadline = time.monotonic() + timeout_s
        while any(c.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise LabError(f"reading {topic} did not reach its end within {timeout_s:.0f} s")
            for tp, batch in c.poll(timeout_ms=200).items():
                for r in batch:
                    out.append(Message(tp.partition, r.offset, None if r.key is None else r.key.decode(),
                                       None if r.value is None else json.loads(r.value)))
    return sorted(out, key=lambda m: (m.partition, m.offset))


def wait_for_records(topic: str, count: int, *, committed_only: bool = False, timeout_s: float = 60) -> list[Message]:
    """Wait until ``topic`` holds at least ``count`` records (uncommitted ones included by default)."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = read_topic(topic, committed_only=committed_only)
        if len(got) >= count:
            return got
        if time.monotonic() > deadline:
            raise LabError(f"{topic} holds {len(got)} records after {timeout_s:.0f} s, expected {count}; "
                           f"is the application running? (see its log: app.log)")
        time.sleep(0.3)


def committed_offsets(group: str) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the offset a consumer group (an application id) has committed."""
    with contextlib.closing(admin()) as a:
        found = a.list_group_offsets({group: None}).get(group, {})
    return {(tp.topic, tp.partition): om.offset for tp, om in found.items() if om.offset >= 0}


def wait_caught_up(application_id: str, topics: Iterable[str], *, timeout_s: float = 60) -> dict[tuple[str, int], int]:
    """Wait until the application has committed offsets at the end of every partition of ``topics``.

    That is the honest "done" for a stream processor: it has read, processed and committed everything that
    was in its input when the wait began (a commit also flushes the outputs and the changelogs).
    """
    from .notebook import end_offsets

    ends = {(t, p): off for t in topics for p, off in end_offsets(t).items()}
    deadline = time.monotonic() + timeout_s
    while True:
        done = committed_offsets(application_id)
        if all(done.get(tp, 0) >= end for tp, end in ends.items()):
            return {tp: done.get(tp, 0) for tp in sorted(ends)}
        if time.monotonic() > deadline:
            behind = {f"{t}[{p}]": f"{done.get((t, p), 0)}/{end}" for (t, p), end in ends.items()
                      if done.get((t, p), 0) < end}
            raise LabError(f"{application_id} has not committed the end of its input after {timeout_s:.0f} s "
                           f"(committed/end: {behind}); is it running? Its log: app.log")
        time.sleep(0.3)


def latest_per_key(messages: Iterable[Message]) -> dict[str, dict]:
    """Read a topic as a table: the last value of each key (in offset order within each partition)."""
    return table_of((m.key, m.value) for m in sorted(messages, key=lambda m: (m.partition, m.offset)))


def updates_per_key(messages: Iterable[Message]) -> dict[str, list[dict]]:
    """Each key's values in the order they were written (keys sorted)."""
    seq: dict[str, list[dict]] = defaultdict(list)
    for m in sorted(messages, key=lambda m: (m.partition, m.offset)):
        seq[m.key].append(m.value)
    return dict(sorted(seq.items()))


# ------------------------------------------------------------------------------------ the logic, in plain Python


def slim(payment: dict) -> dict:
    """mapValues: the fields the rest needs, with the amount in whole cents (as ``PaymentsApp.slim``)."""
    return {"payment_id": payment["payment_id"], "merchant": payment["merchant"],
            "amount_cents": round(payment["amount"] * 100)}


def add(payment: dict, totals: dict) -> dict:
    """The aggregator: one more payment in a customer's count and sum (as ``PaymentsApp.add``)."""
    return {"count": totals["count"] + 1, "sum_cents": totals["sum_cents"] + payment["amount_cents"]}


ZERO = {"count": 0, "sum_cents": 0}


def expected(payments: Iterable[dict], customers: dict[str, dict]) -> tuple[list[tuple[str, dict]], dict[str, list[dict]]]:
    """The reference result for ``payments`` against a complete customer table.

    Returns the enriched payments as (customer, value) in input order, and every customer's sequence of
    totals updates. Plain Python, no Kafka: what both stream processors must produce.
    """
    enriched: list[tuple[str, dict]] = []
    updates: dict[str, list[dict]] = defaultdict(list)
    for pay in payments:
        key = pay["customer_id"]
        if pay["amount"] < MIN_AMOUNT or key not in customers:  # filter, then the inner join
            continue
        value = {**slim(pay), "tier": customers[key]["tier"]}
        enriched.append((key, value))
        updates[key].append(add(value, updates[key][-1] if updates[key] else ZERO))
    return enriched, dict(sorted(updates.items()))


# --------------------------------------------------------------------------------------- the Java application


def new_application_id(base: str = "streams-app") -> str:
    """A fresh ``application.id``: a reused one would resume from its committed offsets and state."""
    return f"{base}-{uuid.uuid4().hex[:8]}"


def java_command(application_id: str, state_dir: str | Path, *, prefix: str = "streams",
                 guarantee: str = AT_LEAST_ONCE, max_seconds: int = 120, configs: dict | None = None) -> list[str]:
    """The ``java`` command line that runs ``streams/PaymentsApp.java`` (single-file source launcher)."""
    if guarantee not in (AT_LEAST_ONCE, EXACTLY_ONCE):
        raise LabError(f"processing.guarantee {guarantee!r}: use {AT_LEAST_ONCE!r} or {EXACTLY_ONCE!r}")
    jvm_tmp = Path(state_dir) / ".jvm-tmp"  # RocksDB unpacks its native library here; a killed JVM leaves it
    jvm_tmp.mkdir(parents=True, exist_ok=True)
    extra = [f"{k}={v}" for k, v in (configs or {}).items()]
    return [
        find_java("streams"), *JVM_OPTS, f"-Djava.io.tmpdir={jvm_tmp}",
        f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-streams.properties'}",
        f"-Dkafkalab.streams.app={application_id}",  # lets tests find this JVM (procs.pids_with_arg)
        "-cp", classpath("streams", quiet=True), str(APP_SOURCE),
        bootstrap_servers(), application_id, guarantee, str(state_dir), prefix, str(int(max_seconds)), *extra,
    ]


def describe(prefix: str = "streams") -> str:
    """The topology as Kafka Streams describes it (``Topology.describe()``); needs no broker."""
    cmd = [find_java("streams"), *JVM_OPTS, f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-streams.properties'}",
           "-cp", classpath("streams", quiet=True), str(APP_SOURCE), "describe", prefix]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise LabError(f"PaymentsApp.java did not compile or run: {(res.stderr or res.stdout).strip()[-500:]}")
    return res.stdout


@dataclass
class StreamsApp:
    """One running ``PaymentsApp`` JVM, started by :func:`run`."""

    application_id: str
    proc: subprocess.Popen
    lines: list[str] = field(default_factory=list)
    #: How the JVM ended, once it has: "exited" (by itself), "terminated" (SIGTERM), "killed" (SIGKILL).
    ended: str | None = None
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def markers(self) -> list[str]:
        """The lines the application printed for us (state changes, restorations), without the marker word."""
        return [ln[len(MARKER) + 1:] for ln in self.lines if ln.startswith(MARKER + " ")]

    @property
    def states(self) -> list[str]:
        """The KafkaStreams states reported so far, e.g. ``["REBALANCING", "RUNNING"]``."""
        return [m.split()[1] for m in self.markers if m.startswith("state ")]

    @property
    def log(self) -> str:
        """Everything else the JVM wrote (warnings and errors of Kafka Streams)."""
        return "\n".join(ln for ln in self.lines if not ln.startswith(MARKER + " "))

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for_state(self, state: str, timeout_s: float = 90) -> None:
        """Block until the application reports ``state``; fail with its last log lines if it dies or stalls."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while state not in self.states:
                if self.proc.poll() is not None:
                    raise LabError(f"{self.application_id} exited (code {self.proc.returncode}) before {state}: "
                                   f"{self._tail()}")
                if "ERROR" in self.states:
                    raise LabError(f"{self.application_id} failed: {self._tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LabError(f"{self.application_id} did not reach {state} within {timeout_s:.0f} s: {self._tail()}")
                self._changed.wait(min(left, 0.5))

    def _tail(self, n: int = 6) -> str:
        return " | ".join(self.lines[-n:]) or "no output"

    def kill(self) -> None:
        """``kill -9``: the JVM dies at once, with no clean close, no commit and no flush."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.ended = self.ended or "killed"

    def stop(self, grace_s: float = 15) -> str:
        """SIGTERM (Kafka Streams closes cleanly: commits, flushes, unlocks its state), SIGKILL after ``grace_s``.

        Returns how it ended: ``"exited"`` (it had stopped already), ``"terminated"`` or ``"killed"``.
        """
        if self.proc.poll() is not None:
            how = "exited"
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=grace_s)
                how = "terminated"
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
                how = "killed"
        with contextlib.suppress(ProcessLookupError):  # anything else in its session (there should be nothing)
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.ended = self.ended or how
        return self.ended


@contextlib.contextmanager
def run(application_id: str, *, state_dir: str | Path, prefix: str = "streams", guarantee: str = AT_LEAST_ONCE,
        max_seconds: int = 120, configs: dict | None = None, grace_s: float = 15,
        ready_timeout_s: float = 90) -> Iterator[StreamsApp]:
    """Start ``PaymentsApp`` in its own session, yield it once it reports RUNNING, and always stop it.

    On leaving the block, normally or by an exception, the JVM gets SIGTERM and ``grace_s`` seconds to close,
    then SIGKILL. ``max_seconds`` is the app's own time limit, a safety net should Python die first.
    ``configs`` are extra Kafka Streams settings, e.g. ``{"commit.interval.ms": 60000}``.
    """
    cmd = java_command(application_id, state_dir, prefix=prefix, guarantee=guarantee,
                       max_seconds=max_seconds, configs=configs)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, start_new_session=True, cwd=REPO)
    app = StreamsApp(application_id, proc)
    pump = threading.Thread(target=app._pump, name=f"pump-{application_id}", daemon=True)
    pump.start()
    try:
        app.wait_for_state("RUNNING", ready_timeout_s)
        yield app
    finally:
        app.stop(grace_s)
        pump.join(timeout=5)


# ------------------------------------------------------------------------------------ internal topics and reset


def internal_topics(application_id: str) -> list[str]:
    """The topics Kafka Streams created for ``application_id`` (changelogs, repartition topics)."""
    with contextlib.closing(admin()) as a:
        return sorted(t for t in a.list_topics() if t.startswith(application_id + "-"))


def delete_application(application_id: str) -> list[str]:
    """Remove what an application left on the cluster: its internal topics and its consumer group.

    Returns the deleted topics. (``kafka-streams-application-reset`` deletes the same topics but keeps the
    group, with its offsets moved back to the start.)
    """
    topics = internal_topics(application_id)
    if topics:
        with contextlib.closing(admin()) as a:
            a.delete_topics(topics)
    delete_group(application_id)  # retries while a killed member is still in the group (session timeout)
    return topics


def delete_leftovers(pattern: str = r"^streams-(app|alos|eos|quix)-[0-9a-f]{8}(-|$)") -> list[str]:
    """Delete what earlier, interrupted runs of the chapter left behind: internal topics and idle groups.

    Returns the names removed. Groups that still have members (an application running right now) are kept.
    """
    with contextlib.closing(admin()) as a:
        stale = sorted(t for t in a.list_topics() if re.match(pattern, t))
        if stale:
            a.delete_topics(stale)
        groups = sorted(g["group_id"] for g in a.list_groups()
                        if re.match(pattern, g["group_id"]) and g.get("group_state") == "Empty")
        if groups:
            a.delete_groups(groups)
    return stale + groups


def state_tree(state_dir: str | Path, application_id: str) -> list[str]:
    """The folders and bookkeeping files of the local state, with the application id shown as ``<application.id>``.

    RocksDB's own files (SST files, logs, manifests) change name on every run and are summarised per store.
    """
    root = Path(state_dir)
    rows = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0].startswith(".jvm-tmp"):
            continue
        shown = str(rel).replace(application_id, "<application.id>")
        if path.is_dir():
            if path.parent.name == "rocksdb":
                files = [p for p in path.iterdir() if p.is_file()]
                rows.append(f"{shown}/  (RocksDB files: {'yes' if files else 'none'})")
            elif "rocksdb" not in rel.parts[:-1]:
                rows.append(f"{shown}/")
        elif "rocksdb" not in rel.parts:
            rows.append(shown)
    return rows


# ------------------------------------------------------------------------------------------ the Quix Streams twin


@dataclass
class QuixResult:
    """What the Quix Streams application produced."""

    enriched: list[tuple[str, dict]]
    updates: dict[str, list[dict]]
    consumer_group: str


def quix_run(prefix: str = "streams", *, idle_timeout_s: float = 2.0) -> QuixResult:
    """The same topology in Quix Streams 3, over the same topics, from offset 0; returns what it computed.

    - ``filter`` and ``apply`` are Kafka Streams' filter and mapValues;
    - ``join_asof(customers, how="inner")`` is Quix's stream-table join: it stores the customers topic in a
      state store and, for each payment, takes the customer's latest record *at or before the payment's
      timestamp* (Kafka Streams' KStream-KTable join takes the table's value at processing time; here every
      customer record is older than every payment, so both see the same table);
    - ``apply(..., stateful=True)`` keeps each customer's count and sum in Quix's state (RocksDB), per key.

    One bounded run: a fresh consumer group (deleted afterwards), state in a temporary folder, no changelog
    topics, and ``app.run(timeout=...)``, which returns once no message has arrived for that long.
    """
    with quiet_imports():
        from quixstreams import Application

    names = topic_names(prefix)
    group = f"{prefix}-quix-{uuid.uuid4().hex[:8]}"
    enriched: list[tuple[str, dict]] = []

    def add_to_totals(payment: dict, state) -> dict:
        totals = add(payment, state.get("totals", ZERO))
        state.set("totals", totals)
        return totals

    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with tempfile.TemporaryDirectory(prefix="streams-quix-state-") as state_dir:
            app = Application(
                broker_address=bootstrap_servers(), consumer_group=group, auto_offset_reset="earliest",
                state_dir=state_dir, use_changelog_topics=False, auto_create_topics=False,
                loglevel="WARNING", broker_availability_timeout=30,
            )
            payments = app.dataframe(app.topic(names["payments"], key_deserializer="str", value_deserializer="json"))
            customers = app.dataframe(app.topic(names["customers"], key_deserializer="str", value_deserializer="json"))
            joined = (
                payments.filter(lambda p: p["amount"] >= MIN_AMOUNT)
                .apply(slim)
                .join_asof(customers, how="inner", on_merge=lambda p, c: {**p, "tier": c["tier"]})
            )
            joined = joined.update(lambda value, key, ts, headers: enriched.append((key, value)), metadata=True)
            joined.apply(add_to_totals, stateful=True)
            rows = app.run(timeout=idle_timeout_s, collect=True, metadata=True)
    finally:
        signal.signal(signal.SIGINT, saved[0])  # app.run() installs its own handlers; give the kernel its own back
        signal.signal(signal.SIGTERM, saved[1])
        with contextlib.suppress(Exception):
            delete_group(group)
    updates: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        updates[row["_key"]].append({"count": row["count"], "sum_cents": row["sum_cents"]})
    return QuixResult(enriched, dict(sorted(updates.items())), group)


def cleanup_dir(path: str | Path) -> None:
    """Remove a temporary state directory (after the JVM using it has stopped)."""
    shutil.rmtree(path, ignore_errors=True)


__all__ = [
    "APP_SOURCE", "AT_LEAST_ONCE", "EXACTLY_ONCE", "MIN_AMOUNT", "Message", "QuixResult", "STORES", "StreamsApp",
    "add", "cleanup_dir", "create_topics", "customer_changelog", "delete_application", "delete_leftovers",
    "committed_offsets", "describe", "expected", "internal_topics", "java_command", "latest_per_key", "new_application_id",
    "produce_customers", "produce_payments", "quix_run", "read_topic", "run", "slim", "state_tree", "table_of",
    "topic_names", "updates_per_key", "wait_caught_up", "wait_for_records",
]

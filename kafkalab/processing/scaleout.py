"""Scaling a consumer out: several members of one group sharing a topic, and what that does to throughput.

Taught in Chapter 8, *Processing streaming data*; the numbers feed the sizing model of Chapter 10
(:mod:`kafkalab.sizing`).

* :func:`run_group` runs ``members`` kafka-python consumers of one group, each in a thread of its own, over a
  topic that is not being written to: it settles the group first (every member knows its partitions), rewinds
  every member to the start of its partitions, lets each read to the end offsets, then commits and closes. No
  partition moves mid-run, so the result depends only on which partitions each member holds.
* :func:`measure` times reading-and-processing with 1 … N consumer *processes* (threads would share one
  interpreter lock and never run Python code in parallel). Each process is handed the partitions that Kafka's
  range assignor would give it (:func:`range_assignment`) and reads them with ``assign()``, so the stopwatch
  times the work, not the group's rebalance.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..errors import LabError
from ..io.clients import consumer
from ..io.connection import connection
from ..io.groups import delete_group, settle
from ..io.topics import end_offsets, recreate_topic
from ..validate import count
from ..wait import wait_until
from .rules import AlertEngine, parse_payment

#: Members leave quickly when a run ends (the broker's minimum session timeout is 6 s).
SESSION_TIMEOUT_MS = 6000


def range_assignment(partitions: int, consumers: int) -> list[list[int]]:
    """Partitions per consumer as Kafka's range assignor hands them out (consumers in member-id order).

    Each of ``consumers`` gets ``partitions // consumers`` consecutive partitions and the first
    ``partitions % consumers`` get one more; consumers beyond the partition count get none (they idle).
    """
    count("partitions", partitions)
    count("consumers", consumers)
    share, extra = divmod(partitions, consumers)
    out, start = [], 0
    for i in range(consumers):
        n = share + (1 if i < extra else 0)
        out.append(list(range(start, start + n)))
        start += n
    return out


# ------------------------------------------------------------------------------------------ a group, in threads
@dataclass
class MemberWork:
    """What one member of the group read."""

    name: str
    partitions: list[int]
    records: int = 0
    per_partition: Counter = field(default_factory=Counter)


@dataclass
class GroupRun:
    """One bounded run of a group: members (sorted by name), how long settling and reading took."""

    group: str
    topic: str
    members: list[MemberWork]
    settle_s: float
    run_s: float

    def split(self) -> list[tuple[list[int], int]]:
        """(partitions, records) per member, sorted: the same on every run, whichever member got which share."""
        return sorted((m.partitions, m.records) for m in self.members)

    def table(self):
        """Member, partitions, records as a DataFrame (member names depend on the broker's member ids)."""
        import pandas as pd

        return pd.DataFrame([{"member": m.name, "partitions": ", ".join(map(str, m.partitions)) or "— (idle)",
                              "records": m.records} for m in self.members])


def run_group(topic: str, members: int, group: str, make_worker: Callable[[str], object],
              timeout_s: float = 60, settle_timeout_s: float = 30) -> GroupRun:
    """Run ``members`` consumers of ``group`` over ``topic`` from its first to its current last record.

    ``make_worker(name)`` returns an object with ``handle(record)`` (called for every record, in partition order)
    and optionally ``finish()`` (called once the member has read everything, before its offsets are committed).
    The group is deleted before the run, so every run starts from the same offsets.
    """
    from kafka import TopicPartition

    count("members", members)
    delete_group(group)
    names = [f"member-{i + 1}" for i in range(members)]
    consumers = []
    try:
        for name in names:
            consumers.append(consumer(topic, group_id=group, client_id=name, enable_auto_commit=False,
                                      session_timeout_ms=SESSION_TIMEOUT_MS, heartbeat_interval_ms=1000,
                                      max_poll_records=500))
        t0 = time.monotonic()
        assignment = settle(consumers, timeout_s=settle_timeout_s)  # records polled while settling are dropped
        settle_s = time.monotonic() - t0
        c0 = consumers[0]
        tps = [TopicPartition(topic, p) for p in sorted(c0.partitions_for_topic(topic) or ())]
        ends = {tp.partition: off for tp, off in c0.end_offsets(tps).items()}
        work = [MemberWork(name, [p for _, p in assignment[name]]) for name in names]
        workers = [make_worker(name) for name in names]
        failures: list[BaseException] = []

        def read(c, mw: MemberWork, worker) -> None:
            try:
                mine = [TopicPartition(topic, p) for p in mw.partitions]
                if mine:
                    c.seek_to_beginning(*mine)  # forget anything polled while the group settled

                def read_to_the_end() -> bool:
                    for tp, records in c.poll(timeout_ms=200).items():
                        for record in records:
                            if record.offset >= ends[tp.partition]:
                                continue
                            worker.handle(record)
                            mw.records += 1
                            mw.per_partition[tp.partition] += 1
                    return all(c.position(tp) >= ends[tp.partition] for tp in mine)

                if mine:
                    wait_until(read_to_the_end, timeout_s=timeout_s, interval_s=0,
                               what=f"{mw.name} reading partitions {mw.partitions} to their end",
                               last_seen=lambda: f"{mw.records} records")
                if hasattr(worker, "finish"):
                    worker.finish()  # everything written before the offsets are committed: at-least-once
                if mine:
                    c.commit()
            except BaseException as exc:  # reported by the calling thread
                failures.append(exc)

        t1 = time.monotonic()
        threads = [threading.Thread(target=read, args=(c, mw, w), name=f"group-{mw.name}", daemon=True)
                   for c, mw, w in zip(consumers, work, workers)]
        for t in threads:
            t.start()
        for t in threads:  # all members stay in the group until every one has finished
            t.join(timeout_s + 10)
        if failures:
            raise failures[0]
        run_s = time.monotonic() - t1
    finally:
        for c in consumers:
            with contextlib.suppress(Exception):
                c.close(autocommit=False)
    return GroupRun(group, topic, sorted(work, key=lambda m: m.name), settle_s, run_s)


# ------------------------------------------------------------------------------------------ throughput, in processes
@dataclass(frozen=True)
class Measurement:
    """Records per second of ``consumers`` processes reading a topic of ``partitions`` partitions."""

    partitions: int
    consumers: int
    busy: int  # consumers that had at least one partition
    records: int
    seconds: float  # wall clock, from the first start to the last finish
    cpu_seconds: float = 0.0  # CPU time the consumer processes used, together

    @property
    def per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def cores(self) -> float:
        """How many CPU cores the consumers kept busy on average (CPU time / wall time)."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0

    @property
    def per_cpu_s(self) -> float:
        """Records per CPU second: the cost of the work itself, much less sensitive to other load than per_s."""
        return self.records / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


def _worker_main() -> int:
    """A measuring process: reads commands (JSON lines) on stdin, answers on stdout. See :class:`WorkerPool`."""
    from kafka import TopicPartition

    c = None
    out = sys.stdout
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            break
        if cmd["op"] == "prepare":
            topic, parts = cmd["topic"], cmd["partitions"]
            ends = {int(k): v for k, v in cmd["ends"].items()}
            tps = [TopicPartition(topic, p) for p in parts]
            if tps:
                c = consumer(group_id=None, enable_auto_commit=False, max_poll_records=2000)
                c.assign(tps)
                c.seek_to_beginning(*tps)
                for tp in tps:
                    c.position(tp)  # connects and looks the offsets up now, outside the timed part
            print(json.dumps({"ready": True}), file=out, flush=True)
        elif cmd["op"] == "go":
            t0, cpu0, n = time.monotonic(), time.process_time(), 0
            stop_at = t0 + cmd["seconds"]
            if c is not None:
                engine = AlertEngine()
                while time.monotonic() < stop_at and any(c.position(tp) < ends[tp.partition] for tp in tps):
                    for records in c.poll(timeout_ms=100).values():
                        for r in records:
                            engine.process(parse_payment(r.value))
                            n += 1
            t1, cpu = time.monotonic(), time.process_time() - cpu0
            if c is not None:
                c.close(autocommit=False)
                c = None
            print(json.dumps({"records": n, "t0": t0, "t1": t1, "cpu": cpu}), file=out, flush=True)
    return 0


class WorkerPool:
    """``size`` long-lived consumer processes, started once (importing kafka-python takes a while) and reused.

    Use as a context manager; :meth:`measure_one` times one (partitions, consumers) configuration.
    """

    def __init__(self, size: int) -> None:
        env = {**os.environ}
        self.procs = [subprocess.Popen([sys.executable, "-m", "kafkalab.processing.scaleout", "worker"],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
                      for _ in range(size)]

    def _ask(self, proc, cmd: dict, timeout_s: float = 60) -> dict:
        proc.stdin.write(json.dumps(cmd) + "\n")
        proc.stdin.flush()
        return self._answer(proc, timeout_s)

    @staticmethod
    def _answer(proc, timeout_s: float) -> dict:
        import selectors

        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(timeout_s):
                raise LabError(f"a measuring process gave no answer within {timeout_s:.0f} s")
        line = proc.stdout.readline()
        if not line:
            raise LabError(f"a measuring process ended (exit code {proc.poll()}); see its error above")
        return json.loads(line)

    def measure_one(self, topic: str, partitions: int, consumers: int, seconds: float = 2.0) -> Measurement:
        """Let ``consumers`` processes read ``topic`` side by side for about ``seconds`` (or to its end).

        On a machine busy with other work the processes may get no record at all within ``seconds``; the
        measurement then says 0 records (:func:`measure` keeps the best of its repeats)."""
        if consumers > len(self.procs):
            raise LabError(f"consumers={consumers}: the pool has {len(self.procs)} processes")
        ends = end_offsets(topic)
        if len(ends) != partitions:
            raise LabError(f"{topic} has {len(ends)} partitions, not {partitions}")
        shares = range_assignment(partitions, consumers)
        procs = self.procs[:consumers]
        for proc, share in zip(procs, shares):
            self._ask(proc, {"op": "prepare", "topic": topic, "partitions": share,
                             "ends": {str(p): ends[p] for p in share}})
        for proc in procs:  # start everyone, then collect: the processes run side by side
            proc.stdin.write(json.dumps({"op": "go", "seconds": seconds}) + "\n")
            proc.stdin.flush()
        answers = [self._answer(proc, seconds + 60) for proc in procs]
        records = sum(a["records"] for a in answers)  # 0 when a busy machine let no fetch return in time
        seconds = max(a["t1"] for a in answers) - min(a["t0"] for a in answers)
        return Measurement(partitions, consumers, sum(1 for s in shares if s), records, seconds,
                           sum(a["cpu"] for a in answers))

    def close(self) -> None:
        for proc in self.procs:
            with contextlib.suppress(Exception):
                proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                proc.stdin.close()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fill_topics(prefix: str, partition_counts: Sequence[int], payments: Sequence[dict]) -> dict[int, str]:
    """Create ``<prefix>-p<N>`` for each N and write ``payments`` (JSON) to each, spread evenly over its partitions.

    Records go round-robin to the partitions (``partition = i mod N``), so every partition holds the same share
    and the measurement is not skewed by how 20 customer keys happen to hash. The bulk write uses
    confluent-kafka's producer (C, many times faster than kafka-python's at this); the reading is kafka-python.
    """
    from confluent_kafka import Producer

    topics = {}
    p = Producer({**connection().librdkafka(), "linger.ms": 20, "acks": 1,
                  "queue.buffering.max.messages": 1_000_000})
    values = [(pay["customer_id"].encode(), json.dumps(pay, separators=(",", ":")).encode()) for pay in payments]
    for n in partition_counts:
        name = f"{prefix}-p{n}"
        recreate_topic(name, partitions=n, configs={"retention.ms": "-1"})
        for i, (key, value) in enumerate(values):
            p.produce(name, value, key, partition=i % n)
            if i % 10_000 == 0:
                p.poll(0)
        topics[n] = name
    if p.flush(60) != 0:
        raise LabError("the measurement topics were not all written within 60 s; is the broker overloaded?")
    return topics


def measure(topics: dict[int, str], consumer_counts: Sequence[int] = (1, 2, 4), seconds: float = 2.0,
            repeats: int = 1) -> list[Measurement]:
    """Every (partitions, consumers) pair, each read for about ``seconds``, best of ``repeats``.

    ``topics`` maps a partition count to a topic filled by :func:`fill_topics`. The repeats go round all pairs
    in turn (not one pair several times in a row), so a burst of other work on the machine spoils at most one
    run of each pair; the best run is kept because outside load only ever slows a run down. A pair whose every
    run read nothing is a :class:`LabError`.
    """
    pairs = [(parts, n) for parts in sorted(topics) for n in consumer_counts]
    best: dict[tuple[int, int], Measurement] = {}
    with WorkerPool(max(consumer_counts)) as pool:
        for _ in range(repeats):
            for parts, n in pairs:
                m = pool.measure_one(topics[parts], parts, n, seconds)
                if (parts, n) not in best or m.per_s > best[(parts, n)].per_s:
                    best[(parts, n)] = m
    empty = [pair for pair in pairs if best[pair].records == 0]
    if empty:
        parts, n = empty[0]
        raise LabError(f"{n} consumer(s) read no record of the {parts}-partition topic in {repeats} run(s) of "
                       f"{seconds:g} s; is the topic empty, or the machine too busy? Run the cell again, or with "
                       "more seconds")
    return [best[pair] for pair in pairs]


def measurements_table(results: Sequence[Measurement]):
    """The measurements as a DataFrame, with the speed-up over one consumer on the same topic."""
    import pandas as pd

    single = {m.partitions: m.per_s for m in results if m.consumers == 1}
    return pd.DataFrame([{"partitions": m.partitions, "consumers": m.consumers, "busy consumers": m.busy,
                          "records": m.records, "seconds": round(m.seconds, 2), "records/s": round(m.per_s),
                          "speed-up": round(m.per_s / single[m.partitions], 2) if single.get(m.partitions) else None,
                          "cores used": round(m.cores, 2), "records per CPU second": round(m.per_cpu_s)}
                         for m in results])


def measurements_figure(results: Sequence[Measurement]):
    """Records per second (left) and CPU cores the consumers got (right) against consumers, per partition count."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14,
                        subplot_titles=("Records per second", "CPU cores the consumers got"))
    colours = ["#3182bd", "#e6550d", "#31a354", "#756bb1"]
    for i, parts in enumerate(sorted({m.partitions for m in results})):
        ms = sorted((m for m in results if m.partitions == parts), key=lambda m: m.consumers)
        name = f"{parts} partition{'s' if parts > 1 else ''}"
        colour = colours[i % len(colours)]
        fig.add_trace(go.Scatter(x=[m.consumers for m in ms], y=[round(m.per_s) for m in ms], mode="lines+markers",
                                 name=name, legendgroup=name, line_color=colour), row=1, col=1)
        fig.add_trace(go.Scatter(x=[m.consumers for m in ms], y=[round(m.cores, 2) for m in ms],
                                 mode="lines+markers", name=name, legendgroup=name, showlegend=False,
                                 line_color=colour), row=1, col=2)
    ticks = sorted({m.consumers for m in results})
    fig.update_xaxes(title_text="consumer processes", tickvals=ticks)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(title="Consumers reading and applying the alert rules", height=380, width=760,
                      margin=dict(t=70, l=60, r=20, b=50), legend=dict(orientation="h", y=-0.22))
    return fig


if __name__ == "__main__":
    if sys.argv[1:] == ["worker"]:
        raise SystemExit(_worker_main())
    raise SystemExit("usage: python -m kafkalab.processing.scaleout worker  (started by WorkerPool)")

"""The broker metrics an operator watches, read live through each broker's Jolokia agent (JMX over HTTP).

Taught in Chapter 13, *Monitoring a cluster* (what to watch and why), and used in Chapter 11, *Replication and
failure* (under-replicated partitions while a broker is down). Every broker of the embedded cluster runs the
Jolokia JVM agent (:mod:`kafkalab.cluster.jolokia`); one HTTP POST of a list of ``read`` requests fetches all of
:data:`BROKER_METRICS` from one broker at once.

Kafka's rates (``...PerSec``) are meters: ``Count`` is the total since the broker started and only grows. The reader
keeps the counts and :func:`rates` divides the difference of two samples by the time between them, which reacts
at once; the meters' own ``OneMinuteRate`` is an average that takes minutes to settle. Latencies are histograms
whose percentiles (``50thPercentile``, ``99thPercentile``) cover the last few minutes of requests.

The parsing (:func:`read_requests`, :func:`parse`, :func:`rates`) is plain Python with unit tests; only
:func:`read` and :class:`Recorder` talk to the brokers.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .errors import LabError


@dataclass(frozen=True)
class Metric:
    """One value of one MBean: its short ``key``, the MBean's name, the attribute, and whether it is a ``count``
    (a total that only grows: shown as a rate per second) or a ``gauge`` (shown as it is)."""

    key: str
    mbean: str
    attribute: str
    kind: str  # "count" or "gauge"
    label: str
    why: str  # what it tells an operator (the table in Chapter 13)


def _topic_meter(name: str) -> str:
    return f"kafka.server:type=BrokerTopicMetrics,name={name}"


def _request_time(request: str) -> str:
    return f"kafka.network:type=RequestMetrics,name=TotalTimeMs,request={request}"


#: What the course reads from every broker (names checked against Kafka 4.4 with Jolokia's ``search``).
BROKER_METRICS: tuple[Metric, ...] = (
    Metric("messages_in", _topic_meter("MessagesInPerSec"), "Count", "count", "messages in /s",
           "records producers write: the load itself"),
    Metric("bytes_in", _topic_meter("BytesInPerSec"), "Count", "count", "bytes in /s",
           "bytes from producers, the number a sizing estimate predicts (replication excluded)"),
    Metric("bytes_out", _topic_meter("BytesOutPerSec"), "Count", "count", "bytes out /s",
           "bytes to consumers (replication excluded): grows with every consumer group"),
    Metric("replication_bytes_in", _topic_meter("ReplicationBytesInPerSec"), "Count", "count",
           "replication bytes in /s", "bytes this broker fetched as a follower: (RF - 1) x bytes in, cluster-wide"),
    Metric("produce_p50", _request_time("Produce"), "50thPercentile", "gauge", "produce p50 (ms)",
           "a typical produce request, from arrival to answer (acks=all waits for the ISR)"),
    Metric("produce_p99", _request_time("Produce"), "99thPercentile", "gauge", "produce p99 (ms)",
           "the slowest produce requests: what a producer's delivery timeout meets first"),
    Metric("fetch_p50", _request_time("FetchConsumer"), "50thPercentile", "gauge", "consumer fetch p50 (ms)",
           "a typical consumer fetch (includes fetch.max.wait.ms when there is nothing new)"),
    Metric("fetch_p99", _request_time("FetchConsumer"), "99thPercentile", "gauge", "consumer fetch p99 (ms)",
           "the slowest consumer fetches"),
    Metric("under_replicated", "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions", "Value", "gauge",
           "under-replicated partitions", "partitions this broker leads with a replica out of the ISR: alert if > 0"),
    Metric("under_min_isr", "kafka.server:type=ReplicaManager,name=UnderMinIsrPartitionCount", "Value", "gauge",
           "under min ISR", "partitions refusing acks=all writes right now (NotEnoughReplicas)"),
    Metric("offline", "kafka.controller:type=KafkaController,name=OfflinePartitionsCount", "Value", "gauge",
           "offline partitions", "partitions with no leader at all: nobody can read or write them"),
    Metric("active_controller", "kafka.controller:type=KafkaController,name=ActiveControllerCount", "Value", "gauge",
           "active controller", "1 on the node that leads the controller quorum, 0 elsewhere: the sum must be 1"),
    Metric("isr_shrinks", "kafka.server:type=ReplicaManager,name=IsrShrinksPerSec", "Count", "count",
           "ISR shrinks /s", "replicas dropping out of sync: a broker down, slow or cut off"),
    Metric("isr_expands", "kafka.server:type=ReplicaManager,name=IsrExpandsPerSec", "Count", "count",
           "ISR expands /s", "replicas catching up again"),
    Metric("leaders", "kafka.server:type=ReplicaManager,name=LeaderCount", "Value", "gauge", "leaders",
           "partitions this broker leads: uneven counts mean uneven load"),
)
BY_KEY = {m.key: m for m in BROKER_METRICS}


def metrics(keys: Iterable[str] | None = None) -> tuple[Metric, ...]:
    """The metrics named by ``keys`` (default: all of :data:`BROKER_METRICS`); an unknown key is a LabError."""
    if keys is None:
        return BROKER_METRICS
    keys = [keys] if isinstance(keys, str) else list(keys)
    unknown = [k for k in keys if k not in BY_KEY]
    if unknown:
        raise LabError(f"unknown metric {unknown[0]!r}; choose from {', '.join(BY_KEY)}")
    return tuple(BY_KEY[k] for k in keys)


# ------------------------------------------------------------------------------------------ parsing (pure)
def read_requests(wanted: Sequence[Metric]) -> list[dict]:
    """Jolokia ``read`` requests for ``wanted``: one per MBean, naming every attribute needed from it."""
    attributes: dict[str, list[str]] = {}
    for m in wanted:
        attributes.setdefault(m.mbean, [])
        if m.attribute not in attributes[m.mbean]:
            attributes[m.mbean].append(m.attribute)
    return [{"type": "read", "mbean": mbean, "attribute": attrs} for mbean, attrs in attributes.items()]


@dataclass(frozen=True)
class Sample:
    """What one broker reported at one moment: ``values`` by metric key (counts as totals), and for each metric it
    could not give, the reason in ``missing``. ``at`` is ``time.monotonic()`` when the answer came."""

    source: str
    at: float
    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    @property
    def up(self) -> bool:
        """False when the broker's agent did not answer at all."""
        return bool(self.values) or not self.missing


def parse(answers: object, wanted: Sequence[Metric], source: str = "", at: float = 0.0) -> Sample:
    """Turn Jolokia's answer to :func:`read_requests` (a list, one entry per request) into a :class:`Sample`.

    An MBean this broker does not have (status 404: ``InstanceNotFoundException``, e.g. a controller metric on a
    node that is no controller, or a name from another Kafka version) leaves its metrics in ``missing`` with
    the reason; it is not an error.
    """
    if not isinstance(answers, list):
        raise LabError(f"Jolokia answered {type(answers).__name__} instead of a list of results; is the port "
                       "a Jolokia agent's? (`python -m kafkalab status`)")
    by_mbean: dict[str, dict] = {}
    for a in answers:
        if not isinstance(a, dict):
            continue
        mbean = (a.get("request") or {}).get("mbean")
        if mbean:
            by_mbean[mbean] = a
    values, missing = {}, {}
    for m in wanted:
        a = by_mbean.get(m.mbean)
        if a is None:
            missing[m.key] = "no answer for this MBean"
        elif a.get("status") != 200:
            kind = str(a.get("error_type", "")).rsplit(".", 1)[-1] or f"status {a.get('status')}"
            missing[m.key] = f"{kind}: {m.mbean}"
        else:
            value = a.get("value")
            value = value.get(m.attribute) if isinstance(value, dict) else value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[m.key] = float(value)
            else:
                missing[m.key] = f"{m.mbean} has no number in {m.attribute}"
    return Sample(source, at, values, missing)


def rates(before: Sample, after: Sample, wanted: Sequence[Metric] = BROKER_METRICS) -> dict[str, float | None]:
    """One value per metric between two samples of the same broker: counts become a rate per second (difference
    over elapsed time), gauges are the later value. None where either sample lacks it, or a count went down (the
    broker restarted in between and began counting from zero)."""
    elapsed = after.at - before.at
    out: dict[str, float | None] = {}
    for m in wanted:
        now = after.values.get(m.key)
        if m.kind == "gauge":
            out[m.key] = now
            continue
        then = before.values.get(m.key)
        if now is None or then is None or elapsed <= 0 or now < then:
            out[m.key] = None
        else:
            out[m.key] = (now - then) / elapsed
    return out


# ------------------------------------------------------------------------------------------ reading (live)
def agents() -> dict[str, int]:
    """``{"broker 1": port, ...}``: the Jolokia port of each broker of the embedded cluster as last started."""
    from .cluster import broker, jolokia
    from .config import settings

    s = settings()
    if not s.embedded:
        raise LabError("the broker metrics come from the embedded cluster's Jolokia agents; with "
                       "KAFKA_BOOTSTRAP_SERVERS set, read your cluster's metrics with its own monitoring")
    return {f"broker {n.node_id}": jolokia.broker_port(n.node_id, s) for n in broker.nodes(broker.current_size(s), s)}


def read(port: int, wanted: Sequence[Metric] = BROKER_METRICS, source: str = "", timeout_s: float = 3) -> Sample:
    """One :class:`Sample` from the Jolokia agent on ``port`` (one POST). An agent that does not answer gives a
    sample with every metric missing (a broker that is down), not an error."""
    from .cluster.jolokia import url
    from .io import http

    try:
        answers = http.call("POST", url(port) + "/", read_requests(wanted), timeout_s=timeout_s,
                            service=f"Jolokia on port {port}")
    except http.Unreachable:
        return Sample(source or str(port), time.monotonic(), {}, {m.key: "the agent does not answer" for m in wanted})
    return parse(answers, wanted, source or str(port), time.monotonic())


def read_all(ports: Mapping[str, int] | None = None, wanted: Sequence[Metric] = BROKER_METRICS) -> dict[str, Sample]:
    """A sample of every broker (default: every broker of the embedded cluster, :func:`agents`)."""
    ports = agents() if ports is None else ports
    return {name: read(port, wanted, name) for name, port in ports.items()}


def value(port: int, mbean: str, attribute: str, timeout_s: float = 3) -> float:
    """One number: ``attribute`` of ``mbean`` from the agent on ``port`` (a LabError naming what is wrong)."""
    from .cluster.jolokia import url
    from .io import http

    answer = http.call("POST", url(port) + "/", {"type": "read", "mbean": mbean, "attribute": attribute},
                       timeout_s=timeout_s, service=f"Jolokia on port {port}")
    if not isinstance(answer, dict) or answer.get("status") != 200:
        why = answer.get("error") if isinstance(answer, dict) else answer
        raise LabError(f"Jolokia on port {port} could not read {mbean} {attribute}: {why}")
    result = answer.get("value")
    if isinstance(result, bool) or not isinstance(result, (int, float)):
        raise LabError(f"{mbean} {attribute} is {result!r}, not a number")
    return float(result)


@dataclass(frozen=True)
class Point:
    """One value of one metric of one broker at ``t`` seconds after the recording started (None: no value)."""

    t: float
    source: str
    key: str
    value: float | None


class Recorder:
    """Samples every broker every ``interval_s`` seconds in a background thread while its ``with`` block runs and
    keeps the history as :class:`Point` rows (counts already turned into rates per second).

    ``marks`` notes moments worth drawing (``recorder.mark("broker 1 killed")``). :meth:`frame` gives the history
    as a pandas DataFrame; :meth:`latest` the last values per broker.
    """

    def __init__(self, ports: Mapping[str, int] | None = None, keys: Iterable[str] | None = None,
                 interval_s: float = 1.0) -> None:
        from .validate import number

        self.ports = dict(agents() if ports is None else ports)
        self.wanted = metrics(keys)
        self.interval_s = number("interval_s", interval_s, low=0.1, high=60, unit="seconds")
        self.points: list[Point] = []
        self.marks: list[tuple[float, str]] = []
        self.samples = 0
        self.t0 = time.monotonic()
        self._last: dict[str, Sample] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    def sample_once(self) -> None:
        """Read every broker now and append the points (the thread calls this; tests and notebooks may too)."""
        for name, port in self.ports.items():
            s = read(port, self.wanted, name, timeout_s=min(self.interval_s * 2, 3))
            before = self._last.get(name)
            if s.up:
                self._last[name] = s
            t = s.at - self.t0
            with self._lock:
                if not s.up:
                    self.points.extend(Point(t, name, m.key, None) for m in self.wanted)
                    continue
                values = rates(before, s, self.wanted) if before is not None else {
                    m.key: (s.values.get(m.key) if m.kind == "gauge" else None) for m in self.wanted}
                self.points.extend(Point(t, name, k, v) for k, v in values.items())
        self.samples += 1

    def mark(self, label: str) -> None:
        """Note a moment (drawn as a dashed line by the dashboard)."""
        with self._lock:
            self.marks.append((time.monotonic() - self.t0, label))

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                self.sample_once()
                self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))
        except BaseException as e:  # shown by the caller; the recording stops
            self.error = e

    def start(self) -> Recorder:
        self.sample_once()  # a first sample now: counts need two to give a rate
        self._thread = threading.Thread(target=self._run, name="metrics-recorder", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.error is not None:
            raise LabError(f"the metrics recording stopped early: {self.error}")

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def frame(self, key: str | None = None):
        """The history as a DataFrame (columns t, source, key, value), for one metric ``key`` or all."""
        import pandas as pd

        with self._lock:
            rows = [p.__dict__ for p in self.points if key is None or p.key == key]
        return pd.DataFrame(rows, columns=["t", "source", "key", "value"])

    def series(self, key: str, source: str) -> list[tuple[float, float | None]]:
        """(t, value) of one metric of one broker, in time order."""
        with self._lock:
            return [(p.t, p.value) for p in self.points if p.key == key and p.source == source]

    def latest(self) -> dict[str, dict[str, float | None]]:
        """Per broker, the last value of every metric recorded."""
        out: dict[str, dict[str, float | None]] = {}
        with self._lock:
            for p in self.points:
                out.setdefault(p.source, {})[p.key] = p.value
        return out

    def peak(self, key: str, source: str | None = None) -> float:
        """The largest value of ``key`` seen (over every broker, or one), 0 if none."""
        with self._lock:
            seen = [p.value for p in self.points
                    if p.key == key and p.value is not None and (source is None or p.source == source)]
        return max(seen, default=0.0)


def cluster_total(sample_values: Mapping[str, Mapping[str, float | None]], key: str) -> float:
    """The sum of one metric over brokers (missing values count as 0): bytes in of the whole cluster, say."""
    return sum(v.get(key) or 0.0 for v in sample_values.values())


# ------------------------------------------------------------------------------------------ a load to watch
class SteadyLoad:
    """A producer writing ``rate`` records/s of ``size_bytes`` random letters to ``topic`` for ``seconds``, and (with
    ``group``) a consumer group reading them, each in a background thread: something for the metrics to show.

    Records go out in small bursts every ``tick_s`` (kafka-python cannot sleep 1/rate between records at thousands
    per second), so the broker sees the average rate. ``sent`` and ``consumed`` count records; ``error`` keeps the
    first exception of either thread. Use it as a ``with`` block or call :meth:`start` and :meth:`join`.
    """

    def __init__(self, topic: str, rate: float, size_bytes: int, seconds: float, group: str | None = None,
                 tick_s: float = 0.05) -> None:
        from .validate import count, number

        self.topic, self.group = topic, group
        self.rate = number("rate", rate, low=0, low_open=True, high=100_000, unit="records/s")
        self.size_bytes = count("size_bytes", size_bytes)
        self.seconds = number("seconds", seconds, low=0, low_open=True, high=600, unit="seconds")
        self.tick_s = tick_s
        self.sent = self.consumed = 0
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []

    def _produce(self) -> None:
        import contextlib
        import random
        import string

        from .io.clients import producer

        letters = string.ascii_letters + string.digits  # text, so Kafka's console tools can print the records
        payload = "".join(random.Random(self.size_bytes).choices(letters, k=self.size_bytes)).encode()
        try:
            with contextlib.closing(producer(linger_ms=5, acks="all")) as p:
                t0 = time.monotonic()
                while (now := time.monotonic() - t0) < self.seconds:
                    due = int(min(now + self.tick_s, self.seconds) * self.rate)
                    while self.sent < due:
                        p.send(self.topic, key=b"k%03d" % (self.sent % 100), value=payload)
                        self.sent += 1
                    time.sleep(max(0.0, t0 + now + self.tick_s - time.monotonic()))
                p.flush(timeout=60)
        except BaseException as e:  # shown by join()
            self.error = self.error or e
        finally:
            self._done.set()

    def _consume(self) -> None:
        import contextlib

        from .io.clients import consumer

        try:
            with contextlib.closing(consumer(self.topic, group_id=self.group, auto_offset_reset="earliest")) as c:
                idle_since = None
                while True:
                    polled = c.poll(timeout_ms=200)
                    self.consumed += sum(len(v) for v in polled.values())
                    if polled:
                        idle_since = None
                    elif self._done.is_set():
                        idle_since = idle_since or time.monotonic()
                        # done when it has read all that was sent; a group still joining (kafka-python's
                        # classic join can take a while on a busy machine) gets up to 30 s more to catch up
                        if self.consumed >= self.sent or time.monotonic() - idle_since > 30:
                            break
                c.commit()
        except BaseException as e:  # shown by join()
            self.error = self.error or e

    def start(self) -> SteadyLoad:
        targets = [self._produce] + ([self._consume] if self.group else [])
        self._threads = [threading.Thread(target=t, name=f"load-{t.__name__}", daemon=True) for t in targets]
        for t in self._threads:
            t.start()
        return self

    def is_alive(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def join(self, timeout_s: float = 120) -> None:
        """Wait for both threads; a failure in either is raised here as one LabError line."""
        for t in self._threads:
            t.join(timeout=timeout_s)
        if self.error is not None:
            raise LabError(f"the load stopped: {type(self.error).__name__}: {self.error}")

    def __enter__(self) -> SteadyLoad:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.join()


def steady_rate(points: Sequence[tuple[float, float | None]], start_s: float, end_s: float) -> float | None:
    """The median of the values between ``start_s`` and ``end_s`` (the steady part of a load, without its ramp
    up and down), or None if there is none."""
    import statistics

    inside = [v for t, v in points if start_s <= t <= end_s and v is not None]
    return statistics.median(inside) if inside else None


# ------------------------------------------------------------------------------------------ share groups
def parse_share_group_lag(text: str) -> dict[tuple[str, int], int | None]:
    """``kafka-share-groups --describe --group G`` output as {(topic, partition): lag} (None where it prints
    "-": the group has not started on that partition)."""
    out: dict[tuple[str, int], int | None] = {}
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    header = next((i for i, cols in enumerate(lines) if "LAG" in cols and "PARTITION" in cols), None)
    if header is None:
        return out
    names = lines[header]
    for cols in lines[header + 1:]:
        if len(cols) != len(names):
            continue
        row = dict(zip(names, cols))
        lag = row["LAG"]
        out[(row["TOPIC"], int(row["PARTITION"]))] = None if lag == "-" else int(lag)
    return out


def share_group_lag(group: str) -> dict[tuple[str, int], int | None]:
    """The lag of share group ``group`` per partition, from Kafka's own ``kafka-share-groups`` tool (kafka-python has
    no share-group Admin API): records past the group's start offset not yet acknowledged."""
    from .cluster.tools import run_tool
    from .config import bootstrap_servers

    res = run_tool("kafka-share-groups", ["--bootstrap-server", bootstrap_servers(), "--describe", "--group", group],
                   check=False, timeout=60)
    if res.returncode != 0:
        lines = [ln for ln in (res.stderr or res.stdout).splitlines() if ln.strip()]
        raise LabError(f"kafka-share-groups could not describe {group!r}: {lines[-1] if lines else 'no output'}")
    return parse_share_group_lag(res.stdout)

"""Central logging through Kafka: a ``logging`` handler that ships every log record to a topic, and a view over it.

Taught in Chapter 8, *Processing streaming data*.

:class:`KafkaLogHandler` turns each record into one JSON document (``time``, ``ts_ms``, ``level``, ``service``,
``logger``, ``message``, and ``exception`` when there is one), keyed by the service name so that one service's
logs keep their order in one partition. It is the standard library's ``QueueHandler``: ``emit`` only puts the
record on an in-memory queue, and a ``QueueListener`` thread hands it to a handler that owns the Kafka producer.
So it never slows down or breaks the application that logs:

* a full queue drops the record (and counts it) instead of waiting;
* when the cluster cannot be reached, records are dropped and counted, and **one** ``RuntimeWarning`` says so
  (not one per record); the application's ``logger.info(...)`` calls carry on as if nothing happened;
* ``flush()`` waits (bounded) until everything queued so far is acknowledged; ``close()`` flushes and stops;
* the Kafka client's own log records (loggers ``kafka.*``) are never shipped: they would feed themselves back.

:func:`read_logs` reads the shipped documents back and :func:`level_counts` / :func:`logs_figure` give the
aggregated view: counts by level and service, over time.
"""
from __future__ import annotations

import json
import logging
import logging.handlers
import queue
import threading
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

from ..io.clients import json_producer
from ..io.read import read_to_end

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def to_document(record: logging.LogRecord, service: str) -> dict:
    """The JSON document shipped for one log record (times in UTC, to the millisecond)."""
    ts_ms = int(record.created * 1000)
    doc = {
        "time": datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds"),
        "ts_ms": ts_ms,
        "level": record.levelname,
        "service": service,
        "logger": record.name,
        "message": record.getMessage(),
    }
    if record.exc_info and record.exc_info[0] is not None:
        doc["exception"] = logging.Formatter().formatException(record.exc_info)
    return doc


class _Shipper(logging.Handler):
    """The listener thread's side: owns the producer and sends each queued record's document."""

    def __init__(self, owner: KafkaLogHandler, producer_overrides: dict) -> None:
        super().__init__()
        self.owner, self.overrides = owner, producer_overrides
        self.producer = None
        self.unreachable: str | None = None
        self.thread_id: int | None = None

    def _connect(self) -> None:
        self.thread_id = threading.get_ident()
        try:
            self.producer = json_producer(**self.overrides)
        except Exception as exc:  # cluster down or misconfigured: drop everything, warn once
            self.unreachable = f"cannot reach the cluster ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"

    def emit(self, record: logging.LogRecord) -> None:
        if self.producer is None and self.unreachable is None:
            self._connect()
        done = getattr(record, "flushed", None)
        if done is not None:  # a flush marker from KafkaLogHandler.flush
            if self.producer is not None:
                try:
                    self.producer.flush(timeout=10)
                except Exception as exc:
                    self.owner._drop(0, f"flush failed ({type(exc).__name__})")
            done.set()
            return
        if self.producer is None:
            self.owner._drop(1, self.unreachable)
            return
        doc = record.document
        try:
            self.producer.send(self.owner.topic, key=doc["service"], value=doc, timestamp_ms=doc["ts_ms"]) \
                .add_callback(self.owner._acked).add_errback(self.owner._failed)
        except Exception as exc:  # e.g. metadata not available within max_block_ms
            self.owner._drop(1, f"a send failed ({type(exc).__name__}: {exc})")

    def close(self) -> None:
        if self.producer is not None:
            try:
                self.producer.close(timeout=10)
            except Exception:
                pass
            self.producer = None
        super().close()


class KafkaLogHandler(logging.handlers.QueueHandler):
    """Ship log records of one ``service`` to ``topic`` without ever blocking or raising into the application.

    ``producer_overrides`` go to :func:`kafkalab.io.clients.json_producer` (for example ``bootstrap_servers``).
    Counters: ``sent`` (acknowledged by the broker), ``dropped`` (queue full, cluster unreachable, or a send that
    failed); ``problem`` holds the reason of the first drop.
    """

    def __init__(self, topic: str, service: str, level: int = logging.NOTSET, queue_size: int = 10_000,
                 **producer_overrides) -> None:
        super().__init__(queue.Queue(maxsize=queue_size))
        self.setLevel(level)
        self.topic, self.service = topic, service
        self.sent = 0
        self.dropped = 0
        self.problem: str | None = None
        self._count_lock = threading.Lock()
        self._shipper = _Shipper(self, {"linger_ms": 50, "bootstrap_timeout_ms": 3000, "max_block_ms": 3000,
                                        "request_timeout_ms": 5000, "delivery_timeout_ms": 10000, "retries": 2,
                                        **producer_overrides})
        self._listener: logging.handlers.QueueListener | None = logging.handlers.QueueListener(self.queue,
                                                                                               self._shipper)
        self._listener.start()

    # -- the application's side: never blocks, never raises
    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "kafka" or record.name.startswith("kafka.") \
                or threading.get_ident() == self._shipper.thread_id:
            return  # the Kafka client's own logs would feed themselves back into the handler
        super().emit(record)  # prepare() then enqueue(); any error goes to logging's handleError, never up

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """The queued copy, with its JSON document made here, in the thread that logged."""
        document = to_document(record, self.service)
        record = super().prepare(record)
        record.document = document
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self._drop(1, f"the queue of {self.queue.maxsize} records is full (the cluster is slower than the logs)")

    def flush(self, timeout_s: float = 15.0) -> bool:
        """Wait until every record queued so far is acknowledged or dropped; False if that took over ``timeout_s``."""
        if self._listener is None:
            return True
        marker = logging.makeLogRecord({"flushed": threading.Event()})
        try:
            self.queue.put(marker, timeout=timeout_s)
        except queue.Full:
            return False
        return marker.flushed.wait(timeout_s)

    def close(self) -> None:
        """Flush, stop the listener thread and close the producer (logging.shutdown() calls this at exit)."""
        if self._listener is not None:
            if not self.flush():  # the cluster is too slow: what is still queued is dropped, not waited for
                self._discard_queued()
            self._listener.stop()
            self._listener = None
            self._shipper.close()
        super().close()

    def _discard_queued(self) -> None:
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return
            self.queue.task_done()
            self._drop(1, "closed before the cluster acknowledged it")

    # -- counters, updated from the listener thread and the producer's callbacks
    def _drop(self, n: int, why: str) -> None:
        with self._count_lock:
            self.dropped += n
            first = self.problem is None
            if first:
                self.problem = why
        if first:
            warnings.warn(f"KafkaLogHandler({self.service!r} -> {self.topic!r}) drops log records: {why}",
                          RuntimeWarning, stacklevel=2)

    def _acked(self, _metadata) -> None:
        with self._count_lock:
            self.sent += 1

    def _failed(self, exc) -> None:
        self._drop(1, f"a send failed ({type(exc).__name__}: {exc})")


# ------------------------------------------------------------------------------------------ the aggregated view
def read_logs(topic: str, timeout_s: float = 15.0) -> list[dict]:
    """Every log document in ``topic``, oldest first (by time; within one millisecond, in the order logged)."""
    found = [(r.partition, r.offset, json.loads(r.value)) for r in read_to_end(topic, timeout_s=timeout_s)]
    return [doc for *_, doc in sorted(found, key=lambda f: (f[2]["ts_ms"], f[0], f[1]))]


def level_counts(docs: Iterable[Mapping], bucket_ms: int | None = None):
    """Counts by service and level (columns in severity order) as a DataFrame.

    With ``bucket_ms``, counts per time bucket too (a ``bucket`` column: the bucket's start as a UTC timestamp),
    which is what :func:`logs_figure` draws.
    """
    import pandas as pd

    rows = Counter()
    for d in docs:
        bucket = (d["ts_ms"] - d["ts_ms"] % bucket_ms) if bucket_ms else None
        rows[(bucket, d["service"], d["level"])] += 1
    levels = [lv for lv in LEVELS if any(k[2] == lv for k in rows)] + sorted(
        {k[2] for k in rows} - set(LEVELS))
    index = sorted({(k[0], k[1]) for k in rows}, key=lambda k: (k[0] or 0, k[1]))
    table = pd.DataFrame([{**({"bucket": pd.Timestamp(b, unit="ms", tz="UTC")} if bucket_ms else {}),
                           "service": s, **{lv: rows.get((b, s, lv), 0) for lv in levels}} for b, s in index])
    if table.empty:
        return pd.DataFrame(columns=(["bucket"] if bucket_ms else []) + ["service"])
    return table


def logs_figure(docs: Iterable[Mapping], bucket_ms: int = 1000):
    """Stacked bars of log records per time bucket, one panel per service, coloured by level."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    table = level_counts(list(docs), bucket_ms)
    services = sorted(table["service"].unique()) if not table.empty else []
    colours = {"DEBUG": "#bdbdbd", "INFO": "#4a90d9", "WARNING": "#f0a030", "ERROR": "#d62728", "CRITICAL": "#7b1fa2"}
    fig = make_subplots(rows=max(1, len(services)), cols=1, shared_xaxes=True, subplot_titles=services,
                        vertical_spacing=0.08)
    levels = [c for c in table.columns if c not in ("bucket", "service")]
    for i, service in enumerate(services, start=1):
        part = table[table["service"] == service]
        for lv in levels:
            fig.add_trace(go.Bar(x=part["bucket"], y=part[lv], name=lv, legendgroup=lv, showlegend=i == 1,
                                 marker_color=colours.get(lv, "#888")), row=i, col=1)
    fig.update_layout(barmode="stack", height=140 + 150 * max(1, len(services)), width=680,
                      title=f"Log records per {bucket_ms / 1000:g} s, by service and level",
                      margin=dict(t=70, l=50, r=20, b=40), legend=dict(orientation="h", y=1.08, x=0.5,
                                                                        xanchor="center"))
    return fig

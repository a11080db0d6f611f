"""Central logging through Kafka: a ``logging.Handler`` that ships every log record to a topic, and a view over it.

Taught in Chapter 6, *Processing streaming data*.

:class:`KafkaLogHandler` turns each record into one JSON document (``time``, ``ts_ms``, ``level``, ``service``,
``logger``, ``message``, and ``exception`` when there is one), keyed by the service name so that one service's
logs keep their order in one partition. It never slows down or breaks the application that logs:

* ``emit`` only puts the document on an in-memory queue; a background thread owns the producer and sends;
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
import queue
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone

LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
_STOP = object()


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


class KafkaLogHandler(logging.Handler):
    """Ship log records of one ``service`` to ``topic`` without ever blocking or raising into the application.

    ``producer_overrides`` go to :func:`kafkalab.clients.json_producer` (for example ``bootstrap_servers``).
    Counters: ``sent`` (acknowledged by the broker), ``dropped`` (queue full, cluster unreachable, or a send that
    failed); ``problem`` holds the reason of the first drop.
    """

    def __init__(self, topic: str, service: str, level: int = logging.NOTSET, queue_size: int = 10_000,
                 **producer_overrides) -> None:
        super().__init__(level)
        self.topic, self.service = topic, service
        self.sent = 0
        self.dropped = 0
        self.problem: str | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._overrides = {"linger_ms": 50, "bootstrap_timeout_ms": 3000, "max_block_ms": 3000,
                           "request_timeout_ms": 5000, "delivery_timeout_ms": 10000, "retries": 2,
                           **producer_overrides}
        self._count_lock = threading.Lock()
        self._thread = threading.Thread(target=self._ship, name=f"logship-{service}", daemon=True)
        self._thread.start()

    # -- the application's side: never blocks, never raises
    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "kafka" or record.name.startswith("kafka.") or threading.current_thread() is self._thread:
            return  # the Kafka client's own logs would feed themselves back into the handler
        try:
            self._queue.put_nowait(to_document(record, self.service))
        except queue.Full:
            self._drop(1, f"the queue of {self._queue.maxsize} records is full (the cluster is slower than the logs)")
        except Exception:
            self.handleError(record)  # logging's own policy: a message on stderr, never an exception

    def flush(self, timeout_s: float = 15.0) -> bool:
        """Wait until every record queued so far is acknowledged or dropped; False if that took over ``timeout_s``."""
        if not self._thread.is_alive():
            return True
        done = threading.Event()
        try:
            self._queue.put(done, timeout=timeout_s)
        except queue.Full:
            return False
        return done.wait(timeout_s)

    def close(self) -> None:
        """Flush, stop the shipping thread and close the producer (logging.shutdown() calls this at exit)."""
        if self._thread.is_alive():
            self.flush()
            try:
                self._queue.put(_STOP, timeout=5)
            except queue.Full:
                pass
            self._thread.join(timeout=15)
        super().close()

    # -- the shipping thread
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

    def _ship(self) -> None:
        from .clients import json_producer

        try:
            producer = json_producer(**self._overrides)
        except Exception as exc:  # cluster down or misconfigured: drop everything, warn once
            producer = None
            reason = f"cannot reach the cluster ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})"
        while True:
            item = self._queue.get()
            if item is _STOP:
                break
            if isinstance(item, threading.Event):
                if producer is not None:
                    try:
                        producer.flush(timeout=10)
                    except Exception as exc:
                        self._drop(0, f"flush failed ({type(exc).__name__})")
                item.set()
                continue
            if producer is None:
                self._drop(1, reason)
                continue
            try:
                producer.send(self.topic, key=item["service"], value=item,
                              timestamp_ms=item["ts_ms"]).add_callback(self._acked).add_errback(self._failed)
            except Exception as exc:  # e.g. metadata not available within max_block_ms
                self._drop(1, f"a send failed ({type(exc).__name__}: {exc})")
        if producer is not None:
            try:
                producer.close(timeout=10)
            except Exception:
                pass


# ------------------------------------------------------------------------------------------ the aggregated view
def read_logs(topic: str, timeout_s: float = 3.0) -> list[dict]:
    """Every log document in ``topic``, oldest first (by time; within one millisecond, in the order logged)."""
    import contextlib

    from .clients import consumer

    found = []
    with contextlib.closing(consumer(topic, group_id=None, value_deserializer=json.loads,
                                     consumer_timeout_ms=int(timeout_s * 1000))) as c:
        for record in c:
            found.append((record.value["ts_ms"], record.partition, record.offset, record.value))
    return [doc for *_, doc in sorted(found, key=lambda f: f[:3])]


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


def wait_until(predicate, timeout_s: float = 10.0, every_s: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout_s`` passes (for tests and the chapter's demo)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every_s)
    return bool(predicate())

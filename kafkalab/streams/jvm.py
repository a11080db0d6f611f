"""Run the Kafka Streams application of Chapter 5 (``streams/PaymentsApp.java``) from Python.

A real Kafka Streams topology (filter, mapValues, a KStream-KTable join, a count-and-sum per customer in a state
store). It needs no build tool: Java's single-file source launcher compiles the file in memory at start-up, with
the jars Maven resolved for the ``streams`` profile on the class path.

:func:`run` is a context manager around one such JVM::

    with streams.run(app_id, state_dir=state) as app:   # returns once the app reports RUNNING
        wait_for_records("streams-enriched", 45)
    # here the JVM is gone: SIGTERM (clean close), then SIGKILL after a grace period, even if the block failed

The JVM also stops by itself after ``max_seconds``: nothing is left running if Python dies first.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..cluster.java import find_java
from ..cluster.maven import classpath
from ..config import JVM_DIR, REPO
from ..errors import LabError
from .groups import CLASSIC, protocol_configs
from ..io.connection import connection

#: The Java source the chapter runs.
APP_SOURCE = REPO / "streams" / "PaymentsApp.java"
#: Every line the application prints for Python starts with this word.
MARKER = "kafkalab-streams"
#: The two state stores of the topology, as named in the Java source.
STORES = ("customers-store", "totals-store")
#: Values of ``processing.guarantee``.
AT_LEAST_ONCE, EXACTLY_ONCE = "at_least_once", "exactly_once_v2"
#: JVM options: a small heap and quick start-up (client compiler only) for a short-lived classroom app.
JVM_OPTS = ["-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


def new_application_id(base: str = "streams-app") -> str:
    """A fresh ``application.id``: a reused one would resume from its committed offsets and state."""
    return f"{base}-{uuid.uuid4().hex[:8]}"


def java_command(application_id: str, state_dir: str | Path, *, prefix: str = "streams",
                 guarantee: str = AT_LEAST_ONCE, max_seconds: int = 120, configs: dict | None = None,
                 protocol: str = CLASSIC) -> list[str]:
    """The ``java`` command line that runs ``streams/PaymentsApp.java`` (single-file source launcher).

    ``protocol`` is the group protocol (``"classic"`` or ``"streams"``, see :mod:`kafkalab.streams.groups`)."""
    if guarantee not in (AT_LEAST_ONCE, EXACTLY_ONCE):
        raise LabError(f"processing.guarantee {guarantee!r}: use {AT_LEAST_ONCE!r} or {EXACTLY_ONCE!r}")
    jvm_tmp = Path(state_dir) / ".jvm-tmp"  # RocksDB unpacks its native library here; a killed JVM leaves it
    jvm_tmp.mkdir(parents=True, exist_ok=True)
    # on a secured cluster its client config too, passwords read from the file by Kafka (kafkalab.io.connection)
    extra = [f"{k}={v}" for k, v in {**protocol_configs(protocol), **connection().java_by_reference(),
                                     **(configs or {})}.items()]
    return [
        find_java("streams"), *JVM_OPTS, f"-Djava.io.tmpdir={jvm_tmp}",
        f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-streams.properties'}",
        f"-Dkafkalab.streams.app={application_id}",  # lets tests find this JVM (procs.pids_with_arg)
        "-cp", classpath("streams", quiet=True), str(APP_SOURCE),
        connection().bootstrap, application_id, guarantee, str(state_dir), prefix, str(int(max_seconds)), *extra,
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
    def protocol(self) -> str | None:
        """The group protocol the application reported at start-up (``"classic"`` or ``"streams"``)."""
        found = [m.split()[1] for m in self.markers if m.startswith("group.protocol ")]
        return found[0] if found else None

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
        max_seconds: int = 120, configs: dict | None = None, protocol: str = CLASSIC, grace_s: float = 15,
        ready_timeout_s: float = 90) -> Iterator[StreamsApp]:
    """Start ``PaymentsApp`` in its own session, yield it once it reports RUNNING, and always stop it.

    On leaving the block, normally or by an exception, the JVM gets SIGTERM and ``grace_s`` seconds to close,
    then SIGKILL. ``max_seconds`` is the app's own time limit, a safety net should Python die first.
    ``configs`` are extra Kafka Streams settings, e.g. ``{"commit.interval.ms": 60000}``; ``protocol`` picks the
    group protocol (``"streams"`` needs a broker with streams groups: :func:`~kafkalab.streams.groups.group_protocol`).
    """
    cmd = java_command(application_id, state_dir, prefix=prefix, guarantee=guarantee,
                       max_seconds=max_seconds, configs=configs, protocol=protocol)
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


def cleanup_dir(path: str | Path) -> None:
    """Remove a temporary state directory (after the JVM using it has stopped)."""
    shutil.rmtree(path, ignore_errors=True)

"""How much memory the course's own processes use (a chapter must fit Binder's 1.5 GB): measured, not guessed.

Each process is counted by its PSS (proportional set size, /proc/<pid>/smaps_rollup): pages it shares with
others are split between them. For a JVM that is about its RSS; for PostgreSQL, whose dozen processes share one
buffer pool, adding up RSS would count that pool once per process. Linux only, like the launcher.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .cluster import procs


def pss_mb(pid: int) -> float:
    """The PSS of one process in MiB (its RSS where smaps_rollup is unreadable; 0 if it is gone)."""
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
        except (OSError, ValueError):
            continue
    return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def course_processes() -> dict[str, list[int]]:
    """The processes of the running course, by part: broker nodes, companion services, PostgreSQL's server
    processes, this Python process (a notebook's kernel) and the JVMs it started (PyFlink's)."""
    from .cluster import broker, services
    from .config import settings

    s = settings()
    parts: dict[str, list[int]] = {}
    for node in broker.nodes(broker.current_size(s), s) + broker.secure_nodes(s):  # the secured node too
        pid = procs.find_pid(node.pid_file, node.markers)
        if pid:
            parts[node.name] = [pid]
    for name in services.NAMES:
        svc = services.service(name, s)
        if name == "postgres":
            found = svc.server_processes()
        else:
            pid = procs.find_pid(svc.pid_file, svc.markers)
            found = [pid] if pid else []
        if found:
            parts[name] = found
    parts["python"] = [os.getpid()]
    jvms = [p for p in _children(os.getpid()) if any(a.endswith("java") for a in procs.cmdline(p)[:1])]
    if jvms:
        parts["flink"] = jvms
    return parts


def snapshot() -> dict[str, float]:
    """MiB per part of the course right now (see :func:`course_processes`), plus ``"total"``."""
    out = {name: sum(pss_mb(p) for p in pids) for name, pids in course_processes().items()}
    out["total"] = sum(out.values())
    return out


@dataclass
class Peak:
    """Sample :func:`snapshot` every ``interval_s`` in a thread while a ``with`` block runs; keep the snapshot with
    the largest total (``peak``) and each part's own maximum (``max_by_part``)."""

    interval_s: float = 0.5
    peak: dict[str, float] = field(default_factory=dict)
    max_by_part: dict[str, float] = field(default_factory=dict)
    samples: int = 0

    def _sample(self) -> None:
        snap = snapshot()
        self.samples += 1
        if snap["total"] > self.peak.get("total", 0):
            self.peak = snap
        for k, v in snap.items():
            self.max_by_part[k] = max(self.max_by_part.get(k, 0), v)

    def __enter__(self) -> "Peak":
        self._stop = threading.Event()

        def run():
            while not self._stop.is_set():
                self._sample()
                self._stop.wait(self.interval_s)

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sample()

    def report(self) -> str:
        parts = ", ".join(f"{k} {v:.0f}" for k, v in sorted(self.peak.items()) if k != "total")
        return f"peak {self.peak.get('total', 0):.0f} MiB ({parts}) over {self.samples} samples"


"""One inter-process lock per cluster home, so that two commands never start, stop or resolve the same thing at once.

Two ``python -m kafkalab up`` started together (Binder's start script and a chapter's first cell, two terminals,
two test runs on one home) used to race: both resolved the jars into the same file, both started a broker on the
same port. Now every command that changes the cluster (``up``, ``down``, a service's start or stop) holds
:func:`cluster_lock` while it works, and every Maven resolution holds :func:`classpath_lock` for its profile. The
second command waits, then finds the work done ("already running"). Reading commands (``status``, ``doctor``) take
no lock and change nothing.

Lock order, to rule out deadlock: the cluster lock first, then a class-path lock; never the other way round.
"""
from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from ..config import Settings, settings
from ..errors import LabError

#: How long a command waits for another one on the same home (a cold start with a Maven resolution takes minutes).
WAIT_S = 900

_locks: dict[Path, FileLock] = {}  # one object per file: re-entering in the same process only counts up


def _lock(path: Path) -> FileLock:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path not in _locks:
        _locks[path] = FileLock(str(path))
    return _locks[path]


@contextlib.contextmanager
def _held(path: Path, what: str, quiet: bool) -> Iterator[None]:
    lock = _lock(path)
    holder = path.with_suffix(".holder")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not quiet:
            try:
                who = f" (pid {holder.read_text().strip()})"
            except OSError:
                who = ""
            print(f"Waiting for another kafkalab command{who} to finish {what} ...", file=sys.stderr, flush=True)
        try:
            lock.acquire(timeout=WAIT_S)
        except Timeout:
            raise LabError(f"another kafkalab command has held {path} for {WAIT_S} s; if none runs "
                           f"(`ps aux | grep kafkalab`), delete that file and retry") from None
    try:
        if lock.lock_counter == 1:
            with contextlib.suppress(OSError):
                holder.write_text(str(os.getpid()))
        yield
    finally:
        lock.release()


def cluster_lock(s: Settings | None = None, quiet: bool = False) -> contextlib.AbstractContextManager[None]:
    """Held while a command starts or stops anything of the cluster in ``s.home`` (broker nodes, services)."""
    s = s or settings()
    return _held(s.run_dir / "cluster.lock", "starting or stopping this cluster", quiet)


def classpath_lock(profile: str, s: Settings | None = None, quiet: bool = False) -> contextlib.AbstractContextManager[None]:
    """Held while Maven resolves (and we write) the class path of ``profile``."""
    s = s or settings()
    return _held(s.home / "classpath" / f"{profile}.lock", f"resolving the {profile} jars", quiet)

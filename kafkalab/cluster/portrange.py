"""Claim a free range of ports for clusters of one's own (a test run, the benchmark), so that two on one machine
never collide and none touches the course cluster.

Every range has :data:`BLOCKS` blocks of :data:`kafkalab.config.PORT_BLOCK` ports (one block per cluster: use
its first port as ``KAFKALAB_PORT_BASE``); ranges start at fixed places, so two never overlap. A claim holds a lock
on one file per range (in the temp folder) for as long as the claiming process lives, and takes a range only if
none of its ports is bound at that moment. tests/ports.sh makes the same claim from a shell (flock on the same
files). Ranges lie between 20000 and 32767: Linux hands out 32768-60999 as clients' source ports, and a client
polling such a port while nothing listens can be given that very port and connect to itself.
"""
from __future__ import annotations

import fcntl
import tempfile
from pathlib import Path

from ..config import PORT_BLOCK
from ..errors import LabError
from . import procs

BLOCKS = 12
SPAN = BLOCKS * PORT_BLOCK
FIRST_BASE = 20000
LAST_PORT = 32767
LOCK_DIR = Path(tempfile.gettempdir()) / "kafkalab-test-ports"

_held: list[tuple[int, object]] = []  # (base, open locked file) of the range this process claimed


def bases() -> range:
    """Where ranges start."""
    return range(FIRST_BASE, LAST_PORT + 2 - SPAN, SPAN)


def range_is_free(base: int) -> bool:
    return all(procs.port_free(p) for p in range(base, base + SPAN))


def claim() -> int:
    """The first port of a free range, locked for this process (the same range on later calls)."""
    if _held:
        return _held[0][0]
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    for base in bases():
        f = open(LOCK_DIR / f"{base}.lock", "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            continue
        if range_is_free(base):
            _held.append((base, f))
            return base
        f.close()
    raise LabError(f"no free range of {SPAN} ports between {FIRST_BASE} and {LAST_PORT}; stop clusters you no "
                   f"longer need (`python -m kafkalab down` with their KAFKALAB_HOME)")

"""A cluster of a test's own: the environment that points kafkalab at a private data folder and private ports, the
CLI run in it, and the JVMs it started. Used by the lifecycle, services and replication tests.

Ports come from one range per test run (kafkalab.config: KAFKALAB_PORT_BASE). tests/run.sh claims a free range of
RUN_BLOCKS blocks for the whole run and exports its first port as KAFKALAB_PORT_BASE: block 0 is the run's course
cluster, and each test module that starts a cluster of its own takes another block (BLOCKS). Run by hand without a
base, the first test that needs one claims a free range the same way (kafkalab.cluster.portrange).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kafkalab.cluster import portrange, procs
from kafkalab.config import PORT_BLOCK, PORT_OFFSETS, REPO

#: Blocks of a run's port range: the run's course cluster, then one per test module with a cluster of its own.
BLOCKS = {"course": 0, "lifecycle": 1, "services": 2, "three-brokers": 3, "concurrency": 4, "binder": 5,
          "three-broker-chapters": 6, "postgres": 7, "exercises-three-brokers": 8,
          "metrics-agents": 9, "secure": 10, "no-share-groups": 11}
RUN_BLOCKS = portrange.BLOCKS


def run_base() -> int:
    """The first port of this run's range: KAFKALAB_PORT_BASE (tests/run.sh), else a free range claimed now."""
    raw = os.environ.get("KAFKALAB_PORT_BASE", "").strip()
    return int(raw) if raw else portrange.claim()


def block_base(name: str) -> int:
    """The port base of one private cluster of this run (see BLOCKS)."""
    return run_base() + BLOCKS[name] * PORT_BLOCK


def port(block: str, name: str) -> int:
    """A port of a private cluster, e.g. ``port("lifecycle", "broker")``."""
    return block_base(block) + PORT_OFFSETS[name]


def lab_env(home: Path, block: str, heap: str = "384m") -> dict:
    """The process environment for a private cluster in ``home`` on the ports of ``block``. Drops every setting
    that would point elsewhere (an external bootstrap, single-port overrides from the caller's shell)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_CLIENT_CONFIG")
           and not (k.startswith("KAFKALAB_") and k.endswith("_PORT"))}
    env.update(KAFKALAB_HOME=str(home), KAFKALAB_HEAP=heap, KAFKALAB_PORT_BASE=str(block_base(block)))
    return env


def lab(env: dict, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``python -m kafkalab ARGS`` in that environment, as a learner would."""
    return subprocess.run([sys.executable, "-m", "kafkalab", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def jvms(env: dict, name: str | None = None) -> list[int]:
    """Live JVMs of that cluster (all of them, or the one named node-1, registry, connect ...)."""
    home = f"-Dkafkalab.home={env['KAFKALAB_HOME']}"
    if name is None:
        return procs.pids_with_arg(home)
    return [p for p in procs.pids_with_arg(f"-Dkafkalab.node.name={name}") if home in procs.cmdline(p)]

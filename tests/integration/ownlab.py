"""A cluster of a test's own: the environment that points kafkalab at a private data folder and spare ports,
the CLI run in it, and the JVMs it started. Used by the lifecycle, services and replication tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kafkalab.cluster import procs
from kafkalab.config import REPO


def lab_env(home: Path, heap: str = "384m", **ports: int) -> dict:
    """The process environment for a private cluster: ``ports`` are KAFKALAB_*_PORT names → spare ports."""
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update({k: str(v) for k, v in ports.items()}, KAFKALAB_HOME=str(home), KAFKALAB_HEAP=heap)
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

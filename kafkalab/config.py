"""Where things live and which ports they use: the one place the course reads its settings from.

Every value can be overridden by an environment variable, so the same notebooks work against the embedded
cluster (the default), the Docker path, or any other cluster (``KAFKA_BOOTSTRAP_SERVERS``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import LabError

REPO = Path(__file__).resolve().parent.parent
JVM_DIR = Path(__file__).resolve().parent / "cluster" / "jvm"

#: Default ports, one table for the README, docker-compose.yml and the launcher.
PORTS = {
    "broker": 9092,
    "controller": 9093,
    "registry": 8081,
    "connect": 8083,
    "postgres": 5433,  # not 5432: a distribution's own PostgreSQL server often runs there
}
# In three-broker mode, node k listens on the broker and controller ports + 2(k − 1): 9094/9095 and 9096/9097
# (kafkalab.cluster.broker.nodes).

HOST = "127.0.0.1"  # loopback only: nothing the course starts listens on another address


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LabError(f"{name}={raw!r} is not a port number; unset it or give an integer such as {default}") from None
    if not 0 < value < 65536:
        raise LabError(f"{name}={value} is outside 1..65535; unset it or give a free port such as {default}")
    return value


@dataclass(frozen=True)
class Settings:
    """The resolved settings for one process (read once from the environment)."""

    home: Path  # cluster data, logs, pid files and resolved class paths (git-ignored)
    broker_port: int
    controller_port: int
    external_bootstrap: str | None  # KAFKA_BOOTSTRAP_SERVERS: use that cluster, start nothing
    kafka_home: Path | None  # KAFKA_HOME: use that distribution's jars instead of Maven's
    heap: str  # broker heap, e.g. "512m"
    registry_port: int
    connect_port: int
    postgres_port: int = PORTS["postgres"]

    @property
    def bootstrap(self) -> str:
        """The bootstrap address every client in the course uses."""
        return self.external_bootstrap or f"{HOST}:{self.broker_port}"

    @property
    def embedded(self) -> bool:
        return self.external_bootstrap is None

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"


def settings() -> Settings:
    """Read the settings from the environment (cheap; call it where you need it)."""
    home = Path(os.environ.get("KAFKALAB_HOME") or REPO / ".kafkalab").expanduser().resolve()
    kafka_home = os.environ.get("KAFKA_HOME")
    return Settings(
        home=home,
        broker_port=_int_env("KAFKALAB_BROKER_PORT", PORTS["broker"]),
        controller_port=_int_env("KAFKALAB_CONTROLLER_PORT", PORTS["controller"]),
        external_bootstrap=(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "").strip() or None,
        kafka_home=Path(kafka_home).expanduser() if kafka_home else None,
        heap=os.environ.get("KAFKALAB_HEAP", "512m"),
        registry_port=_int_env("KAFKALAB_REGISTRY_PORT", PORTS["registry"]),
        connect_port=_int_env("KAFKALAB_CONNECT_PORT", PORTS["connect"]),
        postgres_port=_int_env("KAFKALAB_POSTGRES_PORT", PORTS["postgres"]),
    )


def cache_root() -> Path:
    """Machine-wide caches that outlive a cluster's data (JVM class archives, Java versions):
    ``KAFKALAB_CACHE_DIR``, default ``~/.cache/kafkalab``."""
    return Path(os.environ.get("KAFKALAB_CACHE_DIR") or Path.home() / ".cache" / "kafkalab").expanduser()


def bootstrap_servers() -> str:
    """The bootstrap address for clients: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else the embedded broker."""
    return settings().bootstrap

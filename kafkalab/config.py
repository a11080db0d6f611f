"""Where things live and which ports they use: the one place the course reads its settings from.

Every value can be overridden by an environment variable, so the same notebooks work against the embedded
cluster (the default), the Docker path, or any other cluster (``KAFKA_BOOTSTRAP_SERVERS``).

Ports, in one scheme (the README's port table shows it):

* By default the course cluster uses the table :data:`PORTS` (9092/9093, 8081, 8083), and :data:`RESERVED_PORTS`
  for what comes next (PostgreSQL, Jolokia metrics agents, a secured-mode listener).
* ``KAFKALAB_PORT_BASE=B`` moves ALL of them into one block B .. B+19 (:data:`PORT_OFFSETS`): broker B,
  controller B+1, brokers 2/3 at B+2..B+5, registry B+6 (its management port B+7), Connect B+8, PostgreSQL B+9,
  Jolokia B+10..B+13, secured listeners B+14..B+16 (the secured cluster's controller B+17). Test runs and private clusters use a base: two bases at least
  :data:`PORT_BLOCK` apart never collide.
* ``KAFKALAB_<NAME>_PORT`` (``KAFKALAB_BROKER_PORT``, ``KAFKALAB_REGISTRY_PORT``, ...) sets one port and wins over both.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LabError

REPO = Path(__file__).resolve().parent.parent
JVM_DIR = Path(__file__).resolve().parent / "cluster" / "jvm"

#: Default ports, one table for the README, docker-compose.yml and the launcher (a learner's course cluster).
PORTS = {
    "broker": 9092,
    "controller": 9093,
    "registry": 8081,
    "connect": 8083,
}
#: Ports reserved for what the course adds next, with their defaults (same table in the README).
RESERVED_PORTS = {
    "registry_management": 9081,  # Apicurio's health/metrics interface (Quarkus management port)
    "postgres": 5433,  # the course's PostgreSQL; not 5432, where a distribution's own server may listen
    "jolokia": 8778,  # Jolokia JVM agent of broker 1 (broker k: 8778 + k - 1)
    "connect_jolokia": 8781,  # Jolokia JVM agent of the Connect worker
    "secure": 9192,  # secured-mode (SASL/TLS) listener of broker 1 (broker k: 9192 + k - 1)
    "secure_controller": 9195,  # the secured cluster's own KRaft controller port (it runs beside the plain one)
}
# In three-broker mode, node k listens on the broker and controller ports + 2(k − 1): 9094/9095 and 9096/9097
# (kafkalab.cluster.broker.nodes).

#: One port base per run: with ``KAFKALAB_PORT_BASE=B`` every port of a cluster is B + its offset here, so clusters
#: whose bases are PORT_BLOCK apart never share a port (tests/run.sh gives each test run its own base). An explicit
#: KAFKALAB_<NAME>_PORT still wins over the base for that one port.
PORT_OFFSETS = {
    "broker": 0,  # brokers 2 and 3: +2 and +4
    "controller": 1,  # controllers 2 and 3: +3 and +5
    "registry": 6,
    "registry_management": 7,
    "connect": 8,
    "postgres": 9,
    "jolokia": 10,  # brokers 1..3: +10..+12
    "connect_jolokia": 13,
    "secure": 14,  # brokers 1..3: +14..+16
    "secure_controller": 17,  # the secured cluster's controller; +18..+19 spare
}
PORT_BLOCK = 20

HOST = "127.0.0.1"  # loopback only: nothing the course starts listens on another address


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LabError(f"{name}={raw!r} is not a port number; unset it or give an integer such as {default}") from None
    if not 0 < value < 65536:
        raise LabError(f"{name}={value} is outside 1..65535; unset it or give a free port such as {default}")
    return value


def port_base() -> int | None:
    """``KAFKALAB_PORT_BASE``, checked so that its whole block of PORT_BLOCK ports fits below 65536."""
    raw = os.environ.get("KAFKALAB_PORT_BASE", "").strip()
    if not raw:
        return None
    try:
        base = int(raw)
    except ValueError:
        raise LabError(f"KAFKALAB_PORT_BASE={raw!r} is not a port number; unset it or give e.g. 20000") from None
    if not 1024 <= base <= 65535 - PORT_BLOCK:
        raise LabError(f"KAFKALAB_PORT_BASE={base} leaves no room for its {PORT_BLOCK} ports; give a base between "
                       f"1024 and {65535 - PORT_BLOCK} (below 32768 keeps clear of the ports Linux gives clients)")
    return base


def _ports() -> dict[str, int]:
    """Every port of the embedded cluster: an explicit KAFKALAB_<NAME>_PORT, else base + offset, else the default."""
    base = port_base()
    defaults = {**PORTS, **RESERVED_PORTS}
    out = {}
    for name, offset in PORT_OFFSETS.items():
        fallback = base + offset if base is not None else defaults[name]
        out[name] = _int_env(f"KAFKALAB_{name.upper()}_PORT", fallback)
    if base is None and "KAFKALAB_REGISTRY_MANAGEMENT_PORT" not in os.environ:
        out["registry_management"] = out["registry"] + 1000  # follows a moved registry port, as it always did
    return out


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
    ports: dict[str, int] = field(default_factory=dict, hash=False, compare=False)  # every port by name (PORT_OFFSETS), reserved ones included

    @property
    def bootstrap(self) -> str:
        """The bootstrap address every client in the course uses."""
        return self.external_bootstrap or f"{HOST}:{self.broker_port}"

    @property
    def postgres_port(self) -> int:
        """The course's PostgreSQL (``KAFKALAB_POSTGRES_PORT``; default 5433, or base + 9)."""
        return self.ports["postgres"]

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
    ports = _ports()
    return Settings(
        home=home,
        broker_port=ports["broker"],
        controller_port=ports["controller"],
        external_bootstrap=(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or "").strip() or None,
        kafka_home=Path(kafka_home).expanduser() if kafka_home else None,
        heap=os.environ.get("KAFKALAB_HEAP", "512m"),
        registry_port=ports["registry"],
        connect_port=ports["connect"],
        ports=ports,
    )


def start_timeout_s() -> float:
    """How long ``up`` waits for a broker node or a service to answer: ``KAFKALAB_START_TIMEOUT`` seconds (default
    120; a loaded machine may need more, and the lifecycle tests force a timeout with a tiny one)."""
    raw = os.environ.get("KAFKALAB_START_TIMEOUT", "").strip()
    try:
        value = float(raw) if raw else 120.0
    except ValueError:
        raise LabError(f"KAFKALAB_START_TIMEOUT={raw!r} is not a number of seconds; unset it or give e.g. 120") from None
    if value <= 0:
        raise LabError(f"KAFKALAB_START_TIMEOUT={raw} must be positive; unset it or give e.g. 120")
    return value


def cache_root() -> Path:
    """Machine-wide caches that outlive a cluster's data (JVM class archives, Java versions):
    ``KAFKALAB_CACHE_DIR``, default ``~/.cache/kafkalab``."""
    return Path(os.environ.get("KAFKALAB_CACHE_DIR") or Path.home() / ".cache" / "kafkalab").expanduser()


def bootstrap_servers() -> str:
    """The bootstrap address for clients: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else the embedded broker."""
    return settings().bootstrap

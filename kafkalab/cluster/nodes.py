"""The nodes of the embedded cluster and where each keeps its files: ports, data, pid and log files, and the
folder of each cluster size (1-node and 3-node clusters keep separate data, so switching loses nothing)."""
from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings, settings
from . import jolokia
from . import secure as secure_mod

@dataclass(frozen=True)
class Node:
    node_id: int
    broker_port: int
    controller_port: int
    size: int  # nodes in its cluster: 1-node and 3-node clusters keep separate data, so switching loses nothing
    s: Settings
    secure: bool = False  # the secured cluster's node (kafkalab.cluster.secure), which runs beside the plain one

    @property
    def name(self) -> str:
        return f"{'secure' if self.secure else 'node'}-{self.node_id}"

    @property
    def data_dir(self) -> Path:
        """The folder of this node's cluster (its cluster.json; the node's own logs are a sub-folder)."""
        return secure_mod.secure_dir(self.s) if self.secure else cluster_dir(self.size, self.s)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / self.name

    @property
    def pid_file(self) -> Path:
        return self.s.run_dir / f"{self.name}.pid"

    @property
    def props_file(self) -> Path:
        return self.s.run_dir / f"{self.name}.properties"

    @property
    def cds_marker(self) -> Path:
        """Names the class archive this node's JVM writes when it exits (see kafkalab.cluster.cds)."""
        return self.s.run_dir / f"{self.name}.cds-part"

    @property
    def console_log(self) -> Path:
        return self.s.log_dir / f"{self.name}.out"

    @property
    def jolokia_port(self) -> int | None:
        """Where this node's Jolokia agent answers (kafkalab.cluster.jolokia); the secured node runs without one
        (the metrics chapter reads the plain cluster, and the agent's ports are the plain brokers')."""
        return None if self.secure else jolokia.broker_port(self.node_id, self.s)

    @property
    def markers(self) -> tuple[str, str]:
        """Two JVM arguments that identify this node's process (and only it) in /proc."""
        return f"-Dkafkalab.home={self.s.home}", f"-Dkafkalab.node.name={self.name}"


def nodes(n: int = 1, s: Settings | None = None) -> list[Node]:
    """The nodes of an ``n``-node cluster. Node k listens on node 1's ports + 2(k − 1): 9092/9093, 9094/9095, ..."""
    s = s or settings()
    return [Node(k, s.broker_port + 2 * (k - 1), s.controller_port + 2 * (k - 1), n, s) for k in range(1, n + 1)]


def secure_nodes(s: Settings | None = None) -> list[Node]:
    """The secured cluster's one node: SASL_SSL on the ``secure`` port, its controller on ``secure_controller``."""
    s = s or settings()
    return [Node(1, s.ports["secure"], s.ports["secure_controller"], 1, s, secure=True)]


# ----------------------------------------------------------------------------------------------- state files
def cluster_dir(n: int, s: Settings) -> Path:
    return s.data_dir / f"kraft-{n}"


def size_file(s: Settings) -> Path:
    return s.run_dir / "size"


def current_size(s: Settings | None = None) -> int:
    """How many nodes the embedded cluster was last started with (1 if never)."""
    try:
        return int(size_file(s or settings()).read_text())
    except (OSError, ValueError):
        return 1


def is_formatted(n: int, s: Settings) -> bool:
    return (cluster_dir(n, s) / "cluster.json").exists()


def new_cluster_id() -> str:
    while True:  # Kafka's own ids are url-safe base64 of 16 random bytes; avoid a leading '-' (reads as a flag)
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


"""What every companion service of the embedded stack is (kafkalab.cluster.services starts and stops them): a name, a
port, a readiness check, files in the course's home, and the command that runs it."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..config import HOST, Settings


@dataclass(frozen=True)
class Service:
    """One JVM service of the embedded stack."""

    name: str
    port: int
    ready_path: str  # GET this until it answers 200
    s: Settings

    @property
    def pid_file(self) -> Path:
        return self.s.run_dir / f"{self.name}.pid"

    @property
    def markers(self) -> tuple[str, str]:
        return f"-Dkafkalab.home={self.s.home}", f"-Dkafkalab.node.name={self.name}"

    @property
    def log(self) -> Path:
        return self.s.log_dir / f"{self.name}.log"

    @property
    def data_dir(self) -> Path:
        return self.s.data_dir / self.name

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def answers(self) -> bool:
        from ..io import http

        try:
            return http.request("GET", self.url + self.ready_path, timeout_s=2).status == 200
        except http.Unreachable:
            return False

    # -- per service
    def command(self, quiet: bool = False) -> tuple[list[str], Path]:
        """The command line and working folder (resolving jars first if needed, with progress unless quiet)."""
        raise NotImplementedError

    def prepare(self, quiet: bool = False) -> None:
        """Fetch (and unpack) what the service runs, so its first start has nothing left to download."""
        self.command(quiet)

    def ports(self) -> list[int]:
        return [self.port]

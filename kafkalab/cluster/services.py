"""Companion services next to the broker: the schema registry (Apicurio), a Kafka Connect worker and PostgreSQL
(kafkalab/cluster/postgres.py).

Same guarantees as the broker (kafkalab/cluster/broker.py): starting twice leaves one JVM, stopping leaves none,
their data survives a restart, a killed JVM or a stale pid file is recovered, a taken port is reported with the fix.
Started with ``python -m kafkalab up --with registry,connect,postgres`` or on demand by the chapter that needs them.
"""
from __future__ import annotations

import contextlib
import string
import subprocess
import sys
import time
from pathlib import Path

from ..config import HOST, JVM_DIR, Settings, settings, start_timeout_s
from ..errors import LabError
from ..wait import wait_until
from . import jolokia, procs
from .java import find_java
from .lock import cluster_lock
from .maven import classpath
from .plugins import plugin_path, unpack_once
from .postgres import Postgres
from .service import Service

#: The registry's global compatibility. Apicurio's default is NONE; Confluent's, which learners meet elsewhere, is
#: BACKWARD. (docker-compose.yml sets the same.)
REGISTRY_COMPATIBILITY = "BACKWARD"
STOP_GRACE_S = 30


class Registry(Service):
    """Apicurio Registry 3 with a Confluent-compatible API under /apis/ccompat/v7, schemas kept in an H2 file."""

    CCOMPAT = "/apis/ccompat/v7"

    @property
    def management_port(self) -> int:
        """Quarkus' health/metrics interface, bound to loopback too (kafkalab.config: ``registry_management``)."""
        return self.s.ports["registry_management"]

    def ports(self) -> list[int]:
        return [self.port, self.management_port]

    def _unpacked(self, quiet: bool) -> Path:
        archive = Path(classpath("registry", quiet=quiet))
        return unpack_once(archive, self.s.home / "registry" / archive.name.removesuffix(".tar.gz"), quiet)

    def command(self, quiet: bool = False) -> tuple[list[str], Path]:
        app = self._unpacked(quiet)
        db = self.data_dir / "registry"
        return [
            find_java("registry"), "-Xms128m", "-Xmx384m", "-XX:+UseSerialGC", *self.markers,
            f"-Dquarkus.http.host={HOST}", f"-Dquarkus.http.port={self.port}",
            f"-Dquarkus.management.host={HOST}", f"-Dquarkus.management.port={self.management_port}",
            # schemas survive restarts: an H2 database in a file (Apicurio's default is in memory)
            "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2",
            f"-Dapicurio.datasource.url=jdbc:h2:file:{db};DB_CLOSE_ON_EXIT=FALSE",
            "-Dapicurio.datasource.username=sa", "-Dapicurio.datasource.password=sa",
            f"-Dapicurio.rules.global.compatibility={REGISTRY_COMPATIBILITY}",
            "-Dquarkus.log.console.color=false",
            "-jar", "quarkus-run.jar",
        ], app



class Connect(Service):
    """A Kafka Connect worker in distributed mode, REST API on 8083, Debezium's connectors on its plugin path,
    a Jolokia agent on 8781 (kafkalab.cluster.jolokia)."""

    @property
    def jolokia_port(self) -> int:
        return jolokia.connect_port(self.s)

    def ports(self) -> list[int]:
        return [self.port, self.jolokia_port]

    def command(self, quiet: bool = False) -> tuple[list[str], Path]:
        from .broker import current_size

        props = self.s.run_dir / "connect.properties"
        template = string.Template((JVM_DIR / "connect-distributed.properties.template").read_text())
        rf = min(current_size(self.s), 3) if self.s.embedded else 1
        text = template.substitute(bootstrap=self.s.bootstrap, port=self.port, rf=rf, plugin_path=plugin_path(quiet))
        props.write_text(text + _client_section())
        props.chmod(0o600)  # a secured cluster's password may be in it
        return [
            # Live heap is ~45 MB with Debezium's source and JDBC sink (Hibernate) loaded (jcmd GC.heap_info after a
            # full GC). The serial collector capped at 192 MB keeps the worker at ~245 MB (PSS) through the Connect and
            # streaming SQL chapters; capped at 256 MB it took ~300 MB, G1 capped at 384 MB (the first setting) ~290 MB
            # in a shorter run.
            find_java("connect"), "-Xms64m", "-Xmx192m", "-XX:+UseSerialGC", *self.markers,
            *jolokia.jvm_args(self.jolokia_port, quiet),
            f"-Dkafka.logs.dir={self.s.log_dir}",
            f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-broker.properties'}",
            "-cp", classpath("connect", quiet=quiet), "org.apache.kafka.connect.cli.ConnectDistributed", str(props),
        ], self.s.home


def _client_section() -> str:
    """The cluster's client config (KAFKA_CLIENT_CONFIG) for a Connect worker: its own clients, and copies prefixed
    producer., consumer. and admin. for its connectors' (kafkalab.io.connection). Empty for PLAINTEXT."""
    from ..io.connection import connection

    keys = {k: v for k, v in connection().connect_worker().items() if k != "bootstrap.servers"}
    if not keys:
        return ""
    return ("\n# The cluster's client config (KAFKA_CLIENT_CONFIG): the worker's own clients, then prefixed copies for\n"
            "# the producers (source connectors), consumers (sink connectors) and admin clients of its connectors.\n"
            + "".join(f"{k}={v}\n" for k, v in keys.items()))


def service(name: str, s: Settings | None = None) -> Service:
    s = s or settings()
    if name == "registry":
        return Registry("registry", s.registry_port, Registry.CCOMPAT + "/config", s)
    if name == "connect":
        return Connect("connect", s.connect_port, "/connectors", s)
    if name == "postgres":
        return Postgres("postgres", s.postgres_port, "", s)
    raise LabError(f"unknown service {name!r}; choose registry, connect or postgres")


#: In the order ``down`` stops them: Connect before PostgreSQL, whose replication connections it holds.
NAMES = ("registry", "connect", "postgres")


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


def preflight(name: str) -> Service:
    """Fail (before anything starts) if the service is not running and one of its ports is taken."""
    svc = service(name)
    if not procs.find_pid(svc.pid_file, svc.markers, repair=False):
        for port in svc.ports():
            if port == getattr(svc, "jolokia_port", None):
                jolokia.check_port(port, name, f"KAFKALAB_{name.upper()}_JOLOKIA_PORT")
            elif not procs.port_free(port):
                owner = procs.port_owner(port)
                who = f" by pid {owner[0]} ({owner[1]})" if owner else ""
                raise LabError(f"port {port} ({name}) on {HOST} is already in use{who}; stop that program and run "
                               f"`python -m kafkalab up --with {name}` again, or give {name} another port with "
                               f"KAFKALAB_{name.upper()}_PORT")
    return svc


def start(name: str, quiet: bool = False) -> int:
    """Start one service if it is not running; return its pid. Holds the cluster lock: a second caller waits, then
    finds it running. A start that fails or times out stops the JVM it started."""
    svc = service(name)
    with cluster_lock(svc.s, quiet=quiet):
        if name == "postgres":  # not a JVM: its own start (initdb the first time, a user switch as root)
            preflight(name)
            return svc.start(quiet)
        return _start_locked(svc, quiet)


def _start_locked(svc: Service, quiet: bool) -> int:
    name = svc.name
    preflight(name)
    pid = procs.find_pid(svc.pid_file, svc.markers)
    if pid:
        _say(f"{name} is already running on {svc.url} (pid {pid})", quiet)
        return pid
    if name == "connect":  # Connect keeps its state in Kafka: the cluster must answer first
        from ..io.clients import describe_cluster

        describe_cluster(svc.s.bootstrap, timeout_s=5)
    for d in (svc.s.run_dir, svc.s.log_dir, svc.data_dir):
        d.mkdir(parents=True, exist_ok=True)
    cmd, cwd = svc.command(quiet)
    t0 = time.monotonic()
    offset = svc.log.stat().st_size if svc.log.exists() else 0  # errors quote this run's log lines only
    with open(svc.log, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=cwd)
    svc.pid_file.write_text(str(proc.pid))
    _say(f"Started {name} (pid {proc.pid}) on {svc.url}; waiting for it to answer ...", quiet)
    next_note = [t0 + 10]

    def answers() -> bool:
        if proc.poll() is not None:
            errors = [ln for ln in _log_since(svc.log, offset) if "ERROR" in ln][-1:]
            raise LabError(f"{name} exited during start-up (exit code {proc.returncode}): "
                           f"{errors[0][:300] if errors else 'no error logged'} (full log: {svc.log})")
        if time.monotonic() > next_note[0]:
            _say(f"  ... {name} still starting ({time.monotonic() - t0:.0f} s)", quiet)
            next_note[0] += 10
        return svc.answers()

    try:
        wait_until(answers, timeout_s=start_timeout_s(), interval_s=0.5, what=f"{name} answering on {svc.url}",
                   last_seen=lambda: f"{time.monotonic() - t0:.0f} s after the start",
                   fix=f"it was stopped; see {svc.log}, or allow more time with KAFKALAB_START_TIMEOUT=<seconds>")
    except BaseException:  # failed, timed out or interrupted: leave no JVM and no pid file behind
        procs.terminate_all([proc.pid], STOP_GRACE_S)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        svc.pid_file.unlink(missing_ok=True)
        raise
    _say(f"{name} is up on {svc.url} after {time.monotonic() - t0:.1f} s", quiet)
    return proc.pid


def _log_since(path: Path, offset: int) -> list[str]:
    try:
        with open(path, "rb") as f:
            f.seek(offset if f.seek(0, 2) >= offset else 0)
            return f.read().decode(errors="replace").splitlines()
    except OSError:
        return []


def stop(name: str, quiet: bool = False) -> bool:
    """Stop one service; True if it was running."""
    svc = service(name)
    with cluster_lock(svc.s, quiet=quiet):
        if name == "postgres":
            return svc.stop(quiet)
        pid = procs.find_pid(svc.pid_file, svc.markers)
        svc.pid_file.unlink(missing_ok=True)
        if not pid:
            return False
        _say(f"Stopping {name} (pid {pid}) ...", quiet)
        procs.terminate(pid, STOP_GRACE_S)
        return True


def status() -> dict:
    """Per service its pid, port and whether it answers. Reads only: no pid file is written or removed."""
    out = {}
    for name in NAMES:
        svc = service(name)
        pid = procs.find_pid(svc.pid_file, svc.markers, repair=False)
        out[name] = {"pid": pid, "port": svc.port, "answers": svc.answers(), "url": svc.url}
        if isinstance(svc, Connect):
            out[name]["jolokia_port"] = svc.jolokia_port
            out[name]["jolokia_answers"] = bool(pid) and jolokia.answers(svc.jolokia_port)
        if name == "postgres":
            out[name].update(svc.info())
    return out

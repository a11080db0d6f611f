"""``python -m kafkalab doctor``: what works, what does not, and for each failure the fix."""
from __future__ import annotations

import contextlib
import shutil
import sys
from dataclasses import dataclass

from .cluster import procs
from .cluster.java import MIN_JAVA, find_java, java_version
from .config import HOST, settings
from .errors import LabError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"[{mark}] {self.name}: {self.detail}" + ("" if self.ok or not self.fix else f"  -> {self.fix}")


def pinned_kafka_version() -> str:
    from .cluster.maven import pinned

    return pinned("kafka.version")


def crc_check() -> Check:
    """kafka-python checksums every record batch (CRC-32C): in C with the crc32c wheel, else in slow pure Python."""
    from kafka.record import util

    if util.crc32c_c is not None:
        return Check("kafka-python CRC-32C", True, "computed in C (crc32c wheel)")
    return Check("kafka-python CRC-32C", False, "computed in pure Python, about 5x slower for 1 KB records",
                 "pip install crc32c (requirements.txt lists it), then restart the kernel")


def postgres_check() -> Check:
    """The PostgreSQL server programs the course starts (Debian puts them in /usr/lib/postgresql/<major>/bin)."""
    from .cluster.postgres import bin_dir, server_version

    try:
        programs = bin_dir()
        return Check("postgresql", True, f"{programs} (PostgreSQL {server_version(programs)})")
    except LabError as e:
        return Check("postgresql", False, str(e).split(";")[0], "apt-get install postgresql (or run `make setup`)")


def checks(services: tuple[str, ...] = ("broker",)) -> list[Check]:
    import kafka

    s = settings()
    out = [Check("python", sys.version_info >= (3, 10), sys.version.split()[0], "use Python 3.10 or newer"),
           Check("kafka-python", kafka.__version__.startswith("3."), kafka.__version__, "pip install -r requirements.txt"),
           crc_check()]
    if s.embedded:
        for svc in services:
            try:
                java = find_java(svc)
                out.append(Check(f"java for {svc}", True, f"{java} (Java {java_version(java)}, needs {MIN_JAVA[svc]}+)"))
            except LabError as e:
                out.append(Check(f"java for {svc}", False, str(e).split(";")[0], "apt-get install openjdk-17-jre-headless"))
        out.append(Check("maven", shutil.which("mvn") is not None or s.kafka_home is not None,
                         shutil.which("mvn") or "not found", "apt-get install maven (or run `make setup`)"))
        out.append(postgres_check())
        from .cluster.broker import status

        for name, node in status()["nodes"].items():
            for kind in ("broker", "controller"):
                port, answers = node[f"{kind}_port"], node[f"{kind}_answers"]
                if node["pid"] and answers:
                    out.append(Check(f"port {port}", True, f"{name} {kind} (pid {node['pid']}) listens"))
                elif node["pid"]:
                    out.append(Check(f"port {port}", False, f"{name} runs (pid {node['pid']}) but its {kind} port does not answer",
                                     f"wait a few seconds, or read {s.log_dir}/{name}.log"))
                elif not procs.port_free(port):
                    owner = procs.port_owner(port)
                    out.append(Check(f"port {port}", False, f"taken by {owner[1] if owner else 'another program'}",
                                     f"stop that program, or set KAFKA_BOOTSTRAP_SERVERS={HOST}:{port} to use it"))
                else:
                    out.append(Check(f"port {port}", False, f"free: {name} is not running", "python -m kafkalab up"))
            if node["pid"] and node["jolokia_port"] is not None:
                out.append(_jolokia_check(name, node["jolokia_port"], node["jolokia_answers"], "KAFKALAB_JOLOKIA_PORT"))
    else:
        out.append(Check("bootstrap", True, f"KAFKA_BOOTSTRAP_SERVERS={s.bootstrap} (nothing embedded is started)"))
    connection = _connection_checks()
    out.extend(connection)
    if not any(c.name == "connection" and not c.ok for c in connection):  # a refused TLS handshake or login: once
        out.extend(_cluster_checks(s.bootstrap))
    out.extend(_secured_cluster_checks())
    from .cluster.services import status as service_status

    for name, svc in service_status().items():
        if svc["answers"]:
            out.append(Check(name, True, f"answers on {svc['url']}" + (f" (pid {svc['pid']})" if svc["pid"] else "")))
            if svc["pid"] and "jolokia_port" in svc:
                out.append(_jolokia_check(name, svc["jolokia_port"], svc["jolokia_answers"],
                                          f"KAFKALAB_{name.upper()}_JOLOKIA_PORT"))
        elif name in services or svc["pid"]:
            out.append(Check(name, False, f"not answering on {svc['url']}", f"python -m kafkalab up --with {name}"))
        else:
            out.append(Check(name, True, "not running (chapters that need it start it)"))
    return out


def _jolokia_check(name: str, port: int, answers: bool, setting: str) -> Check:
    """The metrics agent (Jolokia) of one running JVM: it answers, or what holds its port and the fix."""
    if answers:
        return Check(f"metrics agent {port}", True, f"{name}'s Jolokia answers on {HOST}:{port}/jolokia")
    owner = procs.port_owner(port)
    if owner:
        return Check(f"metrics agent {port}", False, f"{name}'s Jolokia port is held by pid {owner[0]} ({owner[1]})",
                     f"stop that program and restart {name} (`python -m kafkalab down`, then `up`), or set {setting}")
    return Check(f"metrics agent {port}", False, f"{name} runs without its Jolokia agent",
                 "restart it: `python -m kafkalab down`, then `python -m kafkalab up`")


def _connection_checks() -> list[Check]:
    """TLS and SASL, step by step (kafkalab.io.security.probe), then what the user may do (its ACLs)."""
    from .io.connection import connection
    from .io.security import probe

    try:
        conn = connection()
    except LabError as e:  # a client config no client could use
        return [Check("connection", False, str(e))]
    finding = probe(conn)
    if finding.kind == "unreachable":
        return []  # the port and cluster checks say it, with the fix
    checks = [Check("connection", finding.ok, finding.message)]
    if finding.ok and conn.uses_sasl:
        checks.append(permissions_check(conn))
    return checks


def permissions_check(conn) -> Check:
    """What an authenticated user may do: the cluster operations and topics its ACLs allow. A user with none at all
    cannot run a chapter: that is the fix to give."""
    from .io.clients import admin

    with contextlib.closing(admin(connection=conn)) as a:
        operations = a.describe_cluster().get("authorized_operations") or []
        topics = [t for t in a.list_topics() if not t.startswith("__")]
    if operations or topics:
        return Check("permissions", True, f"user {conn.username!r} may {', '.join(operations) or 'do nothing'} on "
                                          f"the cluster and see {len(topics)} topic(s)")
    from .cluster import secure

    course = conn.bootstrap == secure.bootstrap() and secure.client_config(secure.ADMIN).exists()
    admin_config = secure.client_config(secure.ADMIN) if course else "<an admin's client config>"
    return Check("permissions", False, f"user {conn.username!r} is allowed nothing yet: no ACL names it, so it sees "
                                       f"no topic and may create none",
                 f"an admin grants what the course needs: kafka-acls --bootstrap-server {conn.bootstrap} "
                 f"--command-config {admin_config} --add --allow-principal User:{conn.username} --operation All "
                 f"--topic '*' --group '*' (or use a user who has them)")


def diagnose(conn) -> list[str]:
    """What this doctor says about one connection (a :class:`kafkalab.io.connection.Connection`): the connection,
    step by step, then the user's rights, as lines (Chapter 14 shows them for two users)."""
    from .io.security import probe

    finding = probe(conn)
    checks = [Check("connection", finding.ok, finding.message)]
    if finding.ok and conn.uses_sasl:
        checks.append(permissions_check(conn))
    return [c.line() for c in checks]


def _secured_cluster_checks() -> list[Check]:
    """The course's secured cluster (python -m kafkalab up --secure), while it runs: its admin's login."""
    from .cluster import procs, secure
    from .cluster.broker import secure_nodes
    from .io.security import probe

    node = secure_nodes()[0]
    if not procs.find_pid(node.pid_file, node.markers, repair=False):
        return []
    try:
        finding = probe(secure.user_connection(secure.ADMIN))
    except LabError as e:
        return [Check("secured cluster", False, str(e))]
    return [Check("secured cluster", finding.ok, finding.message,
                  "python -m kafkalab down, then python -m kafkalab up --secure")]


def _cluster_checks(bootstrap: str) -> list[Check]:
    from .io.clients import admin

    try:
        with contextlib.closing(admin(bootstrap_servers=bootstrap)) as a:
            info = a.describe_cluster()
            brokers = info["brokers"]
            result = [Check("cluster", True, f"{len(brokers)} broker(s) at {bootstrap}, controller {info.get('controller_id')}, "
                                             f"Kafka {pinned_kafka_version()} jars pinned")]
            for b in brokers:  # the advertised-listeners trap: metadata must name addresses we can reach
                reach = procs.port_answers(b["port"], b["host"], timeout=1.0)
                result.append(Check(f"advertised listener of broker {b['broker_id']}", reach, f"{b['host']}:{b['port']}",
                                    "set advertised.listeners to an address clients can reach"))
            return result
    except LabError as e:
        return [Check("cluster", False, str(e).split(". ")[0], "python -m kafkalab up")]


def run(services: tuple[str, ...] = ("broker",)) -> int:
    results = checks(services)
    for c in results:
        print(c.line())
    failed = [c for c in results if not c.ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed" if failed else f"all {len(results)} checks passed")
    return 1 if failed else 0

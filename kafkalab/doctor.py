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
            if node["pid"]:
                out.append(_jolokia_check(name, node["jolokia_port"], node["jolokia_answers"], "KAFKALAB_JOLOKIA_PORT"))
    else:
        out.append(Check("bootstrap", True, f"KAFKA_BOOTSTRAP_SERVERS={s.bootstrap} (nothing embedded is started)"))
    out.extend(_cluster_checks(s.bootstrap))
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

"""The Jolokia JVM agent on every broker and on the Connect worker: their JMX metrics over HTTP, on 127.0.0.1 only.

Each JVM starts with ``-javaagent:<jolokia-agent-jvm-2.5.1-javaagent.jar>=host=127.0.0.1,port=N,
discoveryEnabled=false``; the agent then answers ``http://127.0.0.1:N/jolokia/`` with the JVM's MBeans as JSON
(:mod:`kafkalab.metrics` reads them). Ports follow kafkalab.config's scheme: broker k on ``jolokia`` + k - 1 (8778,
8779, 8780, or base + 10 .. base + 12), Connect on ``connect_jolokia`` (8781, or base + 13).

The agent jar comes from Maven Central like every other jar (the ``jolokia`` profile of the pom). A port that
another program holds is refused before the JVM starts (the agent itself would only log the failure and let the
broker run without metrics).
"""
from __future__ import annotations

from ..config import HOST, Settings, settings
from ..errors import LabError
from . import procs

PATH = "/jolokia"
GRACE_S = 5  # how long a port that no visible process holds may take to close


def broker_port(node_id: int, s: Settings | None = None) -> int:
    """The agent port of broker ``node_id`` (1, 2, 3)."""
    return (s or settings()).ports["jolokia"] + node_id - 1


def connect_port(s: Settings | None = None) -> int:
    """The agent port of the Connect worker."""
    return (s or settings()).ports["connect_jolokia"]


def url(port: int) -> str:
    """The agent's base URL: ``http://127.0.0.1:<port>/jolokia``."""
    return f"http://{HOST}:{port}{PATH}"


def agent_jar(quiet: bool = False) -> str:
    """The agent jar's path, resolved from Maven Central once (``python -m kafkalab fetch jolokia``)."""
    from .maven import classpath

    return classpath("jolokia", quiet=quiet).split(":")[0]


def jvm_args(port: int, quiet: bool = False, class_archive: bool = False) -> list[str]:
    """The ``-javaagent`` argument that starts the agent on ``port``, bound to 127.0.0.1, with discovery off.

    ``class_archive``: the JVM writes or maps a class archive (kafkalab.cluster.cds). Java refuses to write one with
    an agent unless two diagnostic options allow it, and maps such an archive only with the same options (else it
    quietly starts without it), so both get them."""
    allow = ["-XX:+UnlockDiagnosticVMOptions", "-XX:+AllowArchivingWithJavaAgent"] if class_archive else []
    return [*allow, f"-javaagent:{agent_jar(quiet)}=host={HOST},port={port},discoveryEnabled=false"]


def check_port(port: int, who: str, setting: str) -> None:
    """Raise a one-line LabError with the fix when another program holds ``port`` (the agent of ``who``)."""
    from ..wait import wait_until

    def free_or_owned() -> str | None:  # taken by no visible listener: a client's passing source port, or a JVM
        if procs.port_free(port):        # killed a moment ago still closing it; look again for a few seconds
            return "free"
        return "owned" if procs.port_owner(port) else None

    try:
        if wait_until(free_or_owned, timeout_s=GRACE_S, interval_s=0.1, what=f"port {port} to close") == "free":
            return
    except LabError:
        pass
    owner = procs.port_owner(port)
    by = f" by pid {owner[0]} ({owner[1]})" if owner else ""
    raise LabError(f"port {port} ({who} metrics agent, Jolokia) on {HOST} is already in use{by}; stop that program, "
                   f"or move the agent with {setting}=<a free port>")


def answers(port: int, timeout_s: float = 2) -> bool:
    """True if a Jolokia agent answers on ``port`` (its ``/version`` request)."""
    from ..io import http

    try:
        status, body = http.request("GET", url(port) + "/version", timeout_s=timeout_s)
    except http.Unreachable:
        return False
    value = body.get("value") if isinstance(body, dict) else None
    return status == 200 and isinstance(value, dict) and "agent" in value

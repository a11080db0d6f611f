"""The embedded Apache Kafka cluster: one (or three) KRaft nodes started with Java from Maven's jars.

Lifecycle guarantees (each one has a test in tests/integration/test_lifecycle.py):
``up`` twice leaves one JVM per node; ``down`` leaves none; data survives ``down``/``up``; a killed JVM or a stale
pid file is recovered by the next ``up``; a port held by another program stops ``up`` with a message naming it.
"""
from __future__ import annotations

import contextlib
import os
import string
import subprocess
import time
from pathlib import Path

from ..config import HOST, JVM_DIR, Settings, settings, start_timeout_s
from ..errors import LabError
from ..wait import wait_until
from . import cds, jolokia, procs, storage
from . import secure as secure_mod
from .java import find_java
from .lock import cluster_lock
from .maven import classpath, kafka_version
from .nodes import Node, cluster_dir, current_size, is_formatted, nodes, secure_nodes, size_file
from .storage import parse_features, release, say

# Node, nodes, secure_nodes, current_size, parse_features and release are imported from here by the CLI, the
# chapters and the tests; they live in .nodes and .storage.
__all__ = ["Node", "cluster_dir", "current_size", "down", "is_formatted", "kill_node", "node_pid", "nodes",
           "parse_features", "parse_properties", "release", "render_properties", "secure_nodes", "status", "up"]

STOP_GRACE_S = 60
KILL_WAIT_S = 10  # kill_node: how long a SIGKILLed node may take to free its ports
PORT_GRACE_S = 5  # up: how long a port no visible process holds may take to close
POLL_S = 0.05  # how often `up` looks for the broker's port while it starts (a refused connection is cheap)



def _pid(node: Node, repair: bool = True) -> int | None:
    """The live pid of this node's JVM, or None. ``repair`` (only under the cluster lock) removes a stale pid file
    and adopts a JVM found without one."""
    return procs.find_pid(node.pid_file, node.markers, repair=repair)


def _node(node_id: int) -> Node | None:
    """Node ``node_id`` of the embedded cluster as it was last started (None if it has no such node)."""
    s = settings()
    return next((x for x in nodes(current_size(s), s) if x.node_id == node_id), None)


def node_pid(node_id: int) -> int | None:
    """The pid of node ``node_id`` of the running embedded cluster (the replication chapter kills leaders)."""
    node = _node(node_id)
    return _pid(node, repair=False) if node else None


def kill_node(node_id: int) -> int:
    """SIGKILL one node, as a crash would (no clean shutdown); ``up()`` brings it back with its data.

    Returns once the process is gone and its ports are free; raises LabError if they stay held."""
    import signal

    node = _node(node_id)
    pid = _pid(node, repair=False) if node else None
    if pid is None or node is None:
        raise LabError(f"node-{node_id} is not running; `python -m kafkalab status` shows what runs")
    os.kill(pid, signal.SIGKILL)

    def gone_and_ports_free() -> bool:  # the main thread turns zombie first; sockets close with the last thread
        return not procs.pid_alive(pid) and procs.port_free(node.broker_port) and procs.port_free(node.controller_port)

    wait_until(gone_and_ports_free, timeout_s=KILL_WAIT_S, interval_s=0.05,
               what=f"{node.name} (pid {pid}) to exit and free ports {node.broker_port}/{node.controller_port}",
               last_seen=lambda: _port_report(node),
               fix="`python -m kafkalab doctor` names what holds them")
    return pid


def _port_report(node: Node) -> str:
    held = []
    for port in (node.broker_port, node.controller_port):
        if not procs.port_free(port):
            owner = procs.port_owner(port)
            held.append(f"{port} held" + (f" by pid {owner[0]}" if owner else ""))
    return ", ".join(held) or "ports free"


# ----------------------------------------------------------------------------------------------- config
def render_properties(node: Node, all_nodes: list[Node]) -> str:
    n = len(all_nodes)
    template = string.Template((JVM_DIR / "server.properties.template").read_text())
    text = template.substitute(
        node_id=node.node_id,
        broker_port=node.broker_port,
        controller_port=node.controller_port,
        quorum_bootstrap=",".join(f"{HOST}:{x.controller_port}" for x in all_nodes),
        log_dir=node.log_dir,
        n_nodes=n,
        internal_rf=min(n, 3),
        internal_min_isr=1 if n < 3 else 2,
    )
    return secure_mod.render(text, node.broker_port, node.controller_port, node.s) if node.secure else text


def parse_properties(text: str) -> dict[str, str]:
    """A Java .properties text (as we write it: key=value lines and # comments) as a dict."""
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def _java_cmd(java: str, cp: str, node: Node, main: list[str], heap: str, extra: list[str] | None = None) -> list[str]:
    s = node.s
    return [
        java,
        f"-Xms{heap}" if heap else "-Xms256m",
        f"-Xmx{heap}" if heap else "-Xmx512m",
        "-XX:+UseG1GC",
        "-XX:MaxGCPauseMillis=20",
        "-Djava.awt.headless=true",
        *(extra or []),
        *node.markers,
        f"-Dkafka.logs.dir={s.log_dir}",
        f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-broker.properties'}",
        "-cp",
        cp,
        *main,
    ]


# ----------------------------------------------------------------------------------------------- up / down
def _check_ports(node: Node) -> None:
    for port, what in ((node.broker_port, "broker"), (node.controller_port, "controller")):
        def free_or_owned() -> str | None:  # None = taken but no process we can see owns it: keep looking
            if procs.port_free(port):
                return "free"
            return "owned" if procs.port_owner(port) else None

        try:  # a JVM killed a moment ago may still be closing the port: give it a few seconds
            state = wait_until(free_or_owned, timeout_s=PORT_GRACE_S, interval_s=0.1, what=f"port {port} to close")
        except LabError:
            state = "owned"
        if state == "free":
            continue
        owner = procs.port_owner(port)
        who = f" by pid {owner[0]} ({owner[1]})" if owner else ""
        raise LabError(
            f"port {port} ({node.name} {what}) on {HOST} is already in use{who}. Stop that program, or if it is "
            f"a Kafka you want to use, set KAFKA_BOOTSTRAP_SERVERS={HOST}:{node.broker_port} instead of starting ours"
        )
    if node.jolokia_port is not None:
        jolokia.check_port(node.jolokia_port, node.name, "KAFKALAB_JOLOKIA_PORT")


def up(n: int | None = None, quiet: bool = False, secure: bool = False) -> dict:
    """Start the embedded cluster (idempotent) with ``n`` nodes (default: as many as last time, else 1).

    ``secure`` starts the course's secured cluster instead (kafkalab.cluster.secure): one node beside the plain
    one, whatever KAFKA_BOOTSTRAP_SERVERS says (it is the course's own cluster).

    Returns {node name: pid}. Safe when two run at once: the second waits for the first (cluster lock) and then
    finds the nodes running. A start that fails or times out stops the JVMs it started."""
    s = settings()
    if secure:
        if n not in (None, 1):
            raise LabError("--secure runs one broker; leave out --brokers")
        with cluster_lock(s, quiet=quiet):
            return _up_locked(1, s, quiet, secure=True)
    if not s.embedded:  # the learner's own cluster: check that it answers, start nothing
        from ..io.clients import describe_cluster

        brokers = describe_cluster(s.bootstrap, timeout_s=5)["brokers"]
        say(f"Using the cluster at {s.bootstrap} (KAFKA_BOOTSTRAP_SERVERS, {len(brokers)} broker(s)); starting nothing", quiet)
        return {}
    if n not in (None, 1, 3):
        raise LabError(f"--brokers {n}: the embedded cluster runs 1 or 3 brokers")
    with cluster_lock(s, quiet=quiet):
        return _up_locked(n or current_size(s), s, quiet)


def _up_locked(n: int, s: Settings, quiet: bool, secure: bool = False) -> dict:
    if secure:
        all_nodes = secure_nodes(s)
    else:
        other = current_size(s)
        if other != n and any(_pid(x) for x in nodes(other, s)):
            raise LabError(f"a {other}-broker cluster is running; stop it with `python -m kafkalab down`, then run "
                           f"`python -m kafkalab up --brokers {n}` (each keeps its own topics)")
        all_nodes = nodes(n, s)
    bootstrap = secure_mod.bootstrap(s) if secure else s.bootstrap
    running = {x.name: _pid(x) for x in all_nodes}
    to_start = [x for x in all_nodes if not running[x.name]]
    if not to_start:
        say(f"Kafka is already running on {bootstrap} ({', '.join(f'{k} pid {v}' for k, v in running.items())})", quiet)
        return running
    for node in to_start:
        _check_ports(node)
    java = find_java("broker")
    cp = classpath("broker", quiet=quiet)
    folder = all_nodes[0].data_dir
    for d in (s.run_dir, s.log_dir, folder):
        d.mkdir(parents=True, exist_ok=True)
    if secure:  # passwords, the CA and the broker's certificate (first start only), the users' client configs
        secure_mod.prepare(java, s, quiet)
    for node in all_nodes:
        _write_props(node.props_file, render_properties(node, all_nodes))
    if not (folder / "cluster.json").exists():
        say(f"Formatting storage for a {'secured ' if secure else ''}{n}-node KRaft cluster in {folder}", quiet)
        storage.format_storage(java, cp, all_nodes)
    if not secure:
        size_file(s).write_text(str(n))
    t0 = time.monotonic()
    started: dict[Node, subprocess.Popen] = {}
    offsets = {node: _log_offsets(node) for node in to_start}  # errors quote this run's log lines only
    try:
        for node in to_start:
            _forget_cds_part(node, trust=False)  # left by a JVM that died without our `down`: may be half written
            if node.jolokia_port is None:  # the secured node: no metrics agent
                cds_opts, part = cds.jvm_args("broker", java, cp)
                agent: list[str] = []
            else:  # the agent's jar is part of what a class archive must match: an archive of its own
                cds_opts, part = cds.jvm_args("broker", java, cp + os.pathsep + jolokia.agent_jar(quiet))
                agent = jolokia.jvm_args(node.jolokia_port, quiet, class_archive=bool(cds_opts))
            if part is not None:
                node.cds_marker.write_text(str(part))
            cmd = _java_cmd(java, cp, node, ["kafka.Kafka", str(node.props_file)], s.heap, cds_opts + agent)
            with open(node.console_log, "ab") as out:
                proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True, cwd=s.home)
            node.pid_file.write_text(str(proc.pid))
            running[node.name] = proc.pid
            started[node] = proc
            say(f"Started {node.name} (pid {proc.pid}) on {HOST}:{node.broker_port}; waiting for it to answer ...", quiet)
        _wait_ready(all_nodes, started, offsets, t0, quiet)
    except BaseException:  # a failed or timed-out start (or Ctrl-C) leaves nothing of its own behind
        _stop_started(started)
        raise
    try:
        storage.ensure_features(java, cp, all_nodes, quiet)
    except LabError as e:  # the cluster runs; only its feature check failed
        say(f"Could not check this cluster's features: {e}", quiet)
    say(f"Kafka is up on {bootstrap} after {time.monotonic() - t0:.1f} s (logs: {s.log_dir})", quiet)
    if secure:
        say(f"Secured with SASL_SSL ({secure_mod.MECHANISM}); users {', '.join(secure_mod.USERS)}, client configs in "
             f"{secure_mod.client_config(secure_mod.ADMIN, s).parent}. Point the course at it with:\n"
             f"  export KAFKA_BOOTSTRAP_SERVERS={bootstrap} "
             f"KAFKA_CLIENT_CONFIG={secure_mod.client_config(secure_mod.ADMIN, s)}", quiet)
    return running


def _write_props(path: Path, text: str) -> None:
    """A node's server.properties, readable by this user only (the secured node's holds passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def _stop_started(started: dict[Node, subprocess.Popen]) -> None:
    """Stop the JVMs this run started (SIGTERM, then SIGKILL) and forget their pid files and class-archive parts."""
    procs.terminate_all([p.pid for p in started.values() if p.poll() is None], STOP_GRACE_S)
    for node, proc in started.items():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
        node.pid_file.unlink(missing_ok=True)
        _forget_cds_part(node, trust=False)


def _forget_cds_part(node: Node, trust: bool) -> None:
    """Promote (``trust``: the JVM exited cleanly) or discard the class archive a node's JVM was asked to write."""
    try:
        part = Path(node.cds_marker.read_text().strip())
    except OSError:
        return
    node.cds_marker.unlink(missing_ok=True)
    if trust:
        cds.promote(part)
    else:
        cds.discard(part)


def _log_files(node: Node) -> list[Path]:
    return [node.console_log, node.s.log_dir / f"{node.name}.log"]


def _log_offsets(node: Node) -> dict[Path, int]:
    """Where each of the node's logs ends now: a failed start quotes only what was written after."""
    out = {}
    for path in _log_files(node):
        try:
            out[path] = path.stat().st_size
        except OSError:
            out[path] = 0
    return out


def _last_lines(offsets: dict[Path, int], n: int = 3) -> str:
    lines: list[str] = []
    for path, start in offsets.items():
        try:
            with open(path, "rb") as f:
                if f.seek(0, os.SEEK_END) >= start:  # a log that rolled over since is read from its start
                    f.seek(start)
                else:
                    f.seek(0)
                lines += [ln for ln in f.read().decode(errors="replace").splitlines() if ln.strip()]
        except OSError:
            pass
    errors = [ln for ln in lines if " ERROR " in ln or "Exception" in ln]
    return " | ".join((errors or lines)[-n:])[:400] or "no output"


def _wait_ready(all_nodes: list[Node], started: dict[Node, subprocess.Popen], offsets: dict[Node, dict[Path, int]],
                t0: float, quiet: bool) -> None:
    """Wait until every node answers; raise at once if a node we started exits."""
    from ..io.clients import describe_cluster

    with contextlib.suppress(ImportError):
        import kafka  # noqa: F401  (importing the client takes ~0.1 s: do it while the JVM starts, not after)
    s = all_nodes[0].s
    timeout = start_timeout_s()
    next_note = [time.monotonic() + 10]
    # the readiness probe logs in like any client: the secured node is ready when its admin can describe it
    conn = secure_mod.user_connection(secure_mod.ADMIN, s) if all_nodes[0].secure else None
    bootstrap = conn.bootstrap if conn else s.bootstrap

    def ready() -> bool:
        for node, proc in started.items():
            if proc.poll() is not None:
                log = s.log_dir / f"{node.name}.log"
                raise LabError(f"{node.name} exited during start-up (exit code {proc.returncode}): "
                               f"{_last_lines(offsets[node])} (full log: {log})")
        if time.monotonic() > next_note[0]:
            say(f"  ... still starting ({time.monotonic() - t0:.0f} s)", quiet)
            next_note[0] += 10
        if not all(procs.port_answers(x.broker_port) for x in all_nodes):
            return False
        try:
            return len(describe_cluster(bootstrap, timeout_s=3, connection=conn)["brokers"]) == len(all_nodes)
        except Exception:  # noqa: BLE001  not ready yet (kafka-python raises several kinds): keep waiting
            return False

    wait_until(ready, timeout_s=timeout, interval_s=POLL_S, what=f"Kafka answering on {bootstrap}",
               last_seen=lambda: ", ".join(f"{x.name} port {'open' if procs.port_answers(x.broker_port) else 'closed'}"
                                           for x in all_nodes),
               fix=f"the JVMs it started were stopped; see {s.log_dir}, run `python -m kafkalab doctor`, or allow more "
                   f"time with KAFKALAB_START_TIMEOUT=<seconds>")


def down(wipe: bool = False, quiet: bool = False) -> list[str]:
    """Stop every node of the embedded cluster; leave no JVM behind. ``wipe`` also deletes the data."""
    s = settings()
    with cluster_lock(s, quiet=quiet):
        return _down_locked(s, wipe, quiet)


def _down_locked(s: Settings, wipe: bool, quiet: bool) -> list[str]:
    known = nodes(max(3, current_size(s)), s) + secure_nodes(s)
    live = {}
    for node in known:
        pid = _pid(node)
        if pid:
            live[node.name] = pid
        node.pid_file.unlink(missing_ok=True)
    if live:
        say(f"Stopping {', '.join(f'{k} (pid {v})' for k, v in live.items())} ...", quiet)
    killed = procs.terminate_all(list(live.values()), STOP_GRACE_S)
    for node in known:
        _forget_cds_part(node, trust=node.name in live and live[node.name] not in killed)
    stopped = [name + (" (killed after a timeout)" if pid in killed else "") for name, pid in live.items()]
    if wipe and s.data_dir.exists():
        import shutil

        shutil.rmtree(s.data_dir)
        say(f"Deleted {s.data_dir}", quiet)
    say("Stopped " + ", ".join(stopped) if stopped else "Nothing was running", quiet)
    return stopped


def status() -> dict:
    """What runs: per node its pid and whether its ports answer. Reads only: no pid file is written or removed."""
    s = settings()
    report = {"bootstrap": s.bootstrap, "embedded": s.embedded, "home": str(s.home), "nodes": {},
              "kafka_version": kafka_version() if s.embedded else None}
    if s.embedded or _pid(secure_nodes(s)[0], repair=False):
        # the plain cluster's nodes, and the secured node while it runs (it is started on demand)
        plain = nodes(current_size(s), s) if s.embedded else []
        for node in plain + [x for x in secure_nodes(s) if _pid(x, repair=False)]:
            pid = _pid(node, repair=False)
            report["nodes"][node.name] = {
                "pid": pid,
                "broker_port": node.broker_port,
                "controller_port": node.controller_port,
                "broker_answers": procs.port_answers(node.broker_port),
                "controller_answers": procs.port_answers(node.controller_port),
                "jolokia_port": node.jolokia_port,
                "jolokia_answers": (node.jolokia_port is not None and procs.port_answers(node.jolokia_port)
                                    and jolokia.answers(node.jolokia_port)),
            }
    return report

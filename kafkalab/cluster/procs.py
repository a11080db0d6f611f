"""Small, Linux-only process and port helpers used by the launchers (no psutil needed)."""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
from pathlib import Path

from ..errors import LabError
from ..wait import wait_until


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if nothing listens on host:port (we try to bind it, the way the JVM will)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True if a TCP connection to host:port is accepted."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (exited, not yet reaped) counts as gone
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def pids_with_arg(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker`` as one argument."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            pid = int(entry.name)
            if pid != os.getpid() and marker in cmdline(pid) and pid_alive(pid):
                found.append(pid)
    return sorted(found)


def _listen_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                inodes.add(inode)
    return inodes


def port_owner(port: int) -> tuple[int, str] | None:
    """(pid, short command) of the process listening on ``port``, if we may see it."""
    inodes = _listen_inodes(port)
    if not inodes:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    args = cmdline(int(entry.name))
                    return int(entry.name), " ".join(a for a in args[:3] if a)[:80]
        except OSError:
            continue
    return None


def terminate(pid: int, grace: float) -> bool:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL. True if it had to be killed."""
    return bool(terminate_all([pid], grace))


def terminate_all(pids: list[int], grace: float) -> set[int]:
    """SIGTERM every pid at once (so cluster members shut down together), wait up to ``grace`` seconds, then
    SIGKILL the ones still alive. Returns the pids that had to be killed."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    alive = set(pids)

    def all_gone() -> bool:
        for pid in pids:
            _reap(pid)  # our own children (a start that timed out) turn zombie until reaped
        alive.intersection_update(p for p in pids if pid_alive(p))
        return not alive

    with contextlib.suppress(LabError):
        wait_until(all_gone, timeout_s=grace, interval_s=0.2, what="processes to stop after SIGTERM")
    killed = set(alive)
    for pid in killed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if killed:
        with contextlib.suppress(LabError):
            wait_until(all_gone, timeout_s=5, interval_s=0.1, what="processes to exit after SIGKILL")
    for pid in pids:
        _reap(pid)
    return killed


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def find_pid(pid_file: Path, markers: tuple[str, ...], repair: bool = True) -> int | None:
    """The live pid of the JVM identified by ``markers`` (arguments only it has).

    Trusts ``pid_file`` only if that pid is alive and carries the markers; otherwise looks for such a process in
    /proc. With ``repair`` (commands that hold the cluster lock) a stale file is removed and a found process adopted
    (its pid written); without (``status``, ``doctor``, chapters) nothing on disk changes.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid = None
    if pid and pid_alive(pid) and all(m in cmdline(pid) for m in markers):
        return pid
    if pid is not None and repair:
        pid_file.unlink(missing_ok=True)  # stale: the JVM died (kill -9, reboot) or the pid was reused
    found = [p for p in pids_with_arg(markers[-1]) if all(m in cmdline(p) for m in markers)]
    if found and repair:
        pid_file.parent.mkdir(parents=True, exist_ok=True)
        pid_file.write_text(str(found[0]))
    return found[0] if found else None

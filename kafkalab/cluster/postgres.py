"""PostgreSQL, the course's database (the Connect chapter: change data capture with Debezium, the JDBC sink).

Started with ``python -m kafkalab up --with postgres`` or by the chapter that needs it
(``notebook.start(services=("postgres",))``), stopped by ``down``. The same guarantees as the JVM services
(kafkalab/cluster/services.py): starting twice leaves one server, stopping leaves none, the data survives a
restart, a killed server is recovered (PostgreSQL replays its write-ahead log on the next start), a taken port is
reported in one line with the fix.

**Which programs.** The distribution's server: Debian's ``postgresql`` package puts ``initdb`` and ``postgres`` in
``/usr/lib/postgresql/<major>/bin`` (15 on Debian 12), not on PATH. The newest major version found there (or on
PATH) is used, except that an existing data directory is always opened by the major version that created it.

**Where the data lives, and as whom the server runs.**

* As a normal user (a laptop, Binder): as that user, with the data in ``<KAFKALAB_HOME>/data/postgres`` (mode 0700).
* As root (CI, containers): PostgreSQL refuses to run as root, so the server runs as Debian's ``postgres`` user
  (created by the package). Its data directory belongs to that user with mode 0700, and the server must be able to
  walk down to it: every parent folder needs the execute (search) bit for that user. ``<KAFKALAB_HOME>/data/postgres``
  is used when that holds. When it does not -- a checkout under ``/root`` (mode 0700), or pytest's private
  temporary folders -- the data goes to ``<home of postgres>/kafkalab/<hash of KAFKALAB_HOME>`` instead
  (``/var/lib/postgresql/kafkalab/…`` on Debian: a folder that the package made for that user and that every user
  may pass through). ``status`` prints the folder in use and ``down --wipe`` deletes it like the rest.
  The user switch is ``subprocess.Popen(user=…, group=…, extra_groups=[])``: what ``runuser -u postgres --`` does,
  without a process in between, so the pid kept in ``run/postgres.pid`` is the server's own and the stop signal
  reaches it directly.

**Connections.** TCP on 127.0.0.1 at the course port (``KAFKALAB_POSTGRES_PORT``, default 5433: a distribution's own
server often has 5432) with a password (SCRAM): the notebook, Debezium's source and the JDBC sink all connect that
way as the course user ``kafkalab`` (password ``kafkalab``; it has the REPLICATION attribute CDC needs and owns the
database ``kafkalab``). Both are created on every start when missing. They are course defaults for a server that
only listens on loopback, not secrets. The Unix socket lives in the data directory (0700: only the server's user and
root can reach it), where connections are trusted: kafkalab uses it to create the course user as the superuser
``postgres``. Settings: ``kafkalab/cluster/postgresql.conf.template`` (``wal_level=logical``, small memory).
"""
from __future__ import annotations

import hashlib
import os
import pwd
import re
import shutil
import signal
import stat
import string
import subprocess
import sys
from pathlib import Path

from ..config import HOST
from ..errors import LabError
from ..wait import wait_until
from . import procs
from .service import Service

#: The course's database and its user (created with REPLICATION, for Debezium). Course defaults, not secrets.
DATABASE = "kafkalab"
USER = "kafkalab"
PASSWORD = "kafkalab"
SUPERUSER = "postgres"
#: Where Debian (and Ubuntu) install the server programs, one folder per major version.
DISTRIBUTION_DIR = Path("/usr/lib/postgresql")
TEMPLATE = Path(__file__).resolve().parent / "postgresql.conf.template"
START_TIMEOUT_S = 60
STOP_GRACE_S = 30
#: A Unix socket's path must fit in 107 bytes (sockaddr_un); longer data paths put the socket in a short folder.
SOCKET_PATH_MAX = 100
INSTALL_FIX = "run `make setup` (it installs it) or `sudo apt-get install postgresql`"


def _say(msg: str, quiet: bool) -> None:
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- programs and user
def server_version(bin_dir: Path) -> int:
    """The major version of the ``postgres`` program in ``bin_dir`` (``postgres -V`` runs even as root)."""
    out = subprocess.run([str(bin_dir / "postgres"), "-V"], capture_output=True, text=True, timeout=20).stdout
    m = re.search(r"\(PostgreSQL\) (\d+)", out)
    if not m:
        raise LabError(f"{bin_dir / 'postgres'} -V printed {out.strip()!r}, not a PostgreSQL version; {INSTALL_FIX}")
    return int(m.group(1))


def bin_dirs() -> list[Path]:
    """Folders holding both ``initdb`` and ``postgres``: the distribution's, newest first, then PATH's."""
    found = sorted((d for d in DISTRIBUTION_DIR.glob("*/bin") if d.parent.name.isdigit()),
                   key=lambda d: int(d.parent.name), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    return [d for d in dict.fromkeys(found) if (d / "initdb").exists() and (d / "postgres").exists()]


def bin_dir(major: int | None = None) -> Path:
    """The server programs to use: those of ``major`` (the data directory's version) if given, else the newest."""
    dirs = bin_dirs()
    if not dirs:
        raise LabError(f"PostgreSQL's server programs (initdb, postgres) are not installed (looked in "
                       f"{DISTRIBUTION_DIR}/*/bin and on PATH); {INSTALL_FIX}")
    if major is None:
        return dirs[0]
    for d in dirs:
        if server_version(d) == major:
            return d
    raise LabError(f"the course's PostgreSQL data was created by PostgreSQL {major}, which is not installed "
                   f"(found {', '.join(str(server_version(d)) for d in dirs)}); install postgresql-{major}, or "
                   f"delete the data with `python -m kafkalab down --wipe`")


def server_user() -> pwd.struct_passwd | None:
    """The user the server runs as: None for "whoever runs the course", Debian's ``postgres`` user when that is root."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise LabError("PostgreSQL refuses to run as root and this machine has no `postgres` user to run it as; "
                       "install Debian's postgresql package (it creates that user) or run the course as a "
                       "normal user") from None


def _as(user: pwd.struct_passwd | None) -> dict:
    """Popen keyword arguments that run a program as ``user`` (nothing to change when None)."""
    return {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _chown(path: Path, user: pwd.struct_passwd | None) -> None:
    if user is not None:
        os.chown(path, user.pw_uid, user.pw_gid)


def traversable(folder: Path, user: pwd.struct_passwd) -> bool:
    """True if ``user`` may pass through ``folder`` and each of its existing parents (the x bit that applies)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for d in [folder, *folder.parents]:
        try:
            st = d.stat()
        except FileNotFoundError:
            continue  # created later by us with the usual 0755
        if st.st_uid == user.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid in groups:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


# ------------------------------------------------------------------------------------------------- the service
class Postgres(Service):
    """The course's PostgreSQL server: the Service interface (pid file, markers, ports, answers) plus start/stop."""

    @property
    def data_dir(self) -> Path:
        """The data directory (see the module docstring for why it may live outside KAFKALAB_HOME as root)."""
        preferred = self.s.data_dir / "postgres"
        try:
            user = server_user()
        except LabError:  # root without a postgres user: start() says so; status only shows the folder
            return preferred
        if user is None or traversable(preferred.parent, user):
            return preferred
        tag = hashlib.sha256(str(self.s.home).encode()).hexdigest()[:12]
        return Path(user.pw_dir) / "kafkalab" / tag

    @property
    def socket_dir(self) -> Path:
        data = self.data_dir
        if len(str(data / f".s.PGSQL.{self.port}.lock")) <= SOCKET_PATH_MAX:
            return data
        tag = hashlib.sha256(str(data).encode()).hexdigest()[:12]
        return Path("/tmp") / f"kafkalab-pg-{tag}"

    @property
    def markers(self) -> tuple[str, ...]:
        return "-D", str(self.data_dir)  # the server's own command line: postgres -D <data>

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@{HOST}:{self.port}/{DATABASE}"

    def dsn(self, dbname: str = DATABASE) -> str:
        """A libpq connection string for the course user over TCP (what psycopg and the notebook use)."""
        return f"host={HOST} port={self.port} dbname={dbname} user={USER} password={PASSWORD}"

    def answers(self) -> bool:
        """True if the course user can log in over TCP (what Debezium and the notebook do)."""
        import psycopg

        try:
            with psycopg.connect(self.dsn(), connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    def prepare(self, quiet: bool = False) -> None:
        """Nothing to fetch: check that the server programs are installed."""
        bin_dir()

    def command(self, quiet: bool = False) -> tuple[list[str], Path]:
        data = self.data_dir
        return [str(self._bin() / "postgres"), "-D", str(data)], data

    def _bin(self) -> Path:
        version = self.data_dir / "PG_VERSION"
        return bin_dir(int(version.read_text().strip()) if version.exists() else None)

    # -- start
    def start(self, quiet: bool = False) -> int:
        """Start the server if it is not running (creating its data the first time); return its pid."""
        pid = procs.find_pid(self.pid_file, self.markers)
        if pid:
            _say(f"postgres is already running on {self.url} (pid {pid})", quiet)
            return pid
        user = server_user()
        data = self.data_dir
        for d in (self.s.run_dir, self.s.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._clear_leftovers(data)
        if not (data / "PG_VERSION").exists():
            self._initdb(data, user, quiet)
        self._configure(data, user)
        cmd, cwd = self.command(quiet)
        with open(self.log, "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=cwd, **_as(user))
        self.pid_file.write_text(str(proc.pid))
        _say(f"Started postgres (pid {proc.pid}) on {HOST}:{self.port}; waiting for it to answer ...", quiet)

        def ready():
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise LabError(f"postgres exited during start-up (exit code {proc.returncode}): "
                               f"{self._last_error()} (full log: {self.log})")
            return self._superuser_ready()

        wait_until(ready, timeout_s=START_TIMEOUT_S, what="PostgreSQL accepting connections",
                   fix=f"see {self.log}", interval_s=0.1)
        self._ensure_course_user()
        _say(f"postgres is up on {self.url} (data: {data})", quiet)
        return proc.pid

    def _initdb(self, data: Path, user: pwd.struct_passwd | None, quiet: bool) -> None:
        """Create the data directory: initdb into a fresh folder next to it, then rename (so a failed or interrupted
        initdb never leaves a half-made data directory behind)."""
        programs = bin_dir()
        parent = data.parent
        if not parent.exists():
            parent.mkdir(parents=True)
            _chown(parent, user)  # the fallback folder under postgres's home belongs to that user
        tmp = parent / f".{data.name}.initdb-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(mode=0o700)
        _chown(tmp, user)
        _say(f"Creating the PostgreSQL {server_version(programs)} data directory {data} ...", quiet)
        res = subprocess.run([str(programs / "initdb"), "-D", str(tmp), "-U", SUPERUSER, "-E", "UTF8", "--locale=C",
                              "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions"],
                             capture_output=True, text=True, timeout=300, cwd=tmp, **_as(user))
        if res.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            lines = [ln for ln in (res.stderr + res.stdout).splitlines() if ln.strip()]
            raise LabError(f"initdb failed: {lines[-1] if lines else 'no output'}")
        with open(tmp / "postgresql.conf", "a") as conf:
            conf.write("\n# The course's settings (kafkalab/cluster/postgresql.conf.template), rewritten at each start\n"
                       "include_if_exists = 'kafkalab.conf'\n")
        try:
            tmp.rename(data)
        except OSError:  # another `up` finished its initdb first: use that one
            shutil.rmtree(tmp, ignore_errors=True)
            if not (data / "PG_VERSION").exists():
                raise

    def _configure(self, data: Path, user: pwd.struct_passwd | None) -> None:
        sockets = self.socket_dir
        if sockets != data:
            sockets.mkdir(mode=0o700, exist_ok=True)
            _chown(sockets, user)
        conf = data / "kafkalab.conf"
        conf.write_text(string.Template(TEMPLATE.read_text()).substitute(port=self.port, socket_dir=sockets))
        _chown(conf, user)

    def _superuser(self, dbname: str = "postgres", timeout: int = 2):
        """A connection as the superuser through the Unix socket (trusted: only root and the server's user reach it)."""
        import psycopg

        return psycopg.connect(host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname=dbname,
                               connect_timeout=timeout, autocommit=True)

    def _superuser_ready(self) -> bool:
        import psycopg

        try:
            with self._superuser():
                return True
        except psycopg.OperationalError:  # not listening yet, or "the database system is starting up"
            return False

    def _ensure_course_user(self) -> None:
        """Create the course user (LOGIN, REPLICATION) and its database if missing; idempotent."""
        from psycopg import sql

        with self._superuser() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (USER,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(sql.SQL("{} ROLE {} LOGIN REPLICATION PASSWORD {}").format(
                sql.SQL(verb), sql.Identifier(USER), sql.Literal(PASSWORD)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE),
                                                                           sql.Identifier(USER)))

    def _last_error(self) -> str:
        try:
            lines = [ln for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        except OSError:
            return "no log"
        important = [ln for ln in lines if "FATAL" in ln or "PANIC" in ln or "ERROR" in ln]
        return (important or lines or ["no output"])[-1][:300]

    # -- processes of this data directory
    def server_processes(self, data: Path | None = None) -> list[int]:
        """Pids of every process of this server: each PostgreSQL process runs with the data directory as its
        working folder, so this also finds the children a killed server left behind."""
        data = str(data or self.data_dir)
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.readlink(entry / "cwd") == data and procs.pid_alive(int(entry.name)):
                        found.append(int(entry.name))
                except OSError:
                    continue
        return sorted(found)

    def _clear_leftovers(self, data: Path) -> None:
        """After a killed server: let its orphaned children end (they notice and exit), then drop its lock files,
        postmaster.pid and the socket's ``.s.PGSQL.<port>.lock``. PostgreSQL itself would refuse to start while the
        pid they name looks alive, and in a container whose first process does not reap orphans the killed server
        stays a zombie (a pid that still answers) until the container ends."""
        left = self.server_processes(data)
        if left:
            for pid in left:
                _signal(pid, signal.SIGQUIT)
            try:
                wait_until(lambda: not self.server_processes(data), timeout_s=10, what="the old server's processes "
                           "ending", interval_s=0.1)
            except LabError:
                for pid in self.server_processes(data):
                    _signal(pid, signal.SIGKILL)
                wait_until(lambda: not self.server_processes(data), timeout_s=5, what="the old server's processes "
                           "ending after SIGKILL", fix="stop them by hand (`ps -ef | grep postgres`)")
        (data / "postmaster.pid").unlink(missing_ok=True)
        for leftover in self.socket_dir.glob(".s.PGSQL.*"):
            leftover.unlink(missing_ok=True)

    # -- stop
    def stop(self, quiet: bool = False) -> bool:
        """Stop the server (fast shutdown: open sessions such as Connect's are ended); True if it was running."""
        pid = procs.find_pid(self.pid_file, self.markers)
        self.pid_file.unlink(missing_ok=True)
        if not pid:
            return False
        _say(f"Stopping postgres (pid {pid}) ...", quiet)
        data = self.data_dir
        # SIGINT is PostgreSQL's "fast" shutdown (SIGTERM, "smart", would wait for every client to disconnect);
        # SIGQUIT is "immediate" (crash recovery at the next start); SIGKILL is the last resort.
        for sig, grace in ((signal.SIGINT, STOP_GRACE_S), (signal.SIGQUIT, 5), (signal.SIGKILL, 5)):
            _signal(pid, sig)
            try:
                wait_until(lambda: not procs.pid_alive(pid), timeout_s=grace, what="postgres stopping",
                           interval_s=0.1)
                break
            except LabError:
                continue
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it if this process started it (a notebook kernel)
        except ChildProcessError:
            pass
        wait_until(lambda: not self.server_processes(data), timeout_s=10, what="postgres's processes ending",
                   fix="stop them by hand (`ps -ef | grep postgres`)", interval_s=0.1)
        return True

    def wipe(self, quiet: bool = False) -> None:
        """Delete the data directory (for ``down --wipe``; the server must be stopped)."""
        data = self.data_dir
        if data.exists():
            shutil.rmtree(data)
            _say(f"Deleted {data}", quiet)

    def info(self) -> dict:
        """Where it runs and where its data is (for ``status``)."""
        return {"data": str(self.data_dir), "socket_dir": str(self.socket_dir), "user": USER, "database": DATABASE}


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def server(s=None) -> Postgres:
    """The course's PostgreSQL service for the current settings."""
    from ..config import settings

    s = s or settings()
    return Postgres("postgres", s.postgres_port, "", s)


def dsn(dbname: str = DATABASE) -> str:
    """The libpq connection string of the course database (user ``kafkalab``, TCP on 127.0.0.1)."""
    return server().dsn(dbname)


def connect(autocommit: bool = True, dbname: str = DATABASE):
    """A psycopg connection to the course database as the course user; one clear line if the server is down."""
    import psycopg

    svc = server()
    try:
        return psycopg.connect(svc.dsn(dbname), autocommit=autocommit, connect_timeout=5)
    except psycopg.OperationalError as e:
        reason = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise LabError(f"PostgreSQL does not answer at {svc.url} ({reason}); start it with "
                       f"`python -m kafkalab up --with postgres`") from None

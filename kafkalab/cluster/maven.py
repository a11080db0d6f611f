"""Resolve the JVM class path of one service (broker, streams, connect, ...) from Maven Central, once.

The jars stay in Maven's own cache (~/.m2); we keep only the class path, in ``<home>/classpath/<profile>.cp``,
stamped with a hash of the pom so that a changed pom resolves again.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from ..config import JVM_DIR, settings
from ..errors import LabError

POM = JVM_DIR / "pom.xml"
PROFILES = ("broker", "streams", "connect", "connect-plugins", "registry", "flink", "jolokia")  # the <profile> ids in pom.xml


def pinned(prop: str) -> str:
    """A version pinned in the pom's <properties>, e.g. ``pinned("kafka.version")`` -> "4.4.0"."""
    m = re.search(rf"<{re.escape(prop)}>([^<]+)</{re.escape(prop)}>", POM.read_text())
    if not m:
        raise LabError(f"{POM} pins no <{prop}>; restore the file from git")
    return m.group(1).strip()


def kafka_version() -> str:
    """The Apache Kafka version the broker runs: the jar in KAFKA_HOME's libs/ if set, else the pinned one."""
    kh = settings().kafka_home
    if kh is not None:
        jars = sorted((kh / "libs").glob("kafka_2.13-*.jar"))
        names = [j.name.removeprefix("kafka_2.13-").removesuffix(".jar") for j in jars]
        plain = [n for n in names if re.fullmatch(r"\d+\.\d+\.\d+", n)]
        if plain:
            return plain[0]
    return pinned("kafka.version")


def _stamp() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()[:16]


def _cp_file(profile: str) -> Path:
    return settings().home / "classpath" / f"{profile}-{_stamp()}.cp"


def _kafka_home_classpath(profile: str) -> str | None:
    """With KAFKA_HOME pointing at a Kafka distribution, use its libs/ for the broker and tools."""
    kh = settings().kafka_home
    if kh is None or profile != "broker":
        return None
    libs = kh / "libs"
    if not libs.is_dir():
        raise LabError(f"KAFKA_HOME={kh} has no libs/ folder; point it at an unpacked Kafka distribution or unset it")
    return f"{libs}/*"


#: A first resolution fetches a few hundred files; more than this means Maven is stuck (a dead proxy, say).
MAVEN_TIMEOUT_S = 900
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: Maven's generic advice lines, which say nothing about what went wrong
_NOISE = ("[Help ", "To see the full stack trace", "Re-run Maven using", "For more information about the errors")


def strip_ansi(text: str) -> str:
    """Text without terminal escape codes (Debian's Maven 3.8 prints ESC[0m even in batch mode)."""
    return _ANSI.sub("", text)


def maven_error(lines: list[str]) -> str:
    """Maven's own explanation from its output: the first [ERROR] line that says something, without the advice."""
    errors = []
    for raw in lines:
        line = strip_ansi(raw).strip()
        if line.startswith("[ERROR]"):
            msg = re.sub(r"\s*-> \[Help \d+\]$", "", line.removeprefix("[ERROR]").strip())
            msg = re.sub(r"^Failed to execute goal .*? on project [^:]+: ", "", msg)  # which plugin failed: noise
            msg = re.sub(r"\b(?:[a-z]+\.)+[A-Z]\w*(?:Exception|Error): ", "", msg)  # Java class names of wrappers
            if msg and not msg.startswith(_NOISE):
                errors.append(msg)
    if errors:
        return errors[0]
    rest = [strip_ansi(x).strip() for x in lines if strip_ansi(x).strip()]
    return rest[-1] if rest else "no output"


def _cached(cp_file: Path) -> str | None:
    try:
        cp = cp_file.read_text().strip()
    except OSError:
        return None
    return cp if cp and all(Path(j).exists() for j in cp.split(":")) else None


def classpath(profile: str, quiet: bool = False) -> str:
    """Return the class path for ``profile``, running Maven the first time (with progress on stderr).

    One resolution per profile at a time (:func:`kafkalab.cluster.lock.classpath_lock`): a second caller waits and
    reads the first one's result."""
    if profile not in PROFILES:
        raise LabError(f"unknown jar profile {profile!r}; choose one of {', '.join(PROFILES)}")
    from_kafka_home = _kafka_home_classpath(profile)
    if from_kafka_home:
        return from_kafka_home
    cp_file = _cp_file(profile)
    cp = _cached(cp_file)
    if cp:
        return cp
    from .lock import classpath_lock

    with classpath_lock(profile, quiet=quiet):
        cp = _cached(cp_file)  # resolved by the command we waited for
        if cp:
            return cp
        return _resolve(profile, cp_file, quiet)


def _resolve(profile: str, cp_file: Path, quiet: bool) -> str:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LabError("Maven (mvn) is not installed; run `make setup` (it installs it) or `apt-get install maven`")
    cp_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cp_file.with_name(f"{cp_file.name}.{os.getpid()}.tmp")
    cmd = [mvn, "-B", "-f", str(POM), "-P", profile, "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"]
    if not quiet:
        print(f"Resolving the {profile} jars from Maven Central (first time only) ...", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    timed_out = threading.Event()

    def stop_stuck_maven() -> None:
        timed_out.set()
        proc.kill()

    timer = threading.Timer(MAVEN_TIMEOUT_S, stop_stuck_maven)  # reading its output blocks: a timer ends it
    timer.start()
    fetched, lines = 0, []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if "Downloaded from" in line:  # "[INFO] Downloaded from central: ..." 
                fetched += 1
                if not quiet and fetched % 25 == 0:
                    print(f"  ... {fetched} files fetched", file=sys.stderr, flush=True)
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0 or not tmp.exists():
        tmp.unlink(missing_ok=True)
        if timed_out.is_set():
            raise LabError(f"Maven did not resolve the {profile} jars within {MAVEN_TIMEOUT_S} s; check network "
                           f"access to Maven Central and run `python -m kafkalab fetch {profile}`")
        raise LabError(f"Maven could not resolve the {profile} jars: {maven_error(lines)[:300]} "
                       f"(run `python -m kafkalab fetch {profile}` to retry)")
    os.replace(tmp, cp_file)
    for old in cp_file.parent.glob(f"{profile}-*.cp"):
        if old != cp_file:
            old.unlink(missing_ok=True)
    if not quiet:
        print(f"  {profile} jars ready ({fetched} files fetched)", file=sys.stderr, flush=True)
    return cp_file.read_text().strip()

"""Resolve the JVM class path of one service (broker, streams, connect, ...) from Maven Central, once.

The jars stay in Maven's own cache (~/.m2); we keep only the class path, in ``<home>/classpath/<profile>.cp``,
stamped with a hash of the pom so that a changed pom resolves again.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

from ..config import JVM_DIR, settings
from ..errors import LabError

POM = JVM_DIR / "pom.xml"
PROFILES = ("broker", "streams", "connect", "registry", "flink")  # the <profile> ids in pom.xml


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


def classpath(profile: str, quiet: bool = False) -> str:
    """Return the class path for ``profile``, running Maven the first time (with progress on stderr)."""
    if profile not in PROFILES:
        raise LabError(f"unknown jar profile {profile!r}; choose one of {', '.join(PROFILES)}")
    from_kafka_home = _kafka_home_classpath(profile)
    if from_kafka_home:
        return from_kafka_home
    cp_file = _cp_file(profile)
    if cp_file.exists():
        cp = cp_file.read_text().strip()
        if cp and all(Path(j).exists() for j in cp.split(":")):
            return cp
    mvn = shutil.which("mvn")
    if mvn is None:
        raise LabError("Maven (mvn) is not installed; run `make setup` (it installs it) or `apt-get install maven`")
    cp_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = cp_file.with_suffix(".tmp")
    cmd = [mvn, "-B", "-f", str(POM), "-P", profile, "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"]
    if not quiet:
        print(f"Resolving the {profile} jars from Maven Central (first time only) ...", file=sys.stderr, flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    fetched, tail = 0, []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-30:]
        if line.startswith("Downloaded from"):
            fetched += 1
            if not quiet and fetched % 25 == 0:
                print(f"  ... {fetched} files fetched", file=sys.stderr, flush=True)
    if proc.wait() != 0 or not tmp.exists():
        detail = next((t for t in reversed(tail) if "ERROR" in t), tail[-1] if tail else "")
        raise LabError(f"Maven could not resolve the {profile} jars ({detail.strip()[:200]}); check network access to Maven Central and retry")
    tmp.replace(cp_file)
    for old in cp_file.parent.glob(f"{profile}-*.cp"):
        if old != cp_file:
            old.unlink()
    if not quiet:
        print(f"  {profile} jars ready ({fetched} files fetched)", file=sys.stderr, flush=True)
    return cp_file.read_text().strip()

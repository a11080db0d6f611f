"""Class-data sharing (AppCDS): let a JVM map the classes an earlier run of the same program loaded.

A Kafka broker loads about 7,500 classes from ~90 jars before it answers; finding, parsing and verifying them is
a large part of its start-up time. Java can save those classes, already parsed, to an archive when a JVM exits
(``-XX:ArchiveClassesAtExit``) and map that archive into later JVMs (``-XX:SharedArchiveFile``). On the course
machine that takes the broker from about 2.9 s to about 1.7 s before its port opens, with ~6,600 of those classes
mapped from the archive (``make bench`` measures it).

How the course uses it, in one place for the broker and Kafka's tools:

* The first JVM of a kind runs with ``-XX:ArchiveClassesAtExit=<archive>.<random>.part``. The JVM writes the
  part file while it exits normally (``down`` or a tool that finishes), never when it is killed.
* The launcher then renames the part file to the archive (:func:`promote`); only a JVM that exited on its own or
  after our SIGTERM is trusted, so a half-written archive is never used.
* Every later JVM of that kind maps the archive. The archive's name is a hash of the ``java`` binary, its
  version and the class path with each jar's size and time, so a new JDK or a re-downloaded jar gets a new
  archive instead of one that Java would refuse. If Java refuses one anyway, it says so in the log and starts
  without it (``-Xshare:auto``): slower, never broken.

``KAFKALAB_CDS=0`` turns all of this off. Archives live in ``KAFKALAB_CACHE_DIR`` (default
``~/.cache/kafkalab``) under ``cds/``, shared by every cluster on the machine (about 50 MB for the broker).
"""
from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from ..config import cache_root
from .java import java_version


def enabled() -> bool:
    """False when the learner set ``KAFKALAB_CDS=0`` (or ``false``/``no``/``off``)."""
    return os.environ.get("KAFKALAB_CDS", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    """Where the archives are kept: ``$KAFKALAB_CACHE_DIR/cds`` (default ``~/.cache/kafkalab/cds``)."""
    return cache_root() / "cds"


def _fingerprint(java: str, cp: str) -> str:
    h = hashlib.sha256()
    real = os.path.realpath(java)
    st = os.stat(real)
    h.update(f"{real}|{st.st_size}|{st.st_mtime_ns}|{java_version(java)}".encode())
    for jar in cp.split(os.pathsep):
        try:
            js = os.stat(jar)
            h.update(f"|{jar}|{js.st_size}|{js.st_mtime_ns}".encode())
        except OSError:
            h.update(f"|{jar}|missing".encode())
    return h.hexdigest()[:16]


def archive_path(kind: str, java: str, cp: str, cache: Path | None = None) -> Path | None:
    """The archive for JVMs of ``kind`` (e.g. "broker") on this java and class path, in ``cache`` (default
    :func:`cache_dir`), or None where CDS does not apply: turned off, or a class path with a wildcard (a
    KAFKA_HOME ``libs/*``), which Java cannot archive."""
    if not enabled() or "*" in cp:
        return None
    return (cache or cache_dir()) / f"{kind}-{_fingerprint(java, cp)}.jsa"


def jvm_args(kind: str, java: str, cp: str) -> tuple[list[str], Path | None]:
    """The JVM options for class-data sharing, and the part file this JVM will write (None if it writes none).

    With an archive: map it. Without: ask this JVM to write one when it exits; the caller hands the part file
    to :func:`promote` once the JVM has exited cleanly (or to :func:`discard` if it was killed).
    """
    archive = archive_path(kind, java, cp)
    if archive is None:
        return [], None
    if archive.is_file() and archive.stat().st_size > 0:
        return [f"-XX:SharedArchiveFile={archive}", "-Xshare:auto", *_LOG_TO_STDERR], None
    archive.parent.mkdir(parents=True, exist_ok=True)
    part = archive.with_name(f"{archive.name}.{uuid.uuid4().hex[:8]}.part")
    # the dump lists every class it skips as a [cds] warning: hundreds of lines nobody needs
    return [f"-XX:ArchiveClassesAtExit={part}", "-Xlog:disable",
            "-Xlog:all=warning,cds=off,cds+dynamic=off:stderr:uptime,level,tags"], part


#: JVM warnings (a refused archive, say) go to stderr, so a tool's standard output stays what the tool printed
_LOG_TO_STDERR = ["-Xlog:disable", "-Xlog:all=warning:stderr:uptime,level,tags"]


def promote(part: Path | None) -> bool:
    """Make the part file a JVM wrote at a clean exit the archive later JVMs map. True if it did."""
    if part is None:
        return False
    if not part.is_file() or part.stat().st_size == 0:
        discard(part)
        return False
    final = part.with_name(part.name.split(".jsa.", 1)[0] + ".jsa")
    os.replace(part, final)  # atomic: a concurrent JVM maps either no archive or a whole one
    return True


def discard(part: Path | None) -> None:
    """Remove a part file that cannot be trusted (its JVM was killed, perhaps while writing it)."""
    if part is not None:
        part.unlink(missing_ok=True)

"""Connector plugins for the Connect worker: Debezium's plugin archives from Maven Central, unpacked once.

A Connect plugin archive (a tar.gz) holds one folder: the connector's jar and the jars it needs (the PostgreSQL JDBC
driver for the source; Hibernate and several JDBC drivers for the JDBC sink). Connect loads every folder it finds
under the worker's ``plugin.path`` with a class loader of its own, so those jars never meet the worker's; on the
worker's class path they would mix their versions with Connect's. The archives stay in Maven's cache (~/.m2); their
unpacked folders live in the machine-wide cache, ``~/.cache/kafkalab/connect-plugins/<archive name>/``, shared by
every cluster and unpacked once per version (a new version is a new folder).
"""
from __future__ import annotations

import os
import shutil
import sys
import tarfile
from pathlib import Path

from ..config import cache_root
from .maven import classpath

#: The pom.xml profile that lists the plugin archives.
PROFILE = "connect-plugins"
#: Connector classes the archives provide (what ``GET /connector-plugins`` lists once the worker has loaded them).
DEBEZIUM_POSTGRES = "io.debezium.connector.postgresql.PostgresConnector"
DEBEZIUM_JDBC_SINK = "io.debezium.connector.jdbc.JdbcSinkConnector"


def unpack_once(archive: Path, target: Path, quiet: bool = False) -> Path:
    """Unpack ``archive`` into ``target`` unless that folder exists; safe when two processes do it at once
    (each unpacks into a private folder, and the first rename wins)."""
    if target.is_dir():
        return target
    if not quiet:
        print(f"Unpacking {archive.name} ...", file=sys.stderr, flush=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not target.is_dir():
            raise
    return target


def plugin_dirs(quiet: bool = False) -> list[Path]:
    """The unpacked plugin folders, one per archive (resolving and unpacking them the first time)."""
    archives = [Path(a) for a in classpath(PROFILE, quiet=quiet).split(os.pathsep) if a]
    root = cache_root() / "connect-plugins"
    return [unpack_once(a, root / a.name.removesuffix(".tar.gz"), quiet) for a in archives]


def plugin_path(quiet: bool = False) -> str:
    """The worker's ``plugin.path`` value: the unpacked folders, comma-separated."""
    return ",".join(str(d) for d in plugin_dirs(quiet))

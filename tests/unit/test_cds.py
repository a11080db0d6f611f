"""Class-data sharing decisions (kafkalab.cluster.cds): which JVM options, which archive, when it is trusted.

The JVMs themselves are exercised in tests/integration/test_lifecycle.py (an archive written at `down`, checked by
Java with -Xshare:on, and mapped by the next `up`)."""
from __future__ import annotations

import os

import pytest

from kafkalab.cluster import cds, java


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("KAFKALAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KAFKALAB_CDS", raising=False)
    return tmp_path / "cache" / "cds"


@pytest.fixture
def jars(tmp_path):
    paths = []
    for name in ("a.jar", "b.jar"):
        p = tmp_path / name
        p.write_bytes(b"PK" + name.encode())
        paths.append(str(p))
    return os.pathsep.join(paths)


def test_without_an_archive_the_jvm_is_asked_to_write_one(cache, jars):
    opts, part = cds.jvm_args("broker", java.find_java("broker"), jars)
    assert part is not None and part.parent == cache and part.name.endswith(".part")
    assert f"-XX:ArchiveClassesAtExit={part}" in opts
    assert not any(o.startswith("-XX:SharedArchiveFile") for o in opts)
    # the JVM's own warnings never reach standard output (a tool's output is parsed)
    assert "-Xlog:disable" in opts and any(o.endswith(":stderr:uptime,level,tags") for o in opts)


def test_a_promoted_archive_is_mapped_by_the_next_jvm(cache, jars):
    j = java.find_java("broker")
    _, part = cds.jvm_args("broker", j, jars)
    part.write_bytes(b"archive bytes")
    assert cds.promote(part)
    assert not part.exists()
    opts, second_part = cds.jvm_args("broker", j, jars)
    assert second_part is None
    assert f"-XX:SharedArchiveFile={cds.archive_path('broker', j, jars)}" in opts
    assert "-Xshare:auto" in opts  # a refused archive slows Java down, never stops it


def test_an_empty_or_missing_part_is_never_promoted(cache, jars):
    j = java.find_java("broker")
    _, part = cds.jvm_args("broker", j, jars)
    assert not cds.promote(part)  # the JVM was killed before it wrote anything
    part.write_bytes(b"")
    assert not cds.promote(part) and not part.exists()
    assert not cds.archive_path("broker", j, jars).exists()
    assert not cds.promote(None)


def test_discard_removes_a_part_written_by_a_killed_jvm(cache, jars):
    _, part = cds.jvm_args("tools", java.find_java("tools"), jars)
    part.write_bytes(b"half an archive")
    cds.discard(part)
    assert not part.exists()
    cds.discard(None)  # nothing to do: no error


def test_each_kind_and_each_jar_change_get_their_own_archive(cache, jars, tmp_path):
    j = java.find_java("broker")
    broker, tools = cds.archive_path("broker", j, jars), cds.archive_path("tools", j, jars)
    assert broker != tools
    jar = tmp_path / "a.jar"
    jar.write_bytes(b"PK a newer download of a.jar")
    assert cds.archive_path("broker", j, jars) != broker  # Java would refuse the old archive: do not offer it


@pytest.mark.parametrize("value", ["0", "false", "off", "no", "OFF"])
def test_kafkalab_cds_0_turns_it_off(cache, jars, monkeypatch, value):
    monkeypatch.setenv("KAFKALAB_CDS", value)
    assert cds.jvm_args("broker", java.find_java("broker"), jars) == ([], None)


def test_a_wildcard_class_path_is_left_alone(cache):
    # KAFKA_HOME's "libs/*": Java cannot archive a class path given as a wildcard
    assert cds.jvm_args("broker", java.find_java("broker"), "/opt/kafka/libs/*") == ([], None)


def test_java_versions_are_remembered_on_disk(cache, monkeypatch):
    j = java.find_java("broker")
    java.java_version.cache_clear()
    first = java.java_version(j)
    assert first >= 17
    known = (cache.parent / "java-versions.json").read_text()
    assert str(first) in known and os.path.realpath(j) in known
    java.java_version.cache_clear()

    def no_jvm(*args, **kwargs):
        raise AssertionError("asked the JVM again instead of reading the cache")

    monkeypatch.setattr(java.subprocess, "run", no_jvm)
    assert java.java_version(j) == first
    java.java_version.cache_clear()


def test_an_archive_can_be_asked_for_in_another_cache(cache, jars, tmp_path):
    j = java.find_java("broker")
    elsewhere = cds.archive_path("broker", j, jars, cache=tmp_path / "elsewhere")
    assert elsewhere.parent == tmp_path / "elsewhere"
    assert elsewhere.name == cds.archive_path("broker", j, jars).name  # same fingerprint, other folder

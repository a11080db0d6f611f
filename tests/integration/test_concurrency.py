"""Two `python -m kafkalab up` at the same moment on one home (Binder's start script and a chapter's first cell, two
terminals): both succeed and one JVM runs per node, on a fresh home (Maven resolution, formatting) and on a
formatted one (start only). Ten rounds each, on the run's "concurrency" port block."""
from __future__ import annotations

import subprocess
import sys

import pytest

from kafkalab.config import REPO

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle

ROUNDS = 10


def two_ups_at_once(env: dict) -> list[subprocess.CompletedProcess]:
    cmd = [sys.executable, "-m", "kafkalab", "up"]
    running = [subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    results = []
    for p in running:
        out, err = p.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(cmd, p.returncode, out, err))
    return results


def check_round(env: dict, label: str) -> str:
    first, second = two_ups_at_once(env)
    try:
        assert (first.returncode, second.returncode) == (0, 0), f"{label}: {first.stderr} || {second.stderr}"
        assert len(ownlab.jvms(env, "node-1")) == 1 and len(ownlab.jvms(env)) == 1, label
        # one of them started the broker, the other found it running
        said = sorted("already running" in r.stderr for r in (first, second))
        assert said == [False, True], f"{label}: {first.stderr} || {second.stderr}"
        return "ok"
    finally:
        assert ownlab.lab(env, "down", "-q").returncode == 0
        assert ownlab.jvms(env) == []


def test_two_concurrent_ups_on_a_fresh_home(tmp_path):
    results = [check_round(ownlab.lab_env(tmp_path / f"fresh-{i}", "concurrency"), f"fresh round {i}")
               for i in range(ROUNDS)]
    print(f"fresh home: {results.count('ok')}/{ROUNDS} rounds with both exits 0 and one JVM")
    assert results == ["ok"] * ROUNDS


def test_two_concurrent_ups_on_a_formatted_home(tmp_path):
    env = ownlab.lab_env(tmp_path / "formatted", "concurrency")
    assert ownlab.lab(env, "up").returncode == 0
    assert ownlab.lab(env, "down", "-q").returncode == 0
    results = [check_round(env, f"formatted round {i}") for i in range(ROUNDS)]
    print(f"formatted home: {results.count('ok')}/{ROUNDS} rounds with both exits 0 and one JVM")
    assert results == ["ok"] * ROUNDS

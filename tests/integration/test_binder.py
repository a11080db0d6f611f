"""Binder's build and start steps, replayed on this machine in a clean virtual environment.

repo2docker installs binder/apt.txt, then binder/requirements.txt, runs binder/postBuild once at build time and
binder/start before every session. This test does the Python half of that (apt packages are this machine's own)
in a fresh venv on a copy of the repository, with its own KAFKALAB_HOME and the run's "binder" port block
(tests/integration/ownlab.py), so it never touches the course cluster; then it checks that the broker
started by binder/start answers the notebooks' first cell, and stops it.

Installing all of binder/requirements.txt into the fresh venv took about 3 minutes (Flink, Quix Streams, Jupyter),
so by default the venv gets only what postBuild, start and the first cell import, at the versions requirements.txt
pins. BINDER_TEST_FULL=1 installs binder/requirements.txt whole, exactly as Binder does.
tests/unit/test_binder_files.py checks that binder/requirements.txt is requirements.txt.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from kafkalab.cluster import procs
from kafkalab.config import REPO

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle

BROKER_PORT, CONTROLLER_PORT = ownlab.port("binder", "broker"), ownlab.port("binder", "controller")
START_BUDGET_S = 180
#: what binder/postBuild, binder/start and a chapter's first cell (notebook.start) import besides the standard library
NEEDED_BY_THE_STEPS = ("kafka-python", "plotly", "filelock")


def pinned(names) -> list[str]:
    """The requirement lines of requirements.txt for ``names``, so the short install uses the same bounds."""
    lines = {}
    for raw in (REPO / "requirements.txt").read_text().splitlines():
        line = raw.split("#")[0].strip()
        if line and not line.startswith("-"):
            lines[re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0].lower()] = line
    missing = [n for n in names if n not in lines]
    assert not missing, f"requirements.txt no longer lists {missing}"
    return [lines[n] for n in names]


def _copy_repo(dest):
    """What repo2docker would see of the repository, minus what git ignores."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    for name in ("binder", "kafkalab"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    for name in ("pyproject.toml", "requirements.txt"):
        shutil.copy2(REPO / name, dest / name)


def _clean_env(venv, home) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "KAFKA_BOOTSTRAP_SERVERS", "KAFKA_HOME",
                        "KAFKALAB_HEAP") and not (k.startswith("KAFKALAB_") and k.endswith("_PORT"))}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               KAFKALAB_HOME=str(home), KAFKALAB_PORT_BASE=str(ownlab.block_base("binder")))
    return env


def _run(cmd, env, cwd, timeout):
    t0 = time.monotonic()
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    return res, time.monotonic() - t0


def test_binder_build_and_start_steps_in_a_clean_venv(tmp_path):
    if not (procs.port_free(BROKER_PORT) and procs.port_free(CONTROLLER_PORT)):
        pytest.fail(f"ports {BROKER_PORT}/{CONTROLLER_PORT} are taken; stop whatever holds them", pytrace=False)
    repo, venv, home = tmp_path / "repo", tmp_path / "venv", tmp_path / "kafkalab-home"
    _copy_repo(repo)
    env = _clean_env(venv, home)
    timings = {}

    _, timings["venv"] = _run([sys.executable, "-m", "venv", str(venv)], env, repo, 120)
    if os.environ.get("BINDER_TEST_FULL"):
        # binder/requirements.txt is `-r ../requirements.txt`: this also proves that the relative path resolves
        install = ["-r", "binder/requirements.txt"]
    else:
        install = pinned(NEEDED_BY_THE_STEPS)
    _, timings["requirements"] = _run(["python", "-m", "pip", "install", "-q", *install], env, repo, 900)
    _, timings["postBuild"] = _run(["bash", "binder/postBuild"], env, repo, 600)
    assert (home / "classpath").is_dir(), "postBuild did not resolve the broker's class path"

    marker = f"-Dkafkalab.home={home}"
    try:
        t0 = time.monotonic()
        # `start` runs the broker in the background and execs its arguments: here a command that returns at once
        started = subprocess.run(["bash", "binder/start", "python", "-c", "print('session command ran')"],
                                 env=env, cwd=repo, capture_output=True, text=True, timeout=60)
        assert started.returncode == 0, started.stderr
        assert "session command ran" in started.stdout, "binder/start did not exec its arguments"

        first_cell = ["python", "-c", "from kafkalab import notebook; notebook.start()"]
        answer = None
        while time.monotonic() - t0 < START_BUDGET_S:
            if procs.port_answers(BROKER_PORT):
                answer = subprocess.run(first_cell, env=env, cwd=repo, capture_output=True, text=True, timeout=60)
                if answer.returncode == 0:
                    break
            time.sleep(1)
        timings["start->answers"] = time.monotonic() - t0
        log = home / "binder-start.log"
        detail = log.read_text()[-2000:] if log.exists() else "(no binder-start.log)"
        assert answer is not None and answer.returncode == 0, (
            f"the broker did not answer in {START_BUDGET_S} s:\n{detail}")
        assert f"Kafka answers at 127.0.0.1:{BROKER_PORT} with 1 broker(s)." in answer.stdout

        (pid,) = procs.pids_with_arg(marker)
        cmdline = procs.cmdline(pid)
        assert "-Xmx320m" in cmdline, f"binder/start should give the broker a 320m heap: {cmdline[:6]}"
        rss_mb = int(next(line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS"))) / 1024
        timings["broker RSS MB"] = rss_mb
    finally:
        subprocess.run(["python", "-m", "kafkalab", "down", "-q"], env=env, cwd=repo, capture_output=True,
                       text=True, timeout=120)
    assert procs.pids_with_arg(marker) == [], "kafkalab down left the Binder test's JVM running"
    print("binder steps: " + ", ".join(f"{k} {v:.0f}" + ("" if "MB" in k else " s") for k, v in timings.items()))

"""The cluster lock between real processes: a second command waits (saying for whom), then goes on."""
import os
import subprocess
import sys
import time

from kafkalab.cluster import lock
from kafkalab.config import settings

HOLD = """
import sys, time
from kafkalab.cluster.lock import cluster_lock
with cluster_lock():
    print("held", flush=True)
    time.sleep(float(sys.argv[1]))
    print(time.monotonic(), flush=True)  # the moment just before it lets go (CLOCK_MONOTONIC is system-wide)
"""


def test_a_second_command_waits_for_the_first_and_names_it(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "1.5"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "KAFKALAB_HOME": str(tmp_path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with lock.cluster_lock():
            acquired = time.monotonic()
            released = float(holder.stdout.readline())
        assert acquired >= released  # we got the lock only once the holder was letting go, not during its sleep
        err = capsys.readouterr().err
        assert err == f"Waiting for another kafkalab command (pid {holder.pid}) to finish starting or stopping this cluster ...\n"
    finally:
        holder.wait(timeout=30)


def test_the_lock_is_reentrant_in_one_process(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    with lock.cluster_lock():
        with lock.cluster_lock():  # `up --with` holds it and calls broker.up and services.start, which take it too
            pass
    assert capsys.readouterr().err == ""
    assert (settings().run_dir / "cluster.lock").exists()


def test_quiet_waits_without_a_word(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    holder = subprocess.Popen([sys.executable, "-c", HOLD, "0.5"], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "KAFKALAB_HOME": str(tmp_path)})
    try:
        assert holder.stdout.readline().strip() == "held"
        with lock.cluster_lock(quiet=True):
            pass
        assert capsys.readouterr().err == ""
    finally:
        holder.wait(timeout=30)

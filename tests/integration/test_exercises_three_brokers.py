"""Exercises that need three brokers, run three ways (placeholder, each anticipated wrong answer, solution) on a
three-node cluster of this module's own: its own block of the run's ports (tests/integration/ownlab.py) and its own
data folder, so the course cluster is left alone.
"""
from __future__ import annotations

import os

import pytest

import ownlab  # tests/integration/ownlab.py
from exercise_rehearsal import three_ways
from kafkalab.exercises import all_exercises

pytestmark = pytest.mark.lifecycle

THREE = [ex for ex in all_exercises() if ex.live and ex.brokers == 3]


@pytest.fixture(scope="module")
def three_brokers(tmp_path_factory):
    env = ownlab.lab_env(tmp_path_factory.mktemp("exercises-three-brokers"), "exercises-three-brokers", heap="320m")
    res = ownlab.lab(env, "up", "--brokers", "3")
    assert res.returncode == 0, res.stderr
    yield env
    ownlab.lab(env, "down", "-q")


def test_there_is_a_three_broker_exercise():
    assert THREE


@pytest.mark.parametrize("ex", THREE, ids=lambda ex: ex.key)
def test_three_ways(ex, three_brokers, monkeypatch, capsys, tmp_path):
    for name in [k for k in os.environ if k.startswith("KAFKALAB_") and k.endswith("_PORT")]:
        monkeypatch.delenv(name)  # single-port settings of the caller's shell would point elsewhere
    for name in ("KAFKALAB_HOME", "KAFKALAB_PORT_BASE"):
        monkeypatch.setenv(name, three_brokers[name])  # kafkalab (pausing a node included) now means that cluster
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    three_ways(ex, monkeypatch, capsys, tmp_path, strict_mistakes=False)

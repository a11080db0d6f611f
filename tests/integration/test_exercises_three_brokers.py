"""Exercises that need three brokers, run three ways (placeholder, each anticipated wrong answer, solution) on a
three-node cluster of this module's own: spare ports (19792..19797 unless KAFKALAB_TEST_EXERCISE_PORT says
otherwise) and its own data folder, so the course cluster is left alone.
"""
from __future__ import annotations

import os

import pytest

import ownlab  # tests/integration/ownlab.py
from exercise_rehearsal import three_ways
from kafkalab.exercises import all_exercises

pytestmark = pytest.mark.lifecycle

PORT = int(os.environ.get("KAFKALAB_TEST_EXERCISE_PORT", "19792"))
THREE = [ex for ex in all_exercises() if ex.live and ex.brokers == 3]


@pytest.fixture(scope="module")
def three_brokers(tmp_path_factory):
    env = ownlab.lab_env(tmp_path_factory.mktemp("exercises-three-brokers"), heap="320m",
                         KAFKALAB_BROKER_PORT=PORT, KAFKALAB_CONTROLLER_PORT=PORT + 1)
    res = ownlab.lab(env, "up", "--brokers", "3")
    assert res.returncode == 0, res.stderr
    yield env
    ownlab.lab(env, "down", "-q")


def test_there_is_a_three_broker_exercise():
    assert THREE


@pytest.mark.parametrize("ex", THREE, ids=lambda ex: ex.key)
def test_three_ways(ex, three_brokers, monkeypatch, capsys, tmp_path):
    for name in ("KAFKALAB_HOME", "KAFKALAB_BROKER_PORT", "KAFKALAB_CONTROLLER_PORT"):
        monkeypatch.setenv(name, three_brokers[name])  # kafkalab (pausing a node included) now means that cluster
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    three_ways(ex, monkeypatch, capsys, tmp_path, strict_mistakes=False)

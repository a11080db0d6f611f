"""Every exercise that checks against the live course cluster, run three ways: placeholder, each anticipated
wrong answer, solution (tests/exercise_rehearsal.py). Companion services an exercise needs (the schema
registry, Kafka Connect) are started for it if they are not running, and stopped again afterwards.

Exercises that need three brokers run in test_exercises_three_brokers.py, on a cluster of their own.
"""
from __future__ import annotations

import pytest

from exercise_rehearsal import three_ways
from kafkalab import notebook
from kafkalab.exercises import all_exercises

pytestmark = pytest.mark.integration

LIVE = [ex for ex in all_exercises() if ex.live and ex.brokers == 1]


@pytest.fixture(scope="module")
def services():
    """Start the services on first use; stop at the end only those this module started."""
    started: set[str] = set()

    def need(names):
        missing = [n for n in names if n not in started]
        if missing:
            notebook.start(services=tuple(missing))
            started.update(missing)

    yield need
    notebook.release_services()


@pytest.mark.parametrize("ex", LIVE, ids=lambda ex: ex.key)
def test_three_ways(ex, services, monkeypatch, capsys, tmp_path):
    assert ex.mistakes, f"{ex.key} anticipates no wrong answer"
    services(ex.services)
    three_ways(ex, monkeypatch, capsys, tmp_path, strict_mistakes=False)

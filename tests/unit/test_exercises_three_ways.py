"""Every exercise that needs no cluster, run three ways: placeholder, each anticipated wrong answer, solution.

The live ones run the same way in tests/integration/test_exercises_live.py.
"""
from __future__ import annotations

import pytest

from exercise_rehearsal import three_ways
from kafkalab.exercises import all_exercises

PURE = [ex for ex in all_exercises() if not ex.live]


def test_the_course_has_exercises_of_both_kinds():
    everything = all_exercises()
    assert PURE and len(PURE) < len(everything)
    assert {ex.kind for ex in everything} == {"concept", "code"}


@pytest.mark.parametrize("ex", PURE, ids=lambda ex: ex.key)
def test_three_ways(ex, monkeypatch, capsys, tmp_path):
    assert ex.mistakes, f"{ex.key} anticipates no wrong answer"
    three_ways(ex, monkeypatch, capsys, tmp_path)

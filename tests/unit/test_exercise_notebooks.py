"""Chapters wired to kafkalab.exercises follow the exercise pattern (CONTRIBUTING.md, "How to add an exercise").

For every notebook that imports ``kafkalab.exercises``: each of its chapter's exercises has a visible learner cell
that calls ``<name>.check(...)`` and whose stored output is "not answered yet", and a hidden solution cell that
contains the exercise's solution code (what ``<name>.solution()`` shows) and calls ``<name>.check_solution(...)``;
the chapter ends with ``show_progress("<chapter>")``; nbval's tags replace ``# NBVAL_IGNORE_OUTPUT`` comments.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from kafkalab.config import REPO
from kafkalab.exercises import registry

WIRED = [p for p in sorted((REPO / "notebooks").glob("*.ipynb")) if "kafkalab.exercises" in p.read_text()]


def test_the_quick_start_is_wired():
    assert REPO / "notebooks" / "01_kafka101.ipynb" in WIRED


def _text(cell) -> str:
    return "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", []))


@pytest.mark.parametrize("path", WIRED, ids=lambda p: p.name)
def test_every_exercise_has_a_learner_cell_and_a_hidden_solution(path: Path):
    nb = nbformat.read(path, as_version=4)
    chapter = registry.slug(path)
    exercises = registry.load(chapter)
    assert exercises, f"{path.name} imports kafkalab.exercises but kafkalab.exercises.{chapter} defines none"
    code = [c for c in nb.cells if c.cell_type == "code"]
    hidden = [c for c in code if "hide-input" in c.metadata.get("tags", [])]
    for ex in exercises:
        learner = [c for c in code if re.search(rf"\b{ex.name}\.check\(", c.source)]
        assert len(learner) == 1, f"{ex.key}: one visible cell calls {ex.name}.check(...)"
        assert learner[0] not in hidden and not learner[0].metadata.get("jupyter", {}).get("source_hidden")
        assert "..." in learner[0].source, f"{ex.key}: the learner's cell starts with a ... placeholder"
        assert _text(learner[0]).startswith("Not answered yet: replace the `...`"), f"{ex.key}: stored output"
        solution = [c for c in hidden if f"{ex.name}.check_solution(" in c.source]
        assert len(solution) == 1, f"{ex.key}: one hidden cell calls {ex.name}.check_solution(...)"
        assert solution[0].metadata.get("jupyter", {}).get("source_hidden") is True
        assert ex.solution_code in solution[0].source, f"{ex.key}: the hidden cell runs what solution() shows"
        assert _text(solution[0]).rstrip().splitlines()[-1].startswith("Correct: ")
        assert code.index(learner[0]) < code.index(solution[0])


@pytest.mark.parametrize("path", WIRED, ids=lambda p: p.name)
def test_the_chapter_ends_with_its_progress_and_uses_nbval_tags(path: Path):
    nb = nbformat.read(path, as_version=4)
    last = nb.cells[-1]
    assert last.cell_type == "code" and f'show_progress("{registry.slug(path)}")' in last.source
    assert "nbval-ignore-output" in last.metadata.get("tags", [])  # it shows the learner's own record
    assert not any("NBVAL_IGNORE_OUTPUT" in c.source for c in nb.cells if c.cell_type == "code")
    assert "By the end you can" in nb.cells[0].source

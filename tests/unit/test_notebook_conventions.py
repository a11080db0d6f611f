"""Every chapter follows the course's skeleton (DESIGN.md §4)."""
from pathlib import Path

import nbformat
import pytest

from kafkalab.config import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_skeleton(path: Path):
    nb = nbformat.read(path, as_version=4)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    for heading in ("## Overview", "## Prerequisites", "Time to learn", "When it goes wrong", "## Summary", "## What's next"):
        assert heading in md, f"{path.name} lacks {heading!r}"
    assert "notebook.start(" in code[0].source, "the first code cell checks the cluster"
    assert "```mermaid" in md, "at least one diagram"
    solutions = [c for c in code if "hide-input" in c.metadata.get("tags", [])]
    assert solutions and all(c.metadata.get("jupyter", {}).get("source_hidden") for c in solutions)
    assert any("check_" in c.source for c in solutions), "exercises are checked by a check_ helper"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_outputs_come_from_a_run(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert all(isinstance(n, int) for n in counts), "every code cell was executed"
    assert counts == sorted(counts), "cells ran top to bottom in one session"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)

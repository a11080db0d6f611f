"""Every exercise of the course, by chapter, in the book's reading order.

The order of the chapters comes from ``_toc.yml`` (not from file names, which may be renumbered). A chapter's
slug is its notebook's file name without the leading number: ``notebooks/01_kafka101.ipynb`` is ``kafka101``,
and its exercises live in the module ``kafkalab.exercises.kafka101``. Within a chapter, exercises keep the order
in which the module defines them (the order of the notebook).
"""
from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path
from typing import Any, Protocol

from ..config import REPO
from ..errors import LabError


class Exercise(Protocol):
    """What the registry and the progress record need of an exercise (kafkalab.exercises.core.Exercise has it)."""

    key: str  # "<chapter>/<name>"
    chapter: str
    name: str
    title: str
    kind: str
    _judge: Any  # the checker function: its module tells two exercises of the same name apart


_EXERCISES: dict[str, Exercise] = {}


def register(ex: Exercise) -> None:
    """Called by every :class:`~kafkalab.exercises.core.Exercise` when it is created (a module import)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", ex.name):
        raise LabError(f"exercise name {ex.name!r}: use lower-case letters, digits and _ (a Python name)")
    old = _EXERCISES.get(ex.key)
    if old is not None and old._judge.__module__ != ex._judge.__module__:
        raise LabError(f"two exercises are called {ex.key}: {old._judge.__module__} and {ex._judge.__module__}")
    _EXERCISES[ex.key] = ex


def slug(notebook: str | Path) -> str:
    """``notebooks/01_kafka101.ipynb`` -> ``kafka101``: the chapter's name without its number."""
    return re.sub(r"^\d+[_-]", "", Path(notebook).stem)


def _toc_files(entries) -> list[str]:
    files: list[str] = []
    for entry in entries or ():
        if isinstance(entry, dict):
            if "file" in entry:
                files.append(str(entry["file"]))
            for key in ("parts", "chapters", "sections"):
                files += _toc_files(entry.get(key))
    return files


def notebooks(toc: Path | None = None) -> list[Path]:
    """The chapter notebooks in reading order, as the book's table of contents lists them."""
    import yaml

    toc = toc or REPO / "_toc.yml"
    try:
        data = yaml.safe_load(toc.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise LabError(f"cannot read the table of contents {toc} ({type(e).__name__}); the exercise list follows "
                       "its order") from None
    files = _toc_files([data] if isinstance(data, dict) else data)
    return [REPO / f"{f}.ipynb" if not f.endswith(".ipynb") else REPO / f for f in files
            if Path(f).parts[:1] == ("notebooks",)]


def chapters(toc: Path | None = None) -> list[str]:
    """Chapter slugs in reading order (every notebook of the toc, with or without exercises)."""
    return [slug(nb) for nb in notebooks(toc)]


def chapter_module(chapter: str) -> str:
    return f"{__package__}.{chapter}"


def load(chapter: str) -> list[Exercise]:
    """Import the chapter's exercise module (if it has one) and return its exercises in definition order."""
    name = chapter_module(chapter)
    if importlib.util.find_spec(name) is None:
        return []
    importlib.import_module(name)
    return [ex for ex in _EXERCISES.values() if ex.chapter == chapter]


def all_exercises(toc: Path | None = None) -> list[Exercise]:
    """Every exercise of the course: chapters in reading order, each chapter's exercises in notebook order."""
    out: list[Exercise] = []
    for chapter in chapters(toc):
        out += load(chapter)
    return out


def get(key: str) -> Exercise:
    """The exercise ``<chapter>/<name>``."""
    chapter, _, _ = key.partition("/")
    load(chapter)
    try:
        return _EXERCISES[key]
    except KeyError:
        raise LabError(f"no exercise {key!r}; `python -m kafkalab progress` lists them all") from None

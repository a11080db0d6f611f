"""The learner's progress: which exercises are done, recorded by every ``check`` in ``<KAFKALAB_HOME>/progress.json``.

``KAFKALAB_HOME`` is ``.kafkalab/`` in the repository unless set otherwise: git ignores it, so the file belongs to
the learner on this machine. Each exercise has one entry::

    {"chapter": "kafka101", "exercise": "partition_of_key", "status": "done", "when": "2026-11-25T17:24:29Z",
     "checks": 3, "last_result": "correct"}

``status`` becomes ``"done"`` on the first correct answer and stays done (a later wrong attempt does not undo
it); ``when`` is the time it became done, or of the latest check while it is not done yet. The strict
``check_solution`` of the hidden solution cells records nothing, so "Run All" does not mark anything done.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..config import settings
from ..errors import LabError
from .registry import Exercise
from .render import ProgressView, show

FILE_NAME = "progress.json"
VERSION = 1


def path() -> Path:
    """Where progress is kept: ``<KAFKALAB_HOME>/progress.json``."""
    return settings().home / FILE_NAME


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fix() -> str:
    return "run `python -m kafkalab progress --reset` to start a fresh record"


def load(file: Path | None = None) -> dict[str, dict]:
    """``{"<chapter>/<exercise>": entry}``; empty when nothing was recorded yet."""
    file = file or path()
    try:
        raw = file.read_text()
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise LabError(f"cannot read {file} ({e.strerror}); {_fix()}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        raise LabError(f"{file} is not valid JSON (line {e.lineno}: {e.msg}); {_fix()}") from None
    entries = data.get("exercises") if isinstance(data, dict) else None
    if not isinstance(entries, dict) or not all(isinstance(v, dict) for v in entries.values()):
        raise LabError(f"{file} is not a progress record of this course (no \"exercises\" table); {_fix()}")
    return entries


@contextlib.contextmanager
def _locked(file: Path) -> Iterator[None]:
    """Hold an exclusive lock while reading and rewriting the file (two notebooks may check at once)."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with open(file.with_name(file.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(file: Path, entries: dict[str, dict]) -> None:
    """Write atomically: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".progress-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"version": VERSION, "exercises": entries}, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, file)


def record(ex: Exercise, *, done: bool, result: str, when: str | None = None, file: Path | None = None) -> dict:
    """Record one check of ``ex``; returns the exercise's entry as saved."""
    file = file or path()
    when = when or _now()
    with _locked(file):
        entries = load(file)
        old = entries.get(ex.key, {})
        already = old.get("status") == "done"
        entry = {
            "chapter": ex.chapter,
            "exercise": ex.name,
            "status": "done" if done or already else "not yet",
            "when": old.get("when", when) if already else when,
            "checks": int(old.get("checks", 0)) + 1,
            "last_result": result,
        }
        entries[ex.key] = entry
        _write(file, entries)
    return entry


def reset(file: Path | None = None) -> dict[str, int]:
    """Clear the record. Returns what was cleared: ``{"entries": n, "done": m}`` (an unreadable file counts 0)."""
    file = file or path()
    with _locked(file):
        try:
            entries = load(file)
        except LabError:
            entries = {}
        cleared = {"entries": len(entries), "done": sum(e.get("status") == "done" for e in entries.values())}
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
    return cleared


def rows(chapter: str | None = None, file: Path | None = None) -> list[dict]:
    """One row per exercise of the course (or of ``chapter``), in reading order, with its status and time."""
    from .registry import all_exercises, chapters, load as load_chapter

    entries = load(file)
    if chapter is not None:
        known = chapters()
        if chapter not in known:
            raise LabError(f"no chapter {chapter!r}; chapters: {', '.join(known)}")
        exercises = load_chapter(chapter)
    else:
        exercises = all_exercises()
    out = []
    for ex in exercises:
        entry = entries.get(ex.key, {})
        out.append({"chapter": ex.chapter, "exercise": ex.name, "title": ex.title, "kind": ex.kind,
                    "status": entry.get("status", "not yet"), "when": entry.get("when", "")})
    return out


def _local(when: str) -> str:
    """ISO UTC time -> local ``YYYY-MM-DD HH:MM`` (``-`` when there is none)."""
    if not when:
        return "-"
    try:
        stamp = datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        return when
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M")


def format_table(table: list[dict]) -> str:
    """The rows as a plain-text table (what ``python -m kafkalab progress`` prints)."""
    header = ("chapter", "exercise", "kind", "status", "when")
    body = [(r["chapter"], r["exercise"], r["kind"], r["status"], _local(r["when"])) for r in table]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip() for row in [header, *body]]
    done = sum(r["status"] == "done" for r in table)
    lines.append(f"{done} of {len(table)} exercises done")
    return "\n".join(lines)


def view(chapter: str, file: Path | None = None) -> ProgressView:
    """One chapter's progress as a notebook view (status only, no times)."""
    return ProgressView(chapter, tuple((r["exercise"], r["title"], r["status"]) for r in rows(chapter, file)))


def show_progress(chapter: str) -> None:
    """Show one chapter's exercises and which are done: the last cell of every chapter calls it."""
    try:
        show(view(chapter))
    except LabError as e:
        from .render import Result
        from .verdicts import UNAVAILABLE

        show(Result(UNAVAILABLE, str(e)))

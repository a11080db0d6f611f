"""Run-unique names for code exercises that touch Kafka, and the clean-up after them.

A checker that runs the learner's code against the cluster gives it a topic or group of its own (``ex-<chapter>-
<what>-<8 hex digits>``), so a re-run never meets the last run's records, and deletes it afterwards, pass or fail.
Messages never quote these names: the stored output of a check must be the same on every run.
"""
from __future__ import annotations

import contextlib
import re
import uuid
from typing import Iterator

from . import _lab


def unique_name(chapter: str, what: str) -> str:
    """``ex-<chapter>-<what>-<random>``, with only letters, digits and hyphens (Kafka warns about . and _)."""
    stem = re.sub(r"[^A-Za-z0-9-]+", "-", f"ex-{chapter}-{what}").strip("-")
    return f"{stem}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def scratch_topic(chapter: str, what: str, partitions: int = 1, configs: dict | None = None) -> Iterator[str]:
    """A fresh topic for one check; deleted when the block ends (errors while deleting are ignored)."""
    name = unique_name(chapter, what)
    _lab.recreate_topic(name, partitions=partitions, configs=configs)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            _lab.delete_topic(name)


@contextlib.contextmanager
def scratch_group(chapter: str, what: str) -> Iterator[str]:
    """A fresh consumer group id for one check; the group is deleted when the block ends."""
    name = unique_name(chapter, what)
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):
            _lab.delete_group(name, timeout_s=5)

"""One bounded run of a Quix Streams application, as Chapters 5 and 9 run them next to the kernel.

A Quix ``Application`` consumes in a consumer group of its own and, while ``app.run()`` lasts, replaces the
process's SIGINT and SIGTERM handlers. :func:`bounded_run` gives each run a fresh group, puts the kernel's handlers
back afterwards, and deletes the group (its committed offsets) through :func:`kafkalab.io.groups.delete_group`, so
runs leave nothing behind and a re-run reads from offset 0 again.
"""
from __future__ import annotations

import contextlib
import signal
import uuid
from collections.abc import Iterator

from ..errors import LabError
from .groups import delete_group


@contextlib.contextmanager
def bounded_run(prefix: str) -> Iterator[str]:
    """Yield a fresh consumer group name ``<prefix>-<8 hex digits>`` for one Quix run; on leaving the block, restore
    the signal handlers and delete the group (waiting for a member that is still leaving).

    If the block failed, its error is what you see: a group that cannot be deleted then is left alone.
    """
    group = f"{prefix}-{uuid.uuid4().hex[:8]}"
    saved = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        yield group
    except BaseException:
        _restore(saved)
        with contextlib.suppress(LabError):
            delete_group(group)
        raise
    _restore(saved)
    delete_group(group)


def _restore(saved: tuple) -> None:
    signal.signal(signal.SIGINT, saved[0])
    signal.signal(signal.SIGTERM, saved[1])

"""Waiting for a condition: the one polling loop of the course (ground floor: imports only errors).

Every "poll until something is true or a deadline passes" in kafkalab goes through :func:`wait_until`, so a
timeout always ends the same way: a :class:`~kafkalab.errors.LabError` whose one line says what was awaited,
what was last seen, and what to do.
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

from .errors import LabError

T = TypeVar("T")


def wait_until(
    check: Callable[[], T],
    *,
    timeout_s: float,
    what: str,
    fix: str = "",
    interval_s: float = 0.2,
    retry_on: tuple[type[BaseException], ...] = (),
    last_seen: Callable[[], object] | None = None,
) -> T:
    """Call ``check()`` every ``interval_s`` until it returns a truthy value, and return that value.

    ``retry_on`` lists exception types that mean "not yet" (they are swallowed until the deadline; the last one is
    quoted in the timeout message). After ``timeout_s`` it raises ``LabError("<what> after <timeout> s (last seen:
    …); <fix>")``; ``last_seen()`` describes the state for that message when the check's own value does not.
    The check always runs at least once, even with ``timeout_s=0``.
    """
    deadline = time.monotonic() + timeout_s
    last_value: object = None
    last_error: BaseException | None = None
    while True:
        try:
            value = check()
        except retry_on as e:  # an empty tuple catches nothing
            last_error, value = e, None
        else:
            last_error = None
            if value:
                return value
            last_value = value
        if time.monotonic() >= deadline:
            break
        time.sleep(max(0.0, min(interval_s, deadline - time.monotonic())))
    if last_seen is not None:
        seen = f"last seen: {last_seen()}"
    elif last_error is not None:
        seen = f"last error: {type(last_error).__name__}: {last_error}"
    else:
        seen = f"last seen: {last_value!r}"
    raise LabError(f"{what} did not happen within {timeout_s:g} s ({seen})" + (f"; {fix}" if fix else ""))

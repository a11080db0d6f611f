"""Checkers for "Handling late data" (notebooks/09_late_data.ipynb).

Both exercises use the same small stream, :data:`EXERCISE_RECORDS`, judged by
:func:`kafkalab.lateness.engine.run_windows` with :data:`WINDOW_MS`, :data:`DELAY_MS` and :data:`LATENESS_MS`. The
wrong answers each checker recognises are the usual misreadings of the rules: forgetting allowed lateness,
treating out-of-order as late, or reading the drop boundary as "after" instead of "at".
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..lateness.engine import Record, compare, recompute, run_windows
from . import passed

_S = 1_000
#: Event times in seconds (as ms) from the start of a shop's shift, listed in the order they arrived.
EXERCISE_RECORDS: tuple[Record, ...] = tuple(
    Record(t * _S, v)
    for t, v in [
        (10, 4.0), (42, 6.0), (58, 3.0), (66, 5.0), (55, 2.0), (75, 1.0), (59, 7.0),
        (118, 8.0), (61, 9.0), (126, 2.5), (119, 4.0), (140, 1.0), (100, 6.0),
    ]
)
WINDOW_MS = 60 * _S
DELAY_MS = 5 * _S
LATENESS_MS = 10 * _S
#: The window Exercise 2 asks about: [60 s, 120 s).
EXERCISE_WINDOW_START_MS = 60 * _S


def _dropped(records: Sequence[Record], delay_ms: int, lateness_ms: int) -> list[int]:
    run = run_windows(records, WINDOW_MS, delay_ms, lateness_ms)
    return [o.arrival for o in run.outcomes if o.status == "dropped"]


def _boundary_cases() -> set[int]:
    """Arrival positions whose newest-seen event time is exactly ``end + delay + lateness`` of their window."""
    out, max_seen = set(), None
    for i, rec in enumerate(EXERCISE_RECORDS):
        end = rec.event_time_ms - rec.event_time_ms % WINDOW_MS + WINDOW_MS
        if max_seen is not None and max_seen == end + DELAY_MS + LATENESS_MS:
            out.add(i)
        max_seen = rec.event_time_ms if max_seen is None else max(max_seen, rec.event_time_ms)
    return out


def check_dropped(answer: Sequence[int]) -> None:
    """Exercise 1: the arrival positions of the records the engine drops."""
    assert answer is not None, "replace None with a list of arrival positions, e.g. [3, 7]"
    assert all(isinstance(i, int) for i in answer), "give arrival positions (ints, counted from 0), not event times"
    n = len(EXERCISE_RECORDS)
    assert all(0 <= i < n for i in answer), f"arrival positions run from 0 to {n - 1}"
    got = sorted(set(answer))
    expected = _dropped(EXERCISE_RECORDS, DELAY_MS, LATENESS_MS)
    if got == expected:
        passed(f"records {expected} are dropped; records 4 and 10 arrive late but within the allowed lateness")
        return
    out_of_order = [i for i, r in enumerate(EXERCISE_RECORDS)
                    if any(p.event_time_ms > r.event_time_ms for p in EXERCISE_RECORDS[:i])]
    hints = []
    if got == _dropped(EXERCISE_RECORDS, DELAY_MS, 0):
        hints.append("you dropped every record whose window had fired: allowed lateness "
                     f"({LATENESS_MS // _S} s) keeps a fired window open for late records")
    if got == sorted(out_of_order):
        hints.append("out of order is not late: a record older than the newest one is on time while its window "
                     "has not fired")
    missing = set(expected) - set(got)
    if missing & _boundary_cases():
        hints.append(f"record(s) {sorted(missing & _boundary_cases())} sit exactly on the boundary: once a record "
                     "stamped end + delay + lateness has arrived, the window's state is gone and a record for it "
                     "is dropped")
    if missing - _boundary_cases():
        hints.append(f"record(s) {sorted(missing - _boundary_cases())} arrive when the watermark (max - delay - 1, "
                     "from the records before them) has reached their window's end - 1 + allowed lateness")
    if set(got) - set(expected):
        hints.append(f"record(s) {sorted(set(got) - set(expected))} still reach their window")
    raise AssertionError(f"{got} is not the set of dropped records. " + "; ".join(hints))


def check_window_totals(answer: tuple[float, float]) -> None:
    """Exercise 2: (last total the stream emitted, total a recompute from the log gives) for window [60 s, 120 s)."""
    assert answer is not None, "replace None with a pair (last emitted total, recomputed total)"
    assert isinstance(answer, (tuple, list)) and len(answer) == 2, "answer with a pair: (last emitted, recomputed)"
    emitted, recomputed = (float(x) for x in answer)
    run = run_windows(EXERCISE_RECORDS, WINDOW_MS, DELAY_MS, LATENESS_MS)
    row = next(r for r in compare(run) if r.window_start_ms == EXERCISE_WINDOW_START_MS)
    truth = next(w for w in recompute(EXERCISE_RECORDS, WINDOW_MS) if w.window_start_ms == EXERCISE_WINDOW_START_MS)
    assert math.isclose(emitted, row.final_total), (
        f"the stream's last word on the window was {row.final_total:g}, not {emitted:g}"
        + (": that is its *first* result; a late-accepted record updated it" if math.isclose(emitted, row.first_total)
           else "; add the on-time records and the late-accepted one, but not the dropped one")
    )
    assert math.isclose(recomputed, truth.total), (
        f"a recompute over the whole log gives {truth.total:g}, not {recomputed:g}"
        + ("; it reads every record, including the one the stream dropped" if math.isclose(recomputed, row.final_total)
           else "")
    )
    passed(f"the stream said {row.final_total:g} last; the log says {truth.total:g} "
           f"(the dropped record's {row.dropped_total:g} is the difference)")

"""Exercises of "Handling late data" (notebooks/09_late_data.ipynb).

Both exercises use the same small stream, :func:`exercise_records`, judged by ``kafkalab.lateness.run_windows``
with :data:`WINDOW_MS`, :data:`DELAY_MS` and :data:`LATENESS_MS`. The wrong answers each checker recognises are
the usual misreadings of the rules: forgetting allowed lateness, treating out-of-order as late, or reading the
drop boundary as "after" instead of "at".
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from . import _lab
from .answers import real_number, type_name
from .core import Mistake, exercise
from .verdicts import NotYet, WrongType

CHAPTER = "late_data"

_S = 1_000
#: Event times in seconds from the start of a shop's shift, and amounts, listed in the order they arrived.
EXERCISE_STREAM = ((10, 4.0), (42, 6.0), (58, 3.0), (66, 5.0), (55, 2.0), (75, 1.0), (59, 7.0),
                   (118, 8.0), (61, 9.0), (126, 2.5), (119, 4.0), (140, 1.0), (100, 6.0))
WINDOW_MS = 60 * _S
DELAY_MS = 5 * _S
LATENESS_MS = 10 * _S
#: The window Exercise 2 asks about: [60 s, 120 s).
EXERCISE_WINDOW_START_MS = 60 * _S


def exercise_records() -> tuple:
    """The stream as ``kafkalab.lateness.Record`` values (event time in ms, amount), in arrival order."""
    record = _lab.lateness().Record
    return tuple(record(t * _S, v) for t, v in EXERCISE_STREAM)


def _dropped(records: Sequence, delay_ms: int, lateness_ms: int) -> list[int]:
    run = _lab.lateness().run_windows(records, WINDOW_MS, delay_ms, lateness_ms)
    return [o.arrival for o in run.outcomes if o.status == "dropped"]


def _boundary_cases(records: Sequence) -> set[int]:
    """Arrival positions whose newest-seen event time is exactly ``end + delay + lateness`` of their window."""
    out, max_seen = set(), None
    for i, rec in enumerate(records):
        end = rec.event_time_ms - rec.event_time_ms % WINDOW_MS + WINDOW_MS
        if max_seen is not None and max_seen == end + DELAY_MS + LATENESS_MS:
            out.add(i)
        max_seen = rec.event_time_ms if max_seen is None else max(max_seen, rec.event_time_ms)
    return out


def _out_of_order(records: Sequence) -> list[int]:
    return [i for i, r in enumerate(records) if any(p.event_time_ms > r.event_time_ms for p in records[:i])]


def _dropped_by_hand(ctx: dict) -> list[int]:
    """The reference, worked out with the chapter's rule and no engine: a record is dropped when the newest event
    time seen BEFORE it is at least its window's end + delay + allowed lateness."""
    out, newest = [], None
    for i, (t, _) in enumerate(EXERCISE_STREAM):
        end = (t * _S // WINDOW_MS + 1) * WINDOW_MS
        if newest is not None and newest >= end + DELAY_MS + LATENESS_MS:
            out.append(i)
        newest = t * _S if newest is None else max(newest, t * _S)
    return out


@exercise(
    CHAPTER,
    title="Which records does the engine drop?",
    kind="concept",
    expects="a list of arrival positions, e.g. [3, 7]",
    hints=[
        "Walk the stream in arrival order, keeping the largest event time seen so far. A record is judged BEFORE it "
        "moves that maximum.",
        "A window [start, end) fires when the watermark (max - delay) passes its end; allowed lateness keeps it "
        "open for another 10 s. A record is dropped once max >= end + delay + lateness of its window.",
    ],
    solution='''
exercise_run = run_windows(EXERCISE_RECORDS, WINDOW_MS, DELAY_MS, LATENESS_MS)
dropped_solution = [o.arrival for o in exercise_run.outcomes if o.status == "dropped"]
''',
    reference=_dropped_by_hand,
    mistakes=[
        Mistake("allowed lateness (10 s) keeps a fired window open", answer=[4, 6, 10, 12]),
        Mistake("out of order is not late", answer=[4, 6, 8, 10, 12]),
        Mistake("sit exactly on the boundary", answer=[12]),
        Mistake("arrive when the watermark", answer=[6]),
        Mistake("still reach their window", answer=[6, 10, 12]),
        Mistake("those look like event times", answer=[59, 100]),
        Mistake("arrival positions run from 0 to 12", answer=[6, 13]),
        Mistake("give arrival positions (ints, counted from 0)", answer=["6", "12"], kind="wrong type"),
        Mistake("answer with a list of arrival positions", answer=6, kind="wrong type"),
    ],
)
def dropped(answer) -> str:
    """Exercise 1: the arrival positions of the records the engine drops."""
    if not isinstance(answer, (list, tuple, set)):
        raise WrongType(f"answer with a list of arrival positions, e.g. [3, 7], not {type_name(answer)}")
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in answer):
        raise WrongType("give arrival positions (ints, counted from 0), not event times or text")
    records = exercise_records()
    n = len(records)
    expected = _dropped(records, DELAY_MS, LATENESS_MS)
    if any(not 0 <= i < n for i in answer):
        seconds = {t for t, _ in EXERCISE_STREAM}
        if set(answer) <= seconds:
            raise NotYet(f"those look like event times (in seconds); answer with arrival positions, 0 to {n - 1}: "
                         f"the row numbers of the table")
        raise NotYet(f"arrival positions run from 0 to {n - 1}")
    got = sorted(set(answer))
    if got == expected:
        return (f"records {expected} are dropped; records 4 and 10 arrive late but within the allowed lateness, so "
                f"their windows are updated")
    boundary = _boundary_cases(records)
    hints = []
    if got == _dropped(records, DELAY_MS, 0):
        hints.append("you dropped every record whose window had fired: allowed lateness "
                     f"({LATENESS_MS // _S} s) keeps a fired window open for late records")
    if got == sorted(_out_of_order(records)):
        hints.append("out of order is not late: a record older than the newest one is on time while its window "
                     "has not fired")
    missing = set(expected) - set(got)
    if missing & boundary:
        hints.append(f"record(s) {sorted(missing & boundary)} sit exactly on the boundary: once a record stamped "
                     "end + delay + lateness has arrived, the window's state is gone and a record for it is dropped")
    if missing - boundary:
        hints.append(f"record(s) {sorted(missing - boundary)} arrive when the watermark (max - delay - 1, from the "
                     "records before them) has reached their window's end - 1 + allowed lateness")
    if set(got) - set(expected):
        hints.append(f"record(s) {sorted(set(got) - set(expected))} still reach their window")
    raise NotYet(f"{got} is not the set of dropped records. " + "; ".join(hints))


# ----------------------------------------------------------------------------------------------- Exercise 2


def _window_row():
    lateness = _lab.lateness()
    run = lateness.run_windows(exercise_records(), WINDOW_MS, DELAY_MS, LATENESS_MS)
    return next(r for r in lateness.compare(run) if r.window_start_ms == EXERCISE_WINDOW_START_MS)


def _totals_by_hand(ctx: dict) -> tuple[float, float]:
    """The reference: the window's records that were not dropped, and all of them."""
    dropped_ids = set(_dropped_by_hand(ctx))
    in_window = [(i, v) for i, (t, v) in enumerate(EXERCISE_STREAM)
                 if EXERCISE_WINDOW_START_MS <= t * _S < EXERCISE_WINDOW_START_MS + WINDOW_MS]
    return (math.fsum(v for i, v in in_window if i not in dropped_ids), math.fsum(v for _, v in in_window))


@exercise(
    CHAPTER,
    title="The window's last emitted total and its recomputed total",
    kind="concept",
    expects="a pair (last emitted, recomputed)",
    hints=[
        "The stream emits a window's total when it fires, and again for each late record it still accepts. The "
        "last of those is its last word.",
        "A recompute reads the whole log afterwards, so it also counts the record the stream dropped.",
    ],
    solution='''
window_row = next(r for r in compare(exercise_run) if r.window_start_ms == 60_000)
totals_solution = (window_row.final_total, window_row.true_total)
''',
    reference=_totals_by_hand,
    mistakes=[
        Mistake("that is its *first* result", make=lambda ctx: (_window_row().first_total, _window_row().true_total)),
        Mistake("add the on-time records and the late-accepted one, but not the dropped one",
                make=lambda ctx: (_window_row().true_total, _window_row().true_total)),
        Mistake("it reads every record, including the one the stream dropped",
                make=lambda ctx: (_window_row().final_total, _window_row().final_total)),
        Mistake("answer with a pair: (last emitted, recomputed)", answer=27.0, kind="wrong type"),
        Mistake("answer with a number", answer=("27", "33"), kind="wrong type"),
    ],
)
def window_totals(answer) -> str:
    """Exercise 2: (last total the stream emitted, total a recompute from the log gives) for window [60 s, 120 s)."""
    if not (isinstance(answer, (tuple, list)) and len(answer) == 2):
        raise WrongType("answer with a pair: (last emitted, recomputed)")
    emitted = real_number(answer[0], "the last emitted total")
    recomputed = real_number(answer[1], "the recomputed total")
    lateness = _lab.lateness()
    row = _window_row()
    truth = next(w for w in lateness.recompute(exercise_records(), WINDOW_MS)
                 if w.window_start_ms == EXERCISE_WINDOW_START_MS)
    if not math.isclose(emitted, row.final_total):
        raise NotYet(f"the stream's last word on the window was {row.final_total:g}, not {emitted:g}"
                     + (": that is its *first* result; a late-accepted record updated it"
                        if math.isclose(emitted, row.first_total)
                        else "; add the on-time records and the late-accepted one, but not the dropped one"))
    if not math.isclose(recomputed, truth.total):
        raise NotYet(f"a recompute over the whole log gives {truth.total:g}, not {recomputed:g}"
                     + ("; it reads every record, including the one the stream dropped"
                        if math.isclose(recomputed, row.final_total) else ""))
    return (f"the stream said {row.final_total:g} last; the log says {truth.total:g} (the dropped record's "
            f"{row.dropped_total:g} is the difference)")


def __getattr__(name: str):
    """``EXERCISE_RECORDS`` (what the chapter's table shows) is built on first use: it needs kafkalab.lateness."""
    if name == "EXERCISE_RECORDS":
        return exercise_records()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Exercises of "Handling late data" (notebooks/09_late_data.ipynb).

Both exercises use the same small stream, :func:`exercise_records`, judged by ``kafkalab.lateness.run_windows``
with :data:`WINDOW_MS`, :data:`DELAY_MS` and :data:`LATENESS_MS`. The wrong answers each checker recognises are
the usual misreadings of the rules: forgetting allowed lateness, treating out-of-order as late, or reading the
drop boundary as "after" instead of "at". Exercise 3 (:func:`window_assigner`) takes the learner's window assigner,
with Flink's offset, and checks it on records read back from a topic of its own and through the engine.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from . import _lab
from .answers import real_number, type_name
from .core import Mistake, call_learner, exercise
from .scratch import scratch_topic
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


# ----------------------------------------------------------------------------------------------- Exercise 3

_MIN, _HOUR = 60 * _S, 3600 * _S
_DAY = 24 * _HOUR
#: Berlin is one hour ahead of UTC in November (CET): its days start at 23:00 UTC, Flink's offset of -1 hour.
BERLIN_OFFSET_MS = -_HOUR
#: The Berlin shop's purchases, as (UTC time, amount), in the order they reached the topic. Two of them sit on
#: either side of Berlin's midnight, one arrives late, and several fall on different days in UTC and in Berlin.
BERLIN_PURCHASES = (
    ("2026-11-01 21:30:00.000", 18.00), ("2026-11-01 23:10:00.000", 42.00), ("2026-11-02 08:15:00.000", 60.00),
    ("2026-11-02 12:40:00.000", 35.50), ("2026-11-02 22:59:59.999", 24.00), ("2026-11-02 23:00:00.000", 16.00),
    ("2026-11-02 23:45:00.000", 27.00), ("2026-11-03 09:30:00.000", 80.00), ("2026-11-02 22:30:00.000", 12.50),
    ("2026-11-03 18:20:00.000", 45.00), ("2026-11-03 23:20:00.000", 30.00), ("2026-11-04 10:05:00.000", 55.00),
)
#: The engine's settings for the Berlin report: daily windows, an hour's watermark delay, a day's lateness.
BERLIN_DELAY_MS, BERLIN_LATENESS_MS = _HOUR, _DAY
#: Other windows the function must get right, as (UTC time, size, offset): hours, hours shifted by 15 minutes,
#: and 10-second windows shifted by 3 seconds (Flink's offsets work for any size).
PROBES = (("2026-11-02 10:20:00.000", _HOUR, 0), ("2026-11-02 10:10:00.000", _HOUR, 15 * _MIN),
          ("2026-11-02 10:00:02.000", 10 * _S, 3 * _S))


def berlin_records() -> tuple:
    """Exercise 3's purchases as ``Record`` values (event time in ms, amount, key ``berlin``), in arrival order."""
    record, at = _lab.lateness().Record, _lab.lateness_tables().at
    return tuple(record(at(when), amount, "berlin") for when, amount in BERLIN_PURCHASES)


def _flink_start(t: int, size: int, offset: int) -> int:
    """The reference, as Flink computes it (``TimeWindow.getWindowStartWithOffset``), written out again."""
    remainder = (t - offset) % size
    return t - remainder


def _utc_and_berlin(ms: int) -> str:
    clock = _lab.lateness_tables().clock
    return f"{clock(ms)} UTC ({clock(ms + _HOUR)} in Berlin)"


def _span(ms: int) -> str:
    """A size or an offset in words: ``1 h``, ``15 min``, ``3 s``, ``0``."""
    for unit, name in ((_HOUR, "h"), (_MIN, "min"), (_S, "s")):
        if ms and ms % unit == 0:
            return f"{ms // unit} {name}"
    return f"{ms} ms" if ms else "0"


def _judge_start(fn, t: int, size: int, offset: int) -> int:
    start = call_learner(fn, t, size, offset, what="your function")
    if isinstance(start, bool) or not isinstance(start, int):
        raise WrongType(f"your function returned {type_name(start)} ({start!r:.30}) for event time {t}: return the "
                        f"window's start as an int number of milliseconds (// and % keep ints; / gives a float)")
    return start


def _diagnose(fn, records, size: int, offset: int) -> None:
    """Raise :class:`NotYet` at the first record whose window start differs from Flink's, naming the likely mistake."""
    clock = _lab.lateness_tables().clock
    starts = [_judge_start(fn, r.event_time_ms, size, offset) for r in records]
    wanted = [_flink_start(r.event_time_ms, size, offset) for r in records]
    if starts == wanted:
        return
    pairs = list(zip(records, starts, wanted))
    if all(s == w + size for _, s, w in pairs):
        raise NotYet("your function returns each window's end, not its start: a window is [start, start + size)")
    if all(s in (w, w + size) for _, s, w in pairs):
        rec = next(r for r, s, w in pairs if s != w)
        raise NotYet(f"your function puts the purchase of {_utc_and_berlin(rec.event_time_ms)} in the next window: "
                     f"it rounds to the nearest start; round down (floor division //, or subtract the remainder %)")
    if all(s == (w - offset) // size for _, s, w in pairs):
        raise NotYet("your function returns a window number, not the window's start in milliseconds: multiply back "
                     "by the size and add the offset, or subtract the remainder from the event time")
    for rec, s, w in pairs:
        t = rec.event_time_ms
        if s == w:
            continue
        if t == w and s == w - size:
            raise NotYet(f"the purchase of {_utc_and_berlin(t)} sits on the first millisecond of a day and belongs "
                         f"to that day: a window includes its start, [start, end)")
        if s == t - t % size:
            raise NotYet(f"your function puts the purchase of {_utc_and_berlin(t)} in the day from {clock(s)} UTC, "
                         f"but Berlin's day that holds it starts at {clock(w)} UTC: your days start at midnight UTC, "
                         f"which is 01:00 in Berlin. Shift every window by offset_ms")
        if s == t - (t + offset) % size:
            raise NotYet(f"your function puts the purchase of {_utc_and_berlin(t)} in the day from {clock(s)} UTC, "
                         f"but Berlin's day that holds it starts at {clock(w)} UTC: the offset moved the windows the "
                         f"wrong way (a negative offset makes every window start earlier)")
        if not s <= t < s + size:
            raise NotYet(f"your function puts the purchase of {_utc_and_berlin(t)} in a window starting at "
                         f"{clock(s) or s} UTC, which does not hold it: a window is [start, start + size_ms)")
        raise NotYet(f"your function puts the purchase of {_utc_and_berlin(t)} in the window from {clock(s)} UTC; "
                     f"Flink puts it in the one from {clock(w)} UTC")


def _ignores_offset(event_time_ms, size_ms, offset_ms):
    return event_time_ms - event_time_ms % size_ms


def _offset_wrong_way(event_time_ms, size_ms, offset_ms):
    return event_time_ms - (event_time_ms + offset_ms) % size_ms


def _rounds(event_time_ms, size_ms, offset_ms):
    return round((event_time_ms - offset_ms) / size_ms) * size_ms + offset_ms


def _returns_end(event_time_ms, size_ms, offset_ms):
    return event_time_ms - (event_time_ms - offset_ms) % size_ms + size_ms


def _window_number(event_time_ms, size_ms, offset_ms):
    return (event_time_ms - offset_ms) // size_ms


def _excludes_start(event_time_ms, size_ms, offset_ms):
    return event_time_ms - 1 - (event_time_ms - 1 - offset_ms) % size_ms


def _float_start(event_time_ms, size_ms, offset_ms):
    return (event_time_ms - offset_ms) / size_ms // 1 * size_ms + offset_ms


def _berlin_only(event_time_ms, size_ms, offset_ms):
    return event_time_ms - (event_time_ms + 3_600_000) % 86_400_000


@exercise(
    CHAPTER,
    title="Write the window assigner: days in Berlin",
    kind="code",
    expects="a function window_start(event_time_ms, size_ms, offset_ms)",
    hints=[
        "Without an offset, a window starts at `t - t % size_ms`: the event time minus how far it lies into its "
        "window. The offset moves every window start by offset_ms.",
        "Take the remainder after removing the offset: `(t - offset_ms) % size_ms` is how far t lies into its "
        "shifted window. Python's % is never negative, so this also works for a negative offset.",
        "`return event_time_ms - (event_time_ms - offset_ms) % size_ms`",
    ],
    solution='''
def window_start_shifted(event_time_ms, size_ms, offset_ms):
    """Start of the tumbling window of size_ms, shifted by offset_ms from the epoch, that holds event_time_ms."""
    return event_time_ms - (event_time_ms - offset_ms) % size_ms
''',
    reference="window_start_shifted",
    live=True,
    mistakes=[
        Mistake("your days start at midnight UTC", answer=_ignores_offset),
        Mistake("the offset moved the windows the wrong way", answer=_offset_wrong_way),
        Mistake("it rounds to the nearest start", answer=_rounds),
        Mistake("returns each window's end", answer=_returns_end),
        Mistake("returns a window number", answer=_window_number),
        Mistake("a window includes its start", answer=_excludes_start),
        Mistake("return the window's start as an int", answer=_float_start, kind="wrong type"),
        Mistake("use its arguments", answer=_berlin_only),
    ],
)
def window_assigner(window_start) -> str:
    """Exercise 3: ``window_start(event_time_ms, size_ms, offset_ms)`` returns the start of the tumbling window that
    holds the event time (Flink's windows with an offset). The checker writes the Berlin shop's purchases to a
    topic of its own (event time as the record timestamp), reads them back, checks the function's window for each
    record's Kafka timestamp (daily windows, offset -1 hour), then runs the engine with the function as its window
    assigner and compares the daily reports with Flink's; finally it tries other sizes and offsets."""
    replay, lateness = _lab.lateness_replay(), _lab.lateness()
    with scratch_topic(CHAPTER, "berlin", configs=replay.TOPIC_CONFIGS) as topic:
        replay.produce_records(topic, berlin_records())
        records = replay.read_records(topic)
    _diagnose(window_start, records, _DAY, BERLIN_OFFSET_MS)
    tables = _lab.lateness_tables()
    for when, size, offset in PROBES:
        t = tables.at(when)
        got, want = _judge_start(window_start, t, size, offset), _flink_start(t, size, offset)
        if got != want:
            raise NotYet(f"right for Berlin's days, but for windows of {_span(size)} shifted by {_span(offset)} your "
                         f"function puts {tables.clock(t)} UTC in the window from {tables.clock(got) or got} instead "
                         f"of {tables.clock(want)}: use its arguments, not Berlin's numbers")
    theirs = lateness.run_windows(records, _DAY, BERLIN_DELAY_MS, BERLIN_LATENESS_MS,
                                  assign=lambda t: window_start(t, _DAY, BERLIN_OFFSET_MS))
    flinks = lateness.run_windows(records, _DAY, BERLIN_DELAY_MS, BERLIN_LATENESS_MS, offset_ms=BERLIN_OFFSET_MS)
    if theirs.results != flinks.results:  # pragma: no cover - equal starts give equal results
        raise NotYet("the engine emitted other daily reports with your function than with Flink's windows")
    clock = _lab.lateness_tables().clock
    days = ", ".join(f"{clock(w.window_start_ms + _HOUR)[:3]} {w.total:g}"
                     for w in lateness.recompute(records, _DAY, BERLIN_OFFSET_MS))
    return (f"every purchase read back from the topic lands in its Berlin day (from 23:00 UTC), the engine with your "
            f"function emits the same {len(flinks.results)} daily results as with Flink's offset of -1 hour, and other "
            f"sizes and offsets agree too. Berlin's days: {days}")


def __getattr__(name: str):
    """``EXERCISE_RECORDS`` (what the chapter's table shows) is built on first use: it needs kafkalab.lateness."""
    if name == "EXERCISE_RECORDS":
        return exercise_records()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

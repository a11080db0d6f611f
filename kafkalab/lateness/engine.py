"""Event-time windows, watermarks and allowed lateness, to the millisecond (Chapter 9: Handling late data).

A small, pure teaching engine: no Kafka, no threads, no clock. You give it records in the order they
*arrived*; it tells you which window each belongs to, what the watermark was when it arrived, whether it
counted, and which results a stream processor would have emitted. The chapter feeds it records read back
from a real Kafka topic; the unit tests feed it hand-made lists.

Semantics (Apache Flink's DataStream API, ``TumblingEventTimeWindows`` with ``EventTimeTrigger`` behind a
``WatermarkStrategy.forBoundedOutOfOrderness``), all times integer milliseconds since the epoch:

* **Windows.** A tumbling window of size ``W`` covers ``[start, end)`` with ``start = floor(t / W) * W``
  (aligned to epoch 0) and ``end = start + W``. A record stamped exactly ``end`` belongs to the *next* window.
  The last instant a window owns is ``end - 1`` (Flink's ``maxTimestamp()``). An offset ``O`` shifts every
  window by ``O`` (Flink's ``TumblingEventTimeWindows.of(size, offset)``, e.g. days in a time zone one hour
  ahead of UTC start at 23:00 UTC with ``O = -1 h``): ``start = t - (t - O) mod W``. A window assigner of your
  own (``assign``, a function of the event time that returns the window's start) replaces both.
* **Watermark.** Bounded out-of-orderness with delay ``D``: after each record the watermark is
  ``max event time seen - D - 1``. Before the first record it is :data:`NO_WATERMARK` (``Long.MIN_VALUE``).
  It never goes back. The ``- 1`` means "a record stamped exactly ``max - D`` is still expected", so with
  ``D = 0`` two records with the same timestamp are both on time.
* **Order of judgement.** Flink's timestamp operator forwards a record *before* it lets the generator see
  it, so a record is judged against the watermark as it stood before that record; only then does the
  watermark move (and possibly fire windows). This engine emits a watermark after every record (as a
  punctuated generator would); real Flink emits periodically (every 200 ms by default), so its watermark
  lags a little more and, for the same arrival order, it finds *fewer* records late than this engine,
  never more.
* **Firing.** A window fires (emits its first result) as soon as the watermark is ``>= end - 1``; windows
  that fire on the same watermark step fire in order of their end. Empty windows hold no state and emit
  nothing.
* **Allowed lateness ``L``.** Let ``wm`` be the watermark at the record's arrival. The record is

  - ``"on-time"`` when ``end - 1 > wm``: its window has not fired yet. This includes records that are out
    of order (older than the newest seen) but not late;
  - ``"late-accepted"`` when ``end - 1 <= wm < end - 1 + L``: the window is kept, the record is added and
    the window fires again at once with the corrected total (kind ``"update"``). If the window had been
    empty until then (so it never fired), that emission is its ``"first"``;
  - ``"dropped"`` when ``end - 1 + L <= wm``: the record goes to the side output and changes nothing
    (Flink's ``isWindowLate``: ``cleanupTime <= currentWatermark``). So at ``end - 1 + L == wm`` a record is
    dropped, one millisecond of watermark earlier it is accepted. With ``L = 0`` nothing is ever
    late-accepted: a record is on time or dropped.
* **Purge.** A window's state is deleted when the watermark reaches ``end - 1 + L`` (after it fires, when
  both happen on the same step), which is exactly the point from which records for it are dropped.
  :attr:`LatenessRun.purges` logs each deletion: allowed lateness is paid for in state held that long.
* **End of stream.** ``flush=True`` moves the watermark to :data:`END_OF_STREAM` (``Long.MAX_VALUE``, what
  Flink does when a bounded input ends): every window that never fired fires now, kind ``"final-flush"``.
  ``flush=False`` leaves them open, as in a job that is still running (see :attr:`LatenessRun.open_windows`).
* **Aggregate.** A window's result is the sum and the count of its values. Sums are exact-then-rounded
  (Shewchuk partials, as ``math.fsum``), so they do not depend on arrival order: a window that lost no
  record reports exactly what :func:`recompute` finds.
* **Keys.** A record's key travels with it (it is the Kafka message key) but the engine sums all keys in one
  window, like Flink's ``windowAll``; a Flink watermark is per stream, not per key, in any case.

Three places, three conventions for the same delay ``D`` and lateness/grace:

* Flink DataStream (this engine): watermark ``max - D - 1``, fire at ``watermark >= end - 1``: a window
  fires once a record stamped ``>= end + D`` has arrived, and stops accepting records once one stamped
  ``>= end + D + L`` has arrived.
* Flink SQL: ``WATERMARK FOR ts AS ts - INTERVAL 'D'`` gives watermark ``max - D`` (no ``- 1``; the value
  of the expression is the watermark), and a window TVF aggregation still fires at
  ``watermark >= window_end - 1``, so the same window fires one millisecond of event time *earlier*, on a
  record stamped ``>= end + D - 1``. Window TVFs have no allowed lateness: a row whose window has fired
  (``watermark >= window_end - 1``) is dropped, with no side output; only a metric counts it.
* Kafka Streams: "stream time" is ``max`` itself (no delay, no ``- 1``), and a windowed aggregation keeps
  accepting a record while ``end > stream time - grace``. Its drop boundary, a record stamped
  ``>= end + grace`` seen, equals this engine's with ``D + L = grace``. By default it emits an updated
  result for every record instead of one result when the watermark passes.

Reprocessing: :func:`recompute` sums the whole log per window, ignoring arrival order and watermarks;
that is what re-running the job from offset 0 of a topic that kept everything would produce.
:func:`compare` sets it beside what the streaming run emitted.
"""
from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from ..errors import LabError
from ..validate import check_all, number

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The watermark before any record (Java's ``Long.MIN_VALUE``, Flink's initial watermark).
NO_WATERMARK: Final[int] = -(2**63)
#: The watermark at the end of a bounded stream (``Long.MAX_VALUE``, Flink's ``MAX_WATERMARK``).
END_OF_STREAM: Final[int] = 2**63 - 1

Status = Literal["on-time", "late-accepted", "dropped"]
Kind = Literal["first", "update", "final-flush"]
STATUSES: Final[tuple[str, ...]] = ("on-time", "late-accepted", "dropped")
KINDS: Final[tuple[str, ...]] = ("first", "update", "final-flush")


class Record(NamedTuple):
    """One purchase: when it happened (event time), how much, whose, and when it reached us."""

    event_time_ms: int
    value: float
    key: str | None = None
    #: Simulated or measured arrival time; the engine ignores it and uses the position in the input.
    processing_time_ms: int | None = None


class RecordOutcome(NamedTuple):
    """What happened to one record: its window, its verdict and the watermark it was judged against."""

    arrival: int
    event_time_ms: int
    value: float
    key: str | None
    window_start_ms: int
    window_end_ms: int
    status: Status
    #: Watermark at arrival, before this record moved it.
    watermark_ms: int


class WindowResult(NamedTuple):
    """One emitted window result (a row of the job's output stream)."""

    window_start_ms: int
    window_end_ms: int
    total: float
    count: int
    kind: Kind
    #: Watermark when the result was emitted (``END_OF_STREAM`` for a flush).
    watermark_ms: int
    #: Position of the record that caused the emission (``len(records)`` for the end-of-stream flush).
    arrival: int


class WindowTotal(NamedTuple):
    """Sum and count of one window."""

    window_start_ms: int
    window_end_ms: int
    total: float
    count: int


class WindowPurge(NamedTuple):
    """The moment a window's state was deleted: from then on every record for it is dropped."""

    window_start_ms: int
    window_end_ms: int
    #: Watermark that triggered the purge (``END_OF_STREAM`` for the flush).
    watermark_ms: int
    #: Position of the record whose watermark step purged it (``len(records)`` for the flush).
    arrival: int


class WindowComparison(NamedTuple):
    """Streaming results beside the recomputed truth, for one window."""

    window_start_ms: int
    window_end_ms: int
    #: First emitted total (``None`` if the window never emitted).
    first_total: float | None
    #: Last emitted total (``None`` if the window never emitted).
    final_total: float | None
    #: Total over the whole log (:func:`recompute`).
    true_total: float
    true_count: int
    #: How many results the window emitted (first + updates, or one flush).
    emitted: int
    dropped_count: int
    #: Sum of the dropped records' values: what the streaming answer lost.
    dropped_total: float


@dataclass(frozen=True)
class LatenessRun:
    """Everything one pass of :func:`run_windows` produced."""

    window_ms: int
    watermark_delay_ms: int
    allowed_lateness_ms: int
    flushed: bool
    #: The output stream, in emission order.
    results: list[WindowResult]
    #: One verdict per input record, in arrival order.
    outcomes: list[RecordOutcome]
    #: Watermark after each record (index = arrival position); the flush is not included.
    watermarks: list[int]
    #: Dropped records (Flink's ``sideOutputLateData``), in arrival order.
    side_output: list[Record]
    #: Windows that still hold state unfired (only when ``flushed`` is false), by start.
    open_windows: list[WindowTotal] = field(default_factory=list)
    #: State deletions, in order (fired windows kept for lateness are still held when ``flushed`` is false).
    purges: list[WindowPurge] = field(default_factory=list)
    #: Watermark at the end (``END_OF_STREAM`` when flushed).
    final_watermark_ms: int = NO_WATERMARK
    #: How windows were shifted from epoch 0, or the window assigner that replaced the rule (``None``: none).
    offset_ms: int = 0
    assign: Callable[[int], int] | None = None

    def counts(self) -> dict[str, int]:
        """Number of records per status and of results per kind."""
        out = {s: 0 for s in STATUSES} | {k: 0 for k in KINDS}
        for o in self.outcomes:
            out[o.status] += 1
        for r in self.results:
            out[r.kind] += 1
        return out

    def outcomes_frame(self) -> pd.DataFrame:
        """The per-record verdicts as a pandas DataFrame (one row per record)."""
        import pandas as pd

        return pd.DataFrame(self.outcomes, columns=RecordOutcome._fields)


def window_start(event_time_ms: int, window_ms: int, offset_ms: int = 0) -> int:
    """Start of the tumbling window that owns ``event_time_ms``: windows of ``window_ms`` aligned to epoch 0, shifted
    by ``offset_ms`` (Flink's ``TimeWindow.getWindowStartWithOffset``; Python's ``%`` is never negative)."""
    return event_time_ms - (event_time_ms - offset_ms) % window_ms


def _assigner(size: int, offset_ms: object,
              assign: Callable[[int], int] | None) -> tuple[int, Callable[[int], int] | None]:
    """The offset (validated) and ``assign`` wrapped so that each start it returns is checked to own its record
    (``None`` without one: the engine then computes ``t - (t - offset) % size`` inline, its fast path)."""
    offset = int(number("offset_ms", offset_ms, whole=True, unit="ms"))
    if assign is None:
        return offset, None
    if not callable(assign):
        raise LabError(f"assign={assign!r:.40}: give a function of the event time (ms) that returns its window's start")

    def checked(t: int) -> int:
        start = assign(t)
        if isinstance(start, bool) or not isinstance(start, int) or not start <= t < start + size:
            raise LabError(f"the window assigner put event time {t} in a window starting at {start!r:.40}; a window "
                           f"of {size} ms starting there does not hold it (a window is [start, start + size))")
        return start

    return offset, checked


def bounded_watermark(max_event_time_ms: int, watermark_delay_ms: int) -> int:
    """Flink DataStream's bounded-out-of-orderness watermark: ``max - delay - 1``."""
    return max_event_time_ms - watermark_delay_ms - 1


def check_window_params(
    window_ms: object, watermark_delay_ms: object, allowed_lateness_ms: object
) -> tuple[int, int, int]:
    """Validate the three engine settings (whole milliseconds); one :class:`LabError` names every bad one."""
    size, delay, lateness = check_all(
        window_ms=(window_ms, dict(low=1, whole=True, unit="ms")),
        watermark_delay_ms=(watermark_delay_ms, dict(low=0, whole=True, unit="ms")),
        allowed_lateness_ms=(allowed_lateness_ms, dict(low=0, whole=True, unit="ms")),
    )
    return int(size), int(delay), int(lateness)


def _add_exact(partials: list[float], x: float) -> None:
    """Add ``x`` to a list of non-overlapping partial sums whose exact total is the running sum."""
    i = 0
    for y in partials:
        if abs(x) < abs(y):
            x, y = y, x
        hi = x + y
        lo = y - (hi - x)
        if lo:
            partials[i] = lo
            i += 1
        x = hi
    partials[i:] = [x]


def run_windows(
    records: Iterable[Record],
    window_ms: int,
    watermark_delay_ms: int,
    allowed_lateness_ms: int = 0,
    *,
    flush: bool = True,
    offset_ms: int = 0,
    assign: Callable[[int], int] | None = None,
) -> LatenessRun:
    """Push records (in arrival order) through tumbling event-time windows; see the module docstring.

    ``offset_ms`` shifts the windows from epoch 0; ``assign(event_time_ms)``, a window assigner of your own,
    returns a record's window start instead (a :class:`LabError` if that window does not hold the record).
    """
    size, delay, lateness = check_window_params(window_ms, watermark_delay_ms, allowed_lateness_ms)
    offset, start_of = _assigner(size, offset_ms, assign)
    last = size - 1  # offset of a window's last millisecond from its start

    wm = NO_WATERMARK
    max_seen: int | None = None
    # start -> [exact partial sums, count]; a window exists here from its first accepted record to its purge.
    panes: dict[int, list] = {}
    to_fire: list[int] = []  # starts of windows waiting for the watermark, a heap
    to_purge: list[int] = []  # starts of fired windows kept for late records, a heap

    results: list[WindowResult] = []
    outcomes: list[RecordOutcome] = []
    watermarks: list[int] = []
    side: list[Record] = []
    purges: list[WindowPurge] = []
    emit_result = results.append
    add_outcome = outcomes.append
    add_wm = watermarks.append
    fsum = math.fsum

    for i, rec in enumerate(records):
        t = rec[0]
        v = rec[1]
        start = t - (t - offset) % size if start_of is None else start_of(t)
        end = start + size
        if start + last > wm:
            status = "on-time"
            pane = panes.get(start)
            if pane is None:
                panes[start] = [[v], 1]
                heapq.heappush(to_fire, start)
            else:
                _add_exact(pane[0], v)
                pane[1] += 1
        elif start + last + lateness > wm:
            status = "late-accepted"
            pane = panes.get(start)
            if pane is None:  # the window was empty when the watermark passed it: this is its first result
                pane = panes[start] = [[v], 1]
                heapq.heappush(to_purge, start)
                kind = "first"
            else:
                _add_exact(pane[0], v)
                pane[1] += 1
                kind = "update"
            emit_result(WindowResult(start, end, fsum(pane[0]), pane[1], kind, wm, i))
        else:
            status = "dropped"
            side.append(rec)
        add_outcome(RecordOutcome(i, t, v, rec[2], start, end, status, wm))

        # The record has been judged; now the watermark may move, firing and purging windows.
        if max_seen is None or t > max_seen:
            max_seen = t
            new_wm = bounded_watermark(t, delay)
            if new_wm > wm:
                wm = new_wm
                while to_fire and to_fire[0] + last <= wm:
                    s = heapq.heappop(to_fire)
                    pane = panes[s]
                    emit_result(WindowResult(s, s + size, fsum(pane[0]), pane[1], "first", wm, i))
                    heapq.heappush(to_purge, s)
                while to_purge and to_purge[0] + last + lateness <= wm:
                    s = heapq.heappop(to_purge)
                    del panes[s]
                    purges.append(WindowPurge(s, s + size, wm, i))
        add_wm(wm)

    open_windows: list[WindowTotal] = []
    if flush:
        wm = END_OF_STREAM
        n = len(outcomes)
        while to_fire:
            s = heapq.heappop(to_fire)
            pane = panes[s]
            emit_result(WindowResult(s, s + size, fsum(pane[0]), pane[1], "final-flush", wm, n))
        purges.extend(WindowPurge(s, s + size, wm, n) for s in sorted(panes))
        panes.clear()
    else:
        for s in sorted(to_fire):
            pane = panes[s]
            open_windows.append(WindowTotal(s, s + size, fsum(pane[0]), pane[1]))

    return LatenessRun(
        window_ms=size,
        watermark_delay_ms=delay,
        allowed_lateness_ms=lateness,
        flushed=flush,
        results=results,
        outcomes=outcomes,
        watermarks=watermarks,
        side_output=side,
        open_windows=open_windows,
        purges=purges,
        final_watermark_ms=wm,
        offset_ms=offset,
        assign=assign,
    )


def recompute(records: Iterable[Record], window_ms: int, offset_ms: int = 0,
              assign: Callable[[int], int] | None = None) -> list[WindowTotal]:
    """True per-window totals over the whole log, whatever the arrival order (what a replay from offset 0 gives);
    ``offset_ms`` and ``assign`` as in :func:`run_windows`."""
    window_ms = check_window_params(window_ms, 0, 0)[0]
    offset, start_of = _assigner(window_ms, offset_ms, assign)
    values: dict[int, list[float]] = {}
    for rec in records:
        t = rec[0]
        values.setdefault(t - (t - offset) % window_ms if start_of is None else start_of(t), []).append(rec[1])
    return [WindowTotal(s, s + window_ms, math.fsum(vs), len(vs)) for s, vs in sorted(values.items())]


def compare(run: LatenessRun, log: Iterable[Record] | None = None) -> list[WindowComparison]:
    """Per window: first and final emitted totals, the true total, and what dropped records took away."""
    if log is None:
        log = [Record(o.event_time_ms, o.value, o.key) for o in run.outcomes]
    truth = recompute(log, run.window_ms, run.offset_ms, run.assign)
    first: dict[int, float] = {}
    final: dict[int, float] = {}
    emitted: dict[int, int] = {}
    for r in run.results:
        first.setdefault(r.window_start_ms, r.total)
        final[r.window_start_ms] = r.total
        emitted[r.window_start_ms] = emitted.get(r.window_start_ms, 0) + 1
    dropped: dict[int, list[float]] = {}
    for o in run.outcomes:
        if o.status == "dropped":
            dropped.setdefault(o.window_start_ms, []).append(o.value)
    rows = []
    for w in truth:
        lost = dropped.get(w.window_start_ms, [])
        rows.append(
            WindowComparison(
                window_start_ms=w.window_start_ms,
                window_end_ms=w.window_end_ms,
                first_total=first.get(w.window_start_ms),
                final_total=final.get(w.window_start_ms),
                true_total=w.total,
                true_count=w.count,
                emitted=emitted.get(w.window_start_ms, 0),
                dropped_count=len(lost),
                dropped_total=math.fsum(lost),
            )
        )
    return rows


class EngineSpeed(NamedTuple):
    """How long the engine takes over one list of records, best of several runs (milliseconds, Kafka aside)."""

    records: int
    streaming_ms: float
    recompute_ms: float


def _best_ms(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs of ``fn``, in ms (the others were slowed by something else on the machine)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000


def speed(records: Iterable[Record], window_ms: int, watermark_delay_ms: int, allowed_lateness_ms: int = 0,
          repeat: int = 5) -> EngineSpeed:
    """Time one streaming pass (:func:`run_windows`) and one :func:`recompute` over ``records``, best of ``repeat``."""
    records = list(records)
    repeat = int(number("repeat", repeat, low=1, whole=True))
    return EngineSpeed(
        len(records),
        _best_ms(lambda: run_windows(records, window_ms, watermark_delay_ms, allowed_lateness_ms), repeat),
        _best_ms(lambda: recompute(records, window_ms), repeat),
    )

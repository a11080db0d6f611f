"""Unit tests for kafkalab.lateness (the engine and the generator): every millisecond boundary of windows, watermarks and lateness.

Times here are small integers (window of 10 ms unless said otherwise) so each boundary can be read off.
A slow, obviously-correct reference engine at the bottom checks the fast one on random streams.
"""
from __future__ import annotations

import math
import random

import pytest

from kafkalab.errors import LabError
from kafkalab.lateness.engine import (
    END_OF_STREAM,
    NO_WATERMARK,
    Record,
    RecordOutcome,
    WindowResult,
    WindowPurge,
    WindowTotal,
    bounded_watermark,
    check_window_params,
    compare,
    recompute,
    run_windows,
    speed,
    window_start,
)
from kafkalab.lateness.generator import purchase_stream, suggest_start_ms
from kafkalab.lateness.tables import DAY, HOUR, MINUTE, at, clock, readable


def recs(*times: int, value: float = 1.0) -> list[Record]:
    """Records at the given event times (arrival order = argument order), each worth ``value``."""
    return [Record(t, value) for t in times]


def statuses(run) -> list[str]:
    return [o.status for o in run.outcomes]


# --- windows -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("t", "start"), [(0, 0), (1, 0), (9, 0), (10, 10), (19, 10), (20, 20), (-1, -10), (-10, -10), (-11, -20)]
)
def test_window_start_is_floor_aligned_to_epoch(t, start):
    assert window_start(t, 10) == start


@pytest.mark.parametrize(
    ("t", "offset", "start"), [(0, 3, -7), (2, 3, -7), (3, 3, 3), (12, 3, 3), (13, 3, 13), (5, -3, -3), (7, -3, 7),
                               (-8, -3, -13), (25, 13, 23), (25, -27, 23)]
)
def test_an_offset_shifts_every_window_like_flink(t, offset, start):
    assert window_start(t, 10, offset) == start
    assert start <= t < start + 10


def test_berlin_days_start_at_23_utc_with_an_offset_of_minus_one_hour():
    assert window_start(at("2026-11-02 22:59:59.999"), DAY, -HOUR) == at("2026-11-01 23:00")
    assert window_start(at("2026-11-02 23:00"), DAY, -HOUR) == at("2026-11-02 23:00")


def test_run_windows_with_an_offset_is_run_windows_on_shifted_times():
    stream = purchase_stream(300, seed=4, start_ms=1_000_000, mean_gap_ms=250, late_share=0.2, late_by_ms=5_000)
    shifted = run_windows(stream, 10_000, 1_000, 2_000, offset_ms=3_000)
    moved = run_windows([r._replace(event_time_ms=r.event_time_ms - 3_000) for r in stream], 10_000, 1_000, 2_000)
    assert [o.status for o in shifted.outcomes] == [o.status for o in moved.outcomes]
    assert [(r.window_start_ms - 3_000, r.total, r.count, r.kind) for r in shifted.results] == [
        (r.window_start_ms, r.total, r.count, r.kind) for r in moved.results]
    assert [w.window_start_ms % 10_000 for w in recompute(stream, 10_000, 3_000)] == [3_000] * len(
        recompute(stream, 10_000, 3_000))
    assert [c.window_start_ms for c in compare(shifted)] == [w.window_start_ms for w in recompute(stream, 10_000, 3_000)]


def test_a_window_assigner_of_ones_own_replaces_the_rule():
    stream = recs(1, 5, 12, 3, 25)
    own = run_windows(stream, 10, 2, 5, assign=lambda t: t - (t - 4) % 10)
    assert own.results == run_windows(stream, 10, 2, 5, offset_ms=4).results
    assert own.assign is not None and compare(own) == compare(run_windows(stream, 10, 2, 5, offset_ms=4))
    assert recompute(stream, 10, assign=lambda t: t - t % 10) == recompute(stream, 10)


@pytest.mark.parametrize("assign", [lambda t: t - t % 10 + 10, lambda t: float(t - t % 10), lambda t: True])
def test_a_window_assigner_must_return_a_start_that_holds_the_record(assign):
    with pytest.raises(LabError, match="window assigner"):
        run_windows(recs(1, 2), 10, 0, assign=assign)


def test_bad_offsets_and_assigners_are_refused():
    with pytest.raises(LabError, match="offset_ms"):
        run_windows(recs(1), 10, 0, offset_ms=1.5)
    with pytest.raises(LabError, match="assign"):
        run_windows(recs(1), 10, 0, assign=42)


def test_record_exactly_at_window_end_belongs_to_the_next_window():
    run = run_windows(recs(9, 10), window_ms=10, watermark_delay_ms=100)
    assert [(o.window_start_ms, o.window_end_ms) for o in run.outcomes] == [(0, 10), (10, 20)]
    assert [(r.window_start_ms, r.count) for r in run.results] == [(0, 1), (10, 1)]


# --- watermark -----------------------------------------------------------------------------------------


def test_watermark_is_max_minus_delay_minus_one_and_starts_at_long_min():
    run = run_windows(recs(100, 130, 120, 125, 140), window_ms=1000, watermark_delay_ms=7)
    assert run.outcomes[0].watermark_ms == NO_WATERMARK == -(2**63)
    assert run.watermarks == [92, 122, 122, 122, 132]
    assert bounded_watermark(140, 7) == 132
    # each record is judged against the watermark as it was before that record
    assert [o.watermark_ms for o in run.outcomes] == [NO_WATERMARK, 92, 122, 122, 122]


def test_watermark_never_goes_back_when_an_old_record_arrives():
    run = run_windows(recs(50, 10, 5), window_ms=100, watermark_delay_ms=0)
    assert run.watermarks == [49, 49, 49]


def test_window_fires_when_watermark_reaches_end_minus_one_not_before():
    # delay 3: a record at 12 makes the watermark 8 (= end - 2: no result), one at 13 makes it 9 (= end - 1: fire)
    run = run_windows(recs(2, 12, 13), window_ms=10, watermark_delay_ms=3, flush=False)
    assert run.watermarks == [-2, 8, 9]
    assert run.results == [WindowResult(0, 10, 1.0, 1, "first", 9, 2)]


def test_watermark_at_end_minus_two_does_not_fire():
    run = run_windows(recs(2, 12), window_ms=10, watermark_delay_ms=3, flush=False)
    assert run.watermarks[-1] == 8
    assert run.results == []
    assert run.open_windows == [WindowTotal(0, 10, 1.0, 1), WindowTotal(10, 20, 1.0, 1)]


def test_delay_zero_fires_on_the_first_record_of_the_next_window():
    run = run_windows(recs(3, 9, 10), window_ms=10, watermark_delay_ms=0, flush=False)
    assert run.watermarks == [2, 8, 9]
    assert [(r.window_start_ms, r.count, r.arrival, r.watermark_ms) for r in run.results] == [(0, 2, 2, 9)]


def test_equal_timestamps_with_delay_zero_are_all_on_time():
    # the "- 1" in the watermark keeps a record stamped exactly max - delay on time
    run = run_windows(recs(9, 9, 9, 10, 10), window_ms=10, watermark_delay_ms=0, flush=False)
    assert statuses(run) == ["on-time"] * 5
    assert run.watermarks == [8, 8, 8, 9, 9]
    assert [(r.window_start_ms, r.count) for r in run.results] == [(0, 3)]
    assert run.open_windows == [WindowTotal(10, 20, 2.0, 2)]


def test_out_of_order_but_not_late_is_on_time():
    # 3 arrives after 8 (watermark 7, so 3 is even behind the watermark), but window [0, 10) has not fired
    run = run_windows(recs(5, 8, 3), window_ms=10, watermark_delay_ms=0)
    assert run.outcomes[2].watermark_ms == 7
    assert statuses(run) == ["on-time"] * 3
    assert [(r.kind, r.count) for r in run.results] == [("final-flush", 3)]


def test_several_windows_fire_on_one_watermark_step_in_order_of_their_end():
    run = run_windows(recs(5, 15, 25, 100), window_ms=10, watermark_delay_ms=50, flush=False)
    assert run.watermarks == [-46, -36, -26, 49]
    assert [(r.window_start_ms, r.arrival, r.watermark_ms) for r in run.results] == [
        (0, 3, 49),
        (10, 3, 49),
        (20, 3, 49),
    ]


def test_empty_windows_emit_nothing():
    run = run_windows(recs(1, 35, 70), window_ms=10, watermark_delay_ms=0)
    assert [r.window_start_ms for r in run.results] == [0, 30, 70]
    assert [w.window_start_ms for w in recompute(recs(1, 35, 70), 10)] == [0, 30, 70]


# --- allowed lateness ----------------------------------------------------------------------------------


def _lateness_scenario(last_time: int) -> list[Record]:
    """Window [0, 10), delay 0: 1 fires it at watermark 13; 5 arrives at wm 13; ``last_time`` at wm 14."""
    return [Record(1, 1.0), Record(14, 10.0), Record(5, 100.0), Record(15, 1000.0), Record(last_time, 5000.0)]


def test_record_judged_exactly_at_the_drop_point_is_dropped_one_ms_earlier_accepted():
    # L = 5: end - 1 + L = 14. At watermark 13 a record is accepted; at watermark 14 it is dropped.
    run = run_windows(_lateness_scenario(6), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=5)
    assert [(o.event_time_ms, o.status, o.watermark_ms) for o in run.outcomes] == [
        (1, "on-time", NO_WATERMARK),
        (14, "on-time", 0),
        (5, "late-accepted", 13),
        (15, "on-time", 13),
        (6, "dropped", 14),
    ]
    window0 = [r for r in run.results if r.window_start_ms == 0]
    assert window0 == [
        WindowResult(0, 10, 1.0, 1, "first", 13, 1),
        WindowResult(0, 10, 101.0, 2, "update", 13, 2),
    ]
    assert run.side_output == [Record(6, 5000.0)]


def test_late_accepted_boundary_by_one_more_ms_of_lateness():
    # the same stream with L = 6: end - 1 + L = 15 > 14, so the last record is accepted and re-fires the window
    run = run_windows(_lateness_scenario(6), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=6)
    assert run.outcomes[-1].status == "late-accepted"
    assert run.results[-2:] == [
        WindowResult(0, 10, 5101.0, 3, "update", 14, 4),
        WindowResult(10, 20, 1010.0, 2, "final-flush", END_OF_STREAM, 5),
    ]
    assert run.side_output == []


def test_state_is_purged_when_the_watermark_reaches_end_minus_one_plus_lateness():
    # L = 5: window [0, 10) is kept through watermark 13 and deleted at watermark 14, on the step of record 15
    run = run_windows(_lateness_scenario(6), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=5, flush=False)
    assert run.purges == [WindowPurge(0, 10, 14, 3)]
    # L = 0: fire and purge on the same step
    run = run_windows(recs(1, 10), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=0, flush=False)
    assert run.purges == [WindowPurge(0, 10, 9, 1)]
    assert run.results[0].arrival == 1


def test_flush_purges_everything_left_and_no_flush_keeps_it():
    records = [Record(1, 1.0), Record(20, 1.0)]
    kept = run_windows(records, window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=50, flush=False)
    assert kept.purges == []  # window 0 fired but is kept for late records; window 20 is open
    flushed = run_windows(records, window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=50, flush=True)
    assert flushed.purges == [WindowPurge(0, 10, END_OF_STREAM, 2), WindowPurge(20, 30, END_OF_STREAM, 2)]


def test_lateness_zero_never_accepts_a_late_record():
    # the window fires at watermark 9 and is purged at the same step: a record for it is dropped, not updated
    run = run_windows(recs(1, 10, 9, 0), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=0)
    assert statuses(run) == ["on-time", "on-time", "dropped", "dropped"]
    assert [r.kind for r in run.results] == ["first", "final-flush"]


def test_late_record_for_a_window_that_never_fired_emits_its_first_result():
    # window [0, 10) was empty when the watermark passed it; a record within lateness creates and fires it
    run = run_windows(recs(25, 5), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=100, flush=False)
    assert run.outcomes[1].status == "late-accepted"
    assert run.results == [WindowResult(0, 10, 1.0, 1, "first", 24, 1)]


def test_purged_window_stays_purged_later_records_are_dropped():
    run = run_windows(recs(1, 30, 2, 3), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=20)
    # watermark 29 = end - 1 + L: window [0, 10) is gone; nothing for it is accepted again
    assert statuses(run) == ["on-time", "on-time", "dropped", "dropped"]
    assert [r.window_start_ms for r in run.results if r.window_start_ms == 0] == [0]


def test_each_late_accepted_record_emits_one_update_with_the_full_corrected_total():
    run = run_windows(
        [Record(1, 1.0), Record(20, 0.0), Record(2, 2.0), Record(3, 4.0)],
        window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=50, flush=False,
    )
    assert [(r.kind, r.total, r.count) for r in run.results if r.window_start_ms == 0] == [
        ("first", 1.0, 1),
        ("update", 3.0, 2),
        ("update", 7.0, 3),
    ]


# --- end of stream -------------------------------------------------------------------------------------


def test_flush_on_fires_every_remaining_window_at_long_max():
    run = run_windows(recs(1, 11, 20, 25), window_ms=10, watermark_delay_ms=10, flush=True)
    assert [(r.window_start_ms, r.kind, r.count) for r in run.results] == [
        (0, "first", 1),
        (10, "final-flush", 1),
        (20, "final-flush", 2),
    ]
    assert run.results[0].arrival == 2
    assert all(r.watermark_ms == END_OF_STREAM and r.arrival == 4 for r in run.results[1:])
    assert run.final_watermark_ms == END_OF_STREAM
    assert run.open_windows == []
    assert run.watermarks == [-10, 0, 9, 14]  # the flush is not part of the per-record trajectory


def test_flush_off_leaves_unfired_windows_open_and_silent():
    run = run_windows(recs(1, 11, 20, 25), window_ms=10, watermark_delay_ms=10, flush=False)
    assert [(r.window_start_ms, r.kind) for r in run.results] == [(0, "first")]
    assert run.open_windows == [WindowTotal(10, 20, 1.0, 1), WindowTotal(20, 30, 2.0, 2)]
    assert run.final_watermark_ms == 14
    assert not run.flushed


def test_flush_does_not_repeat_windows_that_already_fired():
    run = run_windows(recs(1, 30, 2), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=100, flush=True)
    assert [(r.window_start_ms, r.kind) for r in run.results] == [(0, "first"), (0, "update"), (30, "final-flush")]


def test_empty_input():
    run = run_windows([], window_ms=10, watermark_delay_ms=0)
    assert run.results == [] and run.outcomes == [] and run.watermarks == []
    assert run.final_watermark_ms == END_OF_STREAM
    assert recompute([], 10) == [] and compare(run) == []


# --- reprocessing --------------------------------------------------------------------------------------


def test_recompute_sums_every_record_per_window_regardless_of_order():
    log = purchase_stream(2_000, 3, late_share=0.2, late_by_ms=40_000, start_ms=1_700_000_000_000)
    truth = recompute(log, 10_000)
    by_hand: dict[int, list[float]] = {}
    for r in log:
        by_hand.setdefault(r.event_time_ms // 10_000 * 10_000, []).append(r.value)
    assert [(w.window_start_ms, w.count) for w in truth] == [(s, len(v)) for s, v in sorted(by_hand.items())]
    assert all(math.isclose(w.total, sum(by_hand[w.window_start_ms]), rel_tol=1e-12) for w in truth)
    shuffled = log[:]
    random.Random(1).shuffle(shuffled)
    assert recompute(shuffled, 10_000) == truth  # exactly equal, not just close
    assert recompute(sorted(log), 10_000) == truth


def test_without_drops_the_final_emitted_totals_equal_the_recomputed_ones_exactly():
    log = purchase_stream(3_000, 5, late_share=0.1, late_by_ms=8_000, start_ms=1_700_000_000_000, mean_gap_ms=100)
    run = run_windows(log, 5_000, watermark_delay_ms=2_000, allowed_lateness_ms=60_000)
    assert run.side_output == []
    rows = compare(run)
    assert all(r.final_total == r.true_total and r.dropped_count == 0 for r in rows)
    assert sum(r.emitted for r in rows) == len(run.results)


def test_compare_reports_first_final_true_and_what_was_dropped():
    run = run_windows(_lateness_scenario(6), window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=5)
    rows = compare(run)
    w0 = rows[0]
    assert (w0.window_start_ms, w0.first_total, w0.final_total, w0.true_total) == (0, 1.0, 101.0, 5101.0)
    assert (w0.true_count, w0.emitted, w0.dropped_count, w0.dropped_total) == (3, 2, 1, 5000.0)
    assert w0.final_total + w0.dropped_total == w0.true_total
    w1 = rows[1]
    assert (w1.first_total, w1.final_total, w1.true_total, w1.emitted) == (1010.0, 1010.0, 1010.0, 1)


def test_compare_against_a_fuller_log_and_windows_that_never_emitted():
    run = run_windows(recs(1, 11), window_ms=10, watermark_delay_ms=0, flush=False)
    rows = compare(run, log=recs(1, 11, 12, 30))
    assert [(r.window_start_ms, r.first_total, r.final_total, r.true_count, r.emitted) for r in rows] == [
        (0, 1.0, 1.0, 1, 1),
        (10, None, None, 2, 0),
        (30, None, None, 1, 0),
    ]


def test_ten_thousand_records_are_consistent():
    log = purchase_stream(10_000, 11, late_share=0.1, late_by_ms=20_000, start_ms=1_700_000_000_000, mean_gap_ms=250)
    run = run_windows(log, 10_000, 1_000, 5_000)
    counts = run.counts()
    assert counts["on-time"] + counts["late-accepted"] + counts["dropped"] == 10_000
    assert counts["late-accepted"] > 0 and counts["dropped"] > 0
    first_accepted: dict[int, str] = {}
    for o in run.outcomes:
        if o.status != "dropped":
            first_accepted.setdefault(o.window_start_ms, o.status)
    # every window that accepted something says its first word exactly once ...
    assert counts["first"] + counts["final-flush"] == len(first_accepted)
    # ... and every late-accepted record makes it speak once more, unless it was that first word
    opened_late = sum(1 for s in first_accepted.values() if s == "late-accepted")
    assert counts["update"] == counts["late-accepted"] - opened_late
    assert len(run.side_output) == counts["dropped"]
    assert [o.arrival for o in run.outcomes] == list(range(10_000))
    assert all(a <= b for a, b in zip(run.watermarks, run.watermarks[1:]))
    for row in compare(run, log):
        assert row.emitted >= 1  # flushed: every window with records said something
        assert math.isclose(row.final_total + row.dropped_total, row.true_total, rel_tol=1e-9, abs_tol=1e-9)


# --- parameters ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "delay", "lateness", "message"),
    [
        (0, 0, 0, "window_ms=0: zero (allowed: a whole number of 1 or more ms)"),
        (-10, 0, 0, "window_ms=-10"),
        (1.5, 0, 0, "window_ms=1.5: not a whole number"),
        (10, -1, 0, "watermark_delay_ms=-1: negative (allowed: a whole number of 0 or more ms)"),
        (10, 0, -5, "allowed_lateness_ms=-5: negative (allowed: a whole number of 0 or more ms)"),
    ],
)
def test_bad_settings_are_refused_with_a_readable_message(window, delay, lateness, message):
    with pytest.raises(LabError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_windows(recs(1), window, delay, lateness)


def test_every_bad_setting_is_named_in_one_message():
    with pytest.raises(LabError) as info:
        check_window_params(0, -1, -2)
    assert str(info.value).count(";") == 2


# --- the purchase generator ----------------------------------------------------------------------------

START = 1_700_000_000_000


def test_generator_is_deterministic_for_a_seed():
    kwargs = dict(out_of_orderness_ms=1500, late_share=0.2, late_by_ms=9000, start_ms=START, mean_gap_ms=300)
    a = purchase_stream(500, 42, **kwargs)
    assert a == purchase_stream(500, 42, **kwargs)
    assert a != purchase_stream(500, 43, **kwargs)
    # pinned, so the chapter's numbers do not drift between Python versions or refactorings
    assert a[:2] == [
        Record(START, 3.89, "customer-11", START + 335),
        Record(START + 338, 11.15, "customer-16", START + 382),
    ]
    assert round(sum(r.value for r in a), 2) == 15264.14
    assert max(r.event_time_ms for r in a) == START + 152_195
    assert sum(1 for r in a if r.processing_time_ms - r.event_time_ms > 1500) == 94


def test_generator_returns_arrival_order_and_respects_its_bounds():
    a = purchase_stream(2_000, 9, out_of_orderness_ms=700, late_share=0.25, late_by_ms=5_000, start_ms=START)
    arrivals = [r.processing_time_ms for r in a]
    assert arrivals == sorted(arrivals)
    assert min(r.event_time_ms for r in a) == START
    lags = [r.processing_time_ms - r.event_time_ms for r in a]
    on_time = [x for x in lags if x <= 700]
    held = [x for x in lags if x > 700]
    assert all(5_000 <= x <= 5_700 for x in held)
    assert 0.2 < len(held) / len(a) < 0.3
    assert len(on_time) + len(held) == len(a)
    assert all(isinstance(r.event_time_ms, int) and r.value > 0 and r.key.startswith("customer-") for r in a)


def test_delay_at_least_the_out_of_orderness_makes_only_held_up_records_late():
    a = purchase_stream(3_000, 4, out_of_orderness_ms=800, late_share=0.0, start_ms=START, mean_gap_ms=50)
    assert any(x.event_time_ms < y.event_time_ms for y, x in zip(a, a[1:]))  # really out of order
    run = run_windows(a, 1_000, watermark_delay_ms=800)
    assert set(statuses(run)) == {"on-time"}
    run = run_windows(a, 1_000, watermark_delay_ms=100)
    assert "dropped" in statuses(run)


@pytest.mark.parametrize(
    "bad",
    [dict(n=-1), dict(late_share=1.5), dict(late_share=-0.1), dict(out_of_orderness_ms=-1), dict(mean_gap_ms=0)],
)
def test_generator_refuses_bad_arguments(bad):
    args = dict(n=10, seed=1, start_ms=START) | bad
    with pytest.raises(LabError):
        purchase_stream(**args)


def test_suggested_start_is_in_the_recent_past_and_aligned():
    now = 1_760_000_123_456
    start = suggest_start_ms(10_000, 250, now_ms=now)
    assert start % 3_600_000 == 0
    assert start + 10_000 * 250 * 2 <= now
    assert now - start < 3 * 86_400_000
    with pytest.raises(LabError, match="more than 3 days"):
        suggest_start_ms(1_000_000, 1_000, now_ms=now)


# --- a slow reference engine ---------------------------------------------------------------------------


def reference_run(records, size, delay, lateness, flush):
    """Straight from the rules: rescan every window after every record (O(n * windows))."""
    wm = NO_WATERMARK
    max_seen = None
    state: dict[int, list[float]] = {}
    fired: set[int] = set()
    results, outcomes, purges = [], [], []
    for i, r in enumerate(records):
        start = r.event_time_ms // size * size
        end = start + size
        if end - 1 + lateness <= wm:
            status = "dropped"
        elif end - 1 <= wm:
            status = "late-accepted"
            state.setdefault(start, []).append(r.value)
            kind = "update" if start in fired else "first"
            fired.add(start)
            results.append(WindowResult(start, end, math.fsum(state[start]), len(state[start]), kind, wm, i))
        else:
            status = "on-time"
            state.setdefault(start, []).append(r.value)
        outcomes.append(RecordOutcome(i, r.event_time_ms, r.value, r.key, start, end, status, wm))
        max_seen = r.event_time_ms if max_seen is None else max(max_seen, r.event_time_ms)
        wm = max(wm, max_seen - delay - 1)
        for s in sorted(state):
            if s not in fired and s + size - 1 <= wm:
                fired.add(s)
                results.append(WindowResult(s, s + size, math.fsum(state[s]), len(state[s]), "first", wm, i))
        for s in sorted(state):
            if s in fired and s + size - 1 + lateness <= wm:
                del state[s]
                purges.append(WindowPurge(s, s + size, wm, i))
    if flush:
        for s in sorted(state):
            if s not in fired:
                results.append(
                    WindowResult(s, s + size, math.fsum(state[s]), len(state[s]), "final-flush", END_OF_STREAM,
                                 len(records))
                )
        purges += [WindowPurge(s, s + size, END_OF_STREAM, len(records)) for s in sorted(state)]
    return results, outcomes, purges


@pytest.mark.parametrize("seed", range(12))
def test_fast_engine_matches_the_reference_on_random_streams(seed):
    rnd = random.Random(seed)
    size = rnd.choice([1, 2, 5, 10, 37])
    delay = rnd.choice([0, 0, 1, 3, 10])
    lateness = rnd.choice([0, 0, 1, 4, 25])
    flush = rnd.random() < 0.5
    records = [Record(rnd.randrange(0, 300), float(rnd.randrange(1, 50)), None) for _ in range(400)]
    # mostly increasing with bursts of disorder, plus exact duplicates
    records.sort(key=lambda r: r.event_time_ms + rnd.randrange(0, 40))
    records += records[:20]
    run = run_windows(records, size, delay, lateness, flush=flush)
    results, outcomes, purges = reference_run(records, size, delay, lateness, flush)
    assert run.outcomes == outcomes
    assert run.results == results
    assert run.purges == purges
    assert {o.status for o in run.outcomes} >= {"on-time"}


# --- tables and timing ---------------------------------------------------------------------------------


def test_at_and_clock_are_inverse_to_the_millisecond():
    assert (MINUTE, HOUR, DAY) == (60_000, 3_600_000, 86_400_000)
    assert at("2026-11-02 09:05") == 1_793_610_300_000
    assert clock(at("2026-11-02 09:05") + HOUR - 1) == "Mon 10:04:59.999"
    assert (clock(None), clock(float("nan")), clock(NO_WATERMARK), clock(END_OF_STREAM)) == (
        "", "", "none yet", "end of stream")


def test_readable_turns_every_ms_column_into_a_clock():
    run = run_windows([Record(at("2026-11-02 09:05"), 2.5, "k")], HOUR, 0)
    table = readable(run.results)
    assert list(table.columns) == ["window_start", "window_end", "total", "count", "kind", "watermark", "arrival"]
    assert table.loc[0, "window_start"] == "Mon 09:00:00.000" and table.loc[0, "watermark"] == "end of stream"
    assert readable(run.outcomes_frame()).loc[0, "event_time"] == "Mon 09:05:00.000"


def test_speed_times_both_passes():
    timing = speed(recs(*range(100)), 10, 2, 5, repeat=2)
    assert timing.records == 100 and timing.streaming_ms > 0 and timing.recompute_ms > 0
    with pytest.raises(LabError, match="repeat"):
        speed(recs(1), 10, 0, repeat=0)

"""Unit tests for kafkalab.widgets.lateness: the two figures, the summary and the replay widget (no Kafka)."""
from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from kafkalab.errors import LabError
from kafkalab.lateness.engine import NO_WATERMARK, Record, compare, run_windows
from kafkalab.lateness.generator import ReplayParams, simulated_run
from kafkalab.widgets.lateness import (
    LatenessReplay,
    event_time_figure,
    lateness_summary,
    replay_widget,
    window_totals_figure,
)

START = 1_700_000_000_000  # fixed, so every run here is the same


def small_run(flush: bool = True):
    """Window [0, 10) fires at watermark 13, takes one late record, then loses one (see test_lateness.py)."""
    records = [Record(1, 1.0), Record(14, 10.0), Record(5, 100.0), Record(15, 1000.0), Record(6, 5000.0)]
    return run_windows(records, window_ms=10, watermark_delay_ms=0, allowed_lateness_ms=5, flush=flush)


class Recorder:
    """A pure ``run_fn`` that remembers what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[ReplayParams] = []

    def __call__(self, params: ReplayParams) -> list[Record]:
        self.calls.append(params)
        return simulated_run(params)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def replay(recorder: Recorder) -> LatenessReplay:
    return replay_widget(recorder, start_ms=START, replay_now=False)


# --- figures and summary -------------------------------------------------------------------------------


def test_event_time_figure_has_one_trace_per_verdict_the_watermark_and_the_results():
    fig = event_time_figure(small_run())
    names = [t.name for t in fig.data]
    assert names == [
        "on-time (3)",
        "late-accepted (1)",
        "dropped (1)",
        "watermark (max − 0 ms − 1)",
        "result: first (1)",
        "result: update (1)",
        "result: final-flush (1)",
    ]
    dropped = fig.data[2]
    assert list(dropped.x) == [6] and list(dropped.y) == [4]
    watermark = fig.data[3]
    # the line gives, on each row, the watermark that row's record was judged against; None before any
    assert list(watermark.x) == [None, 0, 13, 13, 14]
    assert list(watermark.y) == [0, 1, 2, 3, 4]
    assert watermark.line.shape == "vh"
    flush = fig.data[6]
    assert list(flush.x) == [20] and list(flush.y) == [5]  # drawn at the window end, one row after the last


def test_event_time_figure_shades_every_other_window_pane():
    fig = event_time_figure(small_run())
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(0, 10)]  # panes [0,10) shaded, [10,20) not
    many = run_windows([Record(t, 1.0) for t in range(0, 100, 3)], window_ms=10, watermark_delay_ms=0)
    assert [s.x0 for s in event_time_figure(many).layout.shapes] == [0, 20, 40, 60, 80]


def test_real_epoch_times_are_drawn_as_dates_and_serialise():
    run = run_windows(simulated_run(ReplayParams(start_ms=START)), 10_000, 2_000, 5_000)
    fig = event_time_figure(run)
    assert fig.layout.xaxis.title.text == "event time (UTC)"
    assert str(fig.data[0].x[0]).startswith("2023-11-14")
    json.loads(fig.to_json())
    bars = window_totals_figure(run)
    json.loads(bars.to_json())


def test_window_totals_figure_shows_first_final_and_true_per_window():
    run = small_run()
    fig = window_totals_figure(run)
    assert [t.name for t in fig.data] == ["first emitted", "final emitted", "true (recomputed from the log)"]
    assert list(fig.data[0].x) == ["0", "10"]
    assert list(fig.data[0].y) == [1.0, 1010.0]
    assert list(fig.data[1].y) == [101.0, 1010.0]
    assert list(fig.data[2].y) == [5101.0, 1010.0]
    assert fig.layout.barmode == "group"
    assert window_totals_figure(compare(run)).to_dict()["data"] == fig.to_dict()["data"]


def test_window_that_never_emitted_has_no_stream_bars():
    fig = window_totals_figure(small_run(flush=False))
    assert list(fig.data[0].y) == [1.0, None]
    assert list(fig.data[2].y) == [5101.0, 1010.0]


def test_summary_counts():
    assert lateness_summary(small_run()) == {
        "records": 5,
        "on_time": 3,
        "late_accepted": 1,
        "dropped": 1,
        "windows": 2,
        "results": 3,
        "first": 1,
        "updates": 1,
        "final_flush": 1,
        "open_windows": 0,
        "windows_short": 1,
        "dropped_value": 5000.0,
    }
    unflushed = lateness_summary(small_run(flush=False))
    assert (unflushed["open_windows"], unflushed["final_flush"], unflushed["windows_short"]) == (1, 0, 2)


# --- parameters ----------------------------------------------------------------------------------------


def test_default_params_are_valid_and_feed_the_generator():
    p = ReplayParams(start_ms=START)
    assert p.problems() == []
    assert p.stream_kwargs() == {
        "seed": 7, "out_of_orderness_ms": 2000, "late_share": 0.1, "late_by_ms": 15000,
        "start_ms": START, "mean_gap_ms": 250, "n": 300,
    }
    assert len(simulated_run(p)) == 300


@pytest.mark.parametrize(
    ("change", "phrase"),
    [
        ({"watermark_delay_ms": -1}, "watermark_delay_ms=-1: negative (allowed: a whole number of 0 or more ms)"),
        ({"window_ms": 0}, "window_ms=0: zero (allowed: a whole number of 1 or more ms)"),
        ({"late_share": 1.5}, "late_share=1.5: too large (allowed: a number from 0 to 1)"),
        ({"late_share": -0.01}, "late_share=-0.01: negative (allowed: a number from 0 to 1)"),
        ({"allowed_lateness_ms": -5}, "allowed_lateness_ms=-5: negative (allowed: a whole number of 0 or more ms)"),
        ({"out_of_orderness_ms": -2}, "out_of_orderness_ms=-2: negative (allowed: a whole number of 0 or more ms)"),
        ({"seed": True}, "seed=True: a yes/no value, not a number (allowed: a whole number)"),
    ],
)
def test_each_bad_value_is_named(change, phrase):
    assert ReplayParams(start_ms=START, **change).problems() == [phrase]


# --- the widget ----------------------------------------------------------------------------------------


def test_replay_draws_counts_and_both_figures(replay: LatenessReplay, recorder: Recorder):
    assert replay.output.outputs == () and replay.last_run is None  # replay_now=False: nothing yet
    run = replay.replay()
    assert run is replay.last_run and run is not None
    assert len(recorder.calls) == 1 and recorder.calls[0].start_ms == START
    assert replay.status.value == ""
    kinds = [list(o["data"]) for o in replay.output.outputs]
    assert "text/html" in kinds[0]
    assert all("application/vnd.plotly.v1+json" in k or "text/html" in k for k in kinds[1:]) and len(kinds) == 3
    html = replay.output.outputs[0]["data"]["text/html"]
    assert f"<b>{replay.last_summary['dropped']}</b><br>dropped" in html
    assert replay.last_summary == lateness_summary(run)
    assert sum(replay.last_summary[k] for k in ("on_time", "late_accepted", "dropped")) == 300
    timeline, bars = replay.last_figures
    assert isinstance(timeline, go.Figure) and isinstance(bars, go.Figure)


def test_controls_reach_run_fn_and_engine(replay: LatenessReplay, recorder: Recorder):
    run = replay.replay(seed=11, window_ms=5_000, watermark_delay_ms=0, allowed_lateness_ms=0, flush=False)
    p = recorder.calls[-1]
    assert (p.seed, p.window_ms, p.watermark_delay_ms, p.allowed_lateness_ms, p.flush) == (11, 5000, 0, 0, False)
    assert (run.window_ms, run.watermark_delay_ms, run.allowed_lateness_ms, run.flushed) == (5000, 0, 0, False)
    assert run.counts()["late-accepted"] == 0  # no allowed lateness: late means dropped
    assert replay.controls["seed"].value == 11


@pytest.mark.parametrize(
    "bad",
    [{"watermark_delay_ms": -100}, {"window_ms": 0}, {"late_share": 1.2}, {"late_share": -0.5}],
)
def test_bad_values_show_one_red_line_and_lose_nothing(replay: LatenessReplay, recorder: Recorder, bad):
    good = replay.replay()
    before = (replay.output.outputs, replay.last_run, replay.last_summary, replay.last_figures)
    assert replay.replay(**bad) is None
    assert "color:#c00" in replay.status.value
    assert "\n" not in replay.status.value and "<br" not in replay.status.value
    assert (replay.output.outputs, replay.last_run, replay.last_summary, replay.last_figures) == before
    assert replay.last_run is good
    (name, value), = bad.items()
    assert replay.controls[name].value == value  # what the learner typed is still there to fix
    assert len(recorder.calls) == 1  # the bad replay did not even fetch records


def test_several_bad_values_still_make_one_line(replay: LatenessReplay):
    replay.replay(window_ms=0, watermark_delay_ms=-1, late_share=2.0)
    status = replay.status.value
    assert status.count("<span") == 1
    for phrase in ("window_ms=0", "watermark_delay_ms=-1", "late_share=2.0"):
        assert phrase in status


def test_a_good_replay_after_a_bad_one_clears_the_red_line(replay: LatenessReplay):
    replay.replay(window_ms=0)
    assert replay.status.value
    assert replay.replay(window_ms=10_000) is not None
    assert replay.status.value == ""


def test_a_failing_run_fn_is_one_red_line_and_keeps_the_last_picture():
    calls = []

    def flaky(params: ReplayParams) -> list[Record]:
        calls.append(params)
        if len(calls) > 1:
            raise LabError("no Kafka answers at 127.0.0.1:9092. Start the course cluster with `make up`")
        return simulated_run(params)

    replay = replay_widget(flaky, start_ms=START)  # replays once on creation
    before = replay.output.outputs
    assert replay.replay() is None
    assert "LabError: no Kafka answers" in replay.status.value
    assert replay.output.outputs is before


def test_message_text_is_escaped():
    def boom(params: ReplayParams) -> list[Record]:
        raise RuntimeError("<script>alert(1)</script>\nsecond line")

    replay = replay_widget(boom, start_ms=START, replay_now=False)
    replay.replay()
    assert "<script>" not in replay.status.value
    assert "&lt;script&gt;" in replay.status.value
    assert "\n" not in replay.status.value


def test_button_click_replays(replay: LatenessReplay, recorder: Recorder):
    replay.button.click()
    assert len(recorder.calls) == 1 and replay.last_run is not None


def test_unknown_control_is_a_type_error(replay: LatenessReplay):
    with pytest.raises(LabError, match="unknown control 'colour'"):
        replay.replay(colour="red")


def test_widget_defaults_can_be_overridden_and_start_is_suggested_when_absent(recorder: Recorder):
    replay = replay_widget(recorder, n=50, window_ms=4_000, replay_now=False)
    assert replay.controls["window_ms"].value == 4_000
    assert replay.params().n == 50
    assert replay.params().start_ms % 3_600_000 == 0  # suggest_start_ms: aligned, in the recent past
    assert len(replay.replay().outcomes) == 50
    assert NO_WATERMARK == replay.last_run.outcomes[0].watermark_ms


def test_daily_windows_are_labelled_with_their_date():
    day = 86_400_000
    run = run_windows([Record(START + k * day, 1.0) for k in range(3)], window_ms=day, watermark_delay_ms=0)
    labels = list(window_totals_figure(run).data[0].x)
    assert labels == ["2023-11-14 00:00:00", "2023-11-15 00:00:00", "2023-11-16 00:00:00"]

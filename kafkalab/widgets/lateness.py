"""Pictures and a replay widget for the late-data engine (Chapter 9: Handling late data).

Two figures explain one run of :func:`kafkalab.lateness.engine.run_windows`:

* :func:`event_time_figure`: event time across, arrival order up, the way Akidau's *Streaming Systems* draws
  it. Every record is a dot coloured by its verdict, the watermark is a step line (its position on a row is
  the watermark that row's record was judged against), window panes are alternating shaded bands and every
  emitted result is a diamond at its window's end, on the row of the record that caused it.
* :func:`window_totals_figure`: per window, the first emitted total, the final emitted total and the true
  total recomputed from the whole log.

:class:`LatenessReplay` (built by :func:`replay_widget`) wires both to ipywidgets controls. Where the
records come from is injected: the chapter passes a function that writes the stream to a Kafka topic and
reads it back (:func:`kafkalab.lateness.replay.topic_run_fn`); tests pass
:func:`kafkalab.lateness.generator.simulated_run`. Live callbacks need JupyterLab or Binder; the book shows
the state saved with the notebook.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import plotly.graph_objects as go

from ..errors import LabError
from ..lateness.engine import END_OF_STREAM, NO_WATERMARK, LatenessRun, Record, WindowComparison, compare, run_windows
from ..lateness.generator import ReplayParams, simulated_run, suggest_start_ms
from .outputs import show

COLOURS = {
    "on-time": "#4C78A8",
    "late-accepted": "#F58518",
    "dropped": "#E45756",
    "watermark": "#222222",
    "first": "#54A24B",
    "update": "#F58518",
    "final-flush": "#B279A2",
    "true": "#9D9D9D",
}
#: Above this many windows the shaded panes are left out (each is a plotly shape; thousands slow a page).
MAX_BANDS = 400
_EPOCH_MS_2001 = 978_307_200_000  # event times at or after this are drawn as dates, smaller ones as plain ms


def _uses_dates(run: LatenessRun) -> bool:
    return bool(run.outcomes) and min(o.event_time_ms for o in run.outcomes) >= _EPOCH_MS_2001


def _axis(values: Sequence[int | None], dates: bool) -> list[Any]:
    """Milliseconds as plotly x values: datetimes (UTC) for real epochs, plain numbers otherwise."""
    if not dates:
        return list(values)
    import pandas as pd

    return [None if v is None else pd.Timestamp(v, unit="ms") for v in values]


def event_time_figure(run: LatenessRun, title: str | None = None) -> go.Figure:
    """Scatter of event time (x) against arrival order (y), coloured by verdict, with watermark and panes."""
    dates = _uses_dates(run)
    names = _labels(sorted({o.window_start_ms for o in run.outcomes}), dates)
    fig = go.Figure()
    for status in ("on-time", "late-accepted", "dropped"):
        rows = [o for o in run.outcomes if o.status == status]
        fig.add_trace(
            go.Scatter(
                x=_axis([o.event_time_ms for o in rows], dates),
                y=[o.arrival for o in rows],
                mode="markers",
                name=f"{status} ({len(rows)})",
                marker={"color": COLOURS[status], "size": 6, "symbol": "x" if status == "dropped" else "circle"},
                customdata=[[o.value, names[o.window_start_ms], _wm_text(o.watermark_ms, dates)] for o in rows],
                hovertemplate="arrival %{y}<br>event time %{x}<br>value %{customdata[0]:.2f}"
                "<br>window from %{customdata[1]}<br>watermark at arrival %{customdata[2]}<extra></extra>",
            )
        )
    judged = [None if o.watermark_ms == NO_WATERMARK else o.watermark_ms for o in run.outcomes]
    fig.add_trace(
        go.Scatter(
            x=_axis(judged, dates),
            y=[o.arrival for o in run.outcomes],
            mode="lines",
            line={"color": COLOURS["watermark"], "width": 1.5, "shape": "vh"},
            name=f"watermark (max − {run.watermark_delay_ms} ms − 1)",
            hovertemplate="arrival %{y}<br>watermark %{x}<extra></extra>",
        )
    )
    n = len(run.outcomes)
    for kind in ("first", "update", "final-flush"):
        rows = [r for r in run.results if r.kind == kind]
        if not rows:
            continue
        fig.add_trace(
            go.Scatter(
                x=_axis([r.window_end_ms for r in rows], dates),
                y=[min(r.arrival, n) for r in rows],
                mode="markers",
                name=f"result: {kind} ({len(rows)})",
                marker={"color": COLOURS[kind], "size": 10, "symbol": "diamond", "line": {"width": 1}},
                customdata=[[names.get(r.window_start_ms, r.window_start_ms), r.total, r.count] for r in rows],
                hovertemplate="window from %{customdata[0]}<br>total %{customdata[1]:.2f}"
                " (%{customdata[2]} records)<extra>" + kind + "</extra>",
            )
        )
    fig.update_layout(shapes=_bands(run, dates))
    fig.update_layout(
        title=title
        or f"Event time vs arrival: window {run.window_ms} ms, delay {run.watermark_delay_ms} ms, "
        f"allowed lateness {run.allowed_lateness_ms} ms",
        xaxis_title="event time" + (" (UTC)" if dates else " (ms)"),
        yaxis_title="arrival order (processing time →)",
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
        height=480,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
    )
    return fig


def _wm_text(watermark_ms: int, dates: bool) -> str:
    """A watermark for a hover label: the sentinels by name, real ones like the axis."""
    if watermark_ms == NO_WATERMARK:
        return "none yet (Long.MIN_VALUE)"
    if watermark_ms == END_OF_STREAM:
        return "end of stream (Long.MAX_VALUE)"
    return str(_axis([watermark_ms], dates)[0])


def _bands(run: LatenessRun, dates: bool) -> list[dict[str, Any]]:
    """Every other window pane as a light vertical band, so window edges are visible."""
    if not run.outcomes:
        return []
    size = run.window_ms
    lo = min(o.window_start_ms for o in run.outcomes)
    hi = max(o.window_end_ms for o in run.outcomes)
    if (hi - lo) // size > MAX_BANDS:
        return []
    shapes = []
    for k, start in enumerate(range(lo, hi, size)):
        if k % 2:
            continue
        x0, x1 = _axis([start, start + size], dates)
        shapes.append(
            {
                "type": "rect", "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1,
                "fillcolor": "#B0B0B0", "opacity": 0.15, "line": {"width": 0}, "layer": "below",
            }
        )
    return shapes


def window_totals_figure(rows: LatenessRun | Sequence[WindowComparison], title: str | None = None) -> go.Figure:
    """Grouped bars per window: first emitted, final emitted and true (recomputed) total."""
    if isinstance(rows, LatenessRun):
        rows = compare(rows)
    dates = bool(rows) and rows[0].window_start_ms >= _EPOCH_MS_2001
    names = _labels([r.window_start_ms for r in rows], dates)
    labels = [names[r.window_start_ms] for r in rows]
    hover = [f"{r.dropped_count} dropped ({r.dropped_total:.2f}); {r.emitted} result(s)" for r in rows]
    fig = go.Figure()
    for name, values, colour in (
        ("first emitted", [r.first_total for r in rows], COLOURS["first"]),
        ("final emitted", [r.final_total for r in rows], COLOURS["update"]),
        ("true (recomputed from the log)", [r.true_total for r in rows], COLOURS["true"]),
    ):
        fig.add_trace(
            go.Bar(
                x=labels, y=values, name=name, marker_color=colour, customdata=hover,
                hovertemplate="%{x}: %{y:.2f}<br>%{customdata}<extra>" + name + "</extra>",
            )
        )
    fig.update_layout(
        barmode="group",
        title=title or "Window totals: what the stream said first, said last, and what the log says",
        xaxis_title="window start" + (" (UTC)" if dates else " (ms)"),
        yaxis_title="total",
        xaxis={"type": "category"},
        legend={"orientation": "h", "y": -0.2},
        template="plotly_white",
        height=380,
        margin={"l": 60, "r": 20, "t": 60, "b": 40},
    )
    return fig


def _labels(starts: Sequence[int], dates: bool) -> dict[int, str]:
    """Readable window names: plain ms, or UTC clock times (with the date when the windows span days)."""
    if not dates:
        return {s: str(s) for s in starts}
    import pandas as pd

    stamps = {s: pd.Timestamp(s, unit="ms") for s in starts}
    fmt = "%H:%M:%S.%f" if len({t.date() for t in stamps.values()}) <= 1 else "%Y-%m-%d %H:%M:%S.%f"
    return {s: t.strftime(fmt)[:-3].removesuffix(".000") for s, t in stamps.items()}


def lateness_summary(run: LatenessRun) -> dict[str, float | int]:
    """Counts for one run: records per verdict, results per kind, windows, and the value dropped."""
    counts = run.counts()
    rows = compare(run)
    return {
        "records": len(run.outcomes),
        "on_time": counts["on-time"],
        "late_accepted": counts["late-accepted"],
        "dropped": counts["dropped"],
        "windows": len(rows),
        "results": len(run.results),
        "first": counts["first"],
        "updates": counts["update"],
        "final_flush": counts["final-flush"],
        "open_windows": len(run.open_windows),
        "windows_short": sum(1 for r in rows if r.dropped_count or r.final_total is None),
        "dropped_value": round(sum(r.dropped_total for r in rows), 2),
    }


def _summary_html(summary: dict[str, float | int]) -> str:
    cells = "".join(f"<td style='padding:0 .8em'><b>{v}</b><br>{html.escape(k)}</td>" for k, v in summary.items())
    return f"<table><tr>{cells}</tr></table>"


class LatenessReplay:
    """Controls, a Replay button, a one-line status and an Output with the counts and both figures."""

    def __init__(self, run_fn: Callable[[ReplayParams], Sequence[Record]], defaults: ReplayParams) -> None:
        import ipywidgets as w

        self.run_fn = run_fn
        self.defaults = defaults
        style = {"description_width": "170px"}
        layout = w.Layout(width="300px")
        self.controls: dict[str, Any] = {
            "out_of_orderness_ms": w.IntText(defaults.out_of_orderness_ms, description="out-of-orderness (ms)"),
            "late_share": w.FloatText(defaults.late_share, description="share of late records", step=0.05),
            "watermark_delay_ms": w.IntText(defaults.watermark_delay_ms, description="watermark delay (ms)"),
            "allowed_lateness_ms": w.IntText(defaults.allowed_lateness_ms, description="allowed lateness (ms)"),
            "window_ms": w.IntText(defaults.window_ms, description="window size (ms)"),
            "seed": w.IntText(defaults.seed, description="seed"),
            "flush": w.Checkbox(defaults.flush, description="flush at end of stream", indent=False),
        }
        for c in self.controls.values():
            if not isinstance(c, w.Checkbox):
                c.style, c.layout = style, layout
        self.button = w.Button(description="Replay", button_style="primary", icon="play")
        self.button.on_click(lambda _button: self.replay())
        self.status = w.HTML("")
        self.output = w.Output()
        keys = list(self.controls)
        self.widget = w.VBox(
            [
                w.HBox([w.VBox([self.controls[k] for k in keys[:3]]), w.VBox([self.controls[k] for k in keys[3:6]])]),
                w.HBox([self.controls["flush"], self.button]),
                self.status,
                self.output,
            ]
        )
        self.last_run: LatenessRun | None = None
        self.last_summary: dict[str, float | int] | None = None
        self.last_figures: tuple[go.Figure, go.Figure] | None = None

    def params(self) -> ReplayParams:
        """The current control values merged into the fixed defaults (not validated)."""
        return replace(self.defaults, **{k: c.value for k, c in self.controls.items()})

    def replay(self, **overrides: Any) -> LatenessRun | None:
        """Set any given controls, fetch the records, run the engine and redraw; on bad input keep everything."""
        for k, v in overrides.items():
            if k not in self.controls:
                raise LabError(f"unknown control {k!r}; choose from {sorted(self.controls)}")
            self.controls[k].value = v
        params = self.params()
        problems = params.problems()
        if problems:
            return self._fail("; ".join(problems))
        try:
            records = list(self.run_fn(params))
            run = run_windows(
                records, params.window_ms, params.watermark_delay_ms, params.allowed_lateness_ms, flush=params.flush
            )
        except Exception as e:  # noqa: BLE001 - the learner sees one line; the previous picture stays
            return self._fail(f"{type(e).__name__}: {e}")
        figures = (event_time_figure(run), window_totals_figure(run))
        summary = lateness_summary(run)
        self._draw(summary, figures)
        self.last_run, self.last_summary, self.last_figures = run, summary, figures
        self.status.value = ""
        return run

    def _fail(self, message: str) -> None:
        """Show one red line; leave the controls, the Output and the last run as they were."""
        line = " ".join(message.split())
        self.status.value = f"<span style='color:#c00'>⚠ {html.escape(line)}</span>"

    def _draw(self, summary: dict[str, float | int], figures: tuple[go.Figure, go.Figure]) -> None:
        """Replace the Output's content with the counts table and both figures."""
        show(self.output, {"text/html": _summary_html(summary), "text/plain": repr(summary)}, *figures)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


def replay_widget(
    run_fn: Callable[[ReplayParams], Sequence[Record]] = simulated_run,
    *,
    start_ms: int | None = None,
    replay_now: bool = True,
    **defaults: Any,
) -> LatenessReplay:
    """Build the replay widget; ``run_fn(params)`` returns the records in arrival order."""
    n = defaults.get("n", ReplayParams.n)
    gap = defaults.get("mean_gap_ms", ReplayParams.mean_gap_ms)
    start = start_ms if start_ms is not None else suggest_start_ms(n, gap)
    replay = LatenessReplay(run_fn, ReplayParams(start_ms=start, **defaults))
    if replay_now:
        replay.replay()
    return replay


__all__ = [
    "COLOURS",
    "LatenessReplay",
    "event_time_figure",
    "lateness_summary",
    "replay_widget",
    "window_totals_figure",
]

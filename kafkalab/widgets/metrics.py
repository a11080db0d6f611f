"""A live dashboard of the brokers' own metrics, redrawn while a chapter runs a load (Chapter 13: Monitoring).

The numbers come from :class:`kafkalab.metrics.Recorder` (the brokers' Jolokia agents); consumer-group lag from
:func:`kafkalab.io.groups.group_lag`. This module only draws: :func:`metrics_figure` is a plain plotly figure of
the recorder's history, and :class:`MetricsDashboard` redraws it into an ipywidgets ``Output`` every second while
the load runs (:meth:`MetricsDashboard.follow`). Live redrawing needs a running kernel (JupyterLab or Binder); the
book shows the dashboard as it was saved at the end of the run.
"""
from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable, Sequence

import ipywidgets as widgets

from ..metrics import BY_KEY, Recorder
from ..validate import number
from .outputs import show

#: The dashboard's panels: (title, [(metric key, scale, unit)]), drawn one line per broker and metric.
PANELS: tuple[tuple[str, tuple[str, ...], float, str], ...] = (
    ("messages in /s", ("messages_in",), 1.0, "msg/s"),
    ("MB in and out /s (replication excluded)", ("bytes_in", "bytes_out"), 1e6, "MB/s"),
    ("request time p50 / p99 (ms)", ("produce_p50", "produce_p99", "fetch_p99"), 1.0, "ms"),
    ("under-replicated, offline partitions", ("under_replicated", "offline"), 1.0, "partitions"),
    ("ISR shrinks and expands /s", ("isr_shrinks", "isr_expands"), 1.0, "per s"),
    ("replication MB in /s", ("replication_bytes_in",), 1e6, "MB/s"),
)
_DASH = {0: "solid", 1: "dot", 2: "dash"}
_COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756")


def metrics_figure(recorder: Recorder, panels=PANELS, title: str = "Broker metrics (Jolokia)"):
    """Small multiples of the recorder's history: one panel per entry of ``panels``, one line per broker and
    metric (the metric's position in the panel sets the dash), dashed red lines at the recorder's marks."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cols = 3
    rows = (len(panels) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[p[0] for p in panels], horizontal_spacing=0.07,
                        vertical_spacing=0.16)
    sources = sorted(recorder.ports)
    for i, (_, keys, scale, unit) in enumerate(panels):
        row, col = i // cols + 1, i % cols + 1
        for j, key in enumerate(keys):
            for k, source in enumerate(sources):
                pts = recorder.series(key, source)
                fig.add_trace(go.Scatter(
                    x=[round(t, 2) for t, _ in pts], y=[None if v is None else v / scale for _, v in pts],
                    mode="lines", name=f"{source}: {BY_KEY[key].label}", legendgroup=source,
                    showlegend=False, line=dict(color=_COLORS[k % len(_COLORS)], dash=_DASH.get(j, "dashdot")),
                    hovertemplate=f"{source} {BY_KEY[key].label}: %{{y:.3g}} {unit} at %{{x:.1f}} s<extra></extra>",
                ), row=row, col=col)
        for t, label in recorder.marks:
            fig.add_vline(x=t, line_dash="dash", line_color="#c0392b", line_width=1, row=row, col=col)
    brokers = ", ".join(f"{s} = {_COLORS[k % len(_COLORS)]}" for k, s in enumerate(sources))
    fig.update_xaxes(title_text="seconds", title_standoff=2)
    fig.update_layout(title=f"{title}: solid = first metric of a panel, dotted = second, dashed = third",
                      height=280 * rows + 60, width=900, margin=dict(t=80, l=40, r=20, b=40),
                      annotations=list(fig.layout.annotations) + [dict(
                          text=f"colors: {brokers}", showarrow=False, xref="paper", yref="paper", x=0, y=-0.12,
                          xanchor="left", font=dict(size=11))])
    return fig


def status_line(recorder: Recorder, lags: dict[str, int] | None = None) -> str:
    """One line of the latest values: the active controller, partitions at risk, and each group's lag."""
    latest = recorder.latest()
    controller = [s for s, v in sorted(latest.items()) if v.get("active_controller") == 1]
    down = [s for s, v in sorted(latest.items()) if all(x is None for x in v.values())]
    urp = sum(v.get("under_replicated") or 0 for v in latest.values())
    offline = max((v.get("offline") or 0 for v in latest.values()), default=0)
    parts = [f"active controller: {', '.join(controller) or 'none answering'}",
             f"under-replicated: <b>{urp:.0f}</b>", f"offline: <b>{offline:.0f}</b>"]
    if down:
        parts.append(f'<span style="color:#c62828">not answering: {", ".join(down)}</span>')
    for group, lag in (lags or {}).items():
        parts.append(f"lag of <code>{html.escape(group)}</code>: <b>{lag}</b>")
    return " · ".join(parts)


class MetricsDashboard(widgets.VBox):
    """A heading, a status line and an Output redrawn from a :class:`~kafkalab.metrics.Recorder`.

    ``groups`` maps consumer groups to the topic whose lag to show. ``redraw()`` draws once; ``follow(busy)``
    redraws every ``every_s`` seconds while ``busy()`` is true (a load thread's ``is_alive``, say).
    """

    def __init__(self, recorder: Recorder, groups: dict[str, str] | None = None,
                 title: str = "Broker metrics, live from the Jolokia agents") -> None:
        self.recorder = recorder
        self.groups = dict(groups or {})
        self.redraws = 0
        self.lags: dict[str, int] = {}
        self.status = widgets.HTML("waiting for the first samples…")
        self.output = widgets.Output(layout=widgets.Layout(min_height="620px"))
        super().__init__([widgets.HTML(f"<b>{html.escape(title)}</b>"), self.status, self.output])

    def _read_lags(self) -> None:
        from kafka.errors import KafkaError

        from ..errors import LabError
        from ..io.groups import group_lag

        for group, topic in self.groups.items():
            try:
                self.lags[group] = sum(r.lag for r in group_lag(group, topic))
            except (LabError, KafkaError):  # a group that has not committed yet, a topic being created
                continue

    def redraw(self) -> None:
        """Read the groups' lag and replace the figure with one drawn from the recorder's history."""
        self._read_lags()
        self.redraws += 1
        self.status.value = (f"{status_line(self.recorder, self.lags)} · {self.recorder.samples} samples · "
                             f"redraw {self.redraws}")
        show(self.output, metrics_figure(self.recorder))

    def follow(self, busy: Callable[[], bool], every_s: float = 1.0, max_s: float = 300.0) -> None:
        """Redraw every ``every_s`` seconds while ``busy()`` is true (at most ``max_s``), then once more."""
        every_s = number("every_s", every_s, low=0.2, high=60, unit="seconds")
        started = time.monotonic()
        while busy() and time.monotonic() - started < max_s:
            self.redraw()
            time.sleep(every_s)
        self.redraw()


def latest_table(recorder: Recorder, keys: Iterable[str] | None = None):
    """The latest value of each metric per broker as a DataFrame (rows: metrics by their labels)."""
    import pandas as pd

    latest = recorder.latest()
    wanted: Sequence[str] = list(keys) if keys is not None else [m.key for m in recorder.wanted]
    return pd.DataFrame({s: {BY_KEY[k].label: latest[s].get(k) for k in wanted} for s in sorted(latest)})


def metric_figure(recorder: Recorder, key: str, title: str = "", height: int = 340):
    """One metric of every broker over time (a line per broker; gaps where a broker did not answer), with the
    recorder's marks as labelled dashed lines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for k, source in enumerate(sorted(recorder.ports)):
        pts = recorder.series(key, source)
        fig.add_trace(go.Scatter(x=[round(t, 2) for t, _ in pts], y=[v for _, v in pts], mode="lines+markers",
                                 name=source, line=dict(color=_COLORS[k % len(_COLORS)], shape="hv"),
                                 marker=dict(size=4)))
    for i, (t, label) in enumerate(recorder.marks):
        fig.add_vline(x=t, line_dash="dash", line_color="#c0392b", annotation_text=label,
                      annotation_position="top left" if i % 2 else "top right")
    fig.update_layout(title=title or BY_KEY[key].label, height=height, width=760, xaxis_title="seconds",
                      yaxis_title=BY_KEY[key].label, margin=dict(t=60, l=60, r=20, b=50),
                      legend=dict(orientation="h", y=-0.25))
    return fig

"""A live dashboard fed by a Kafka consumer: revenue per event-time minute and the top merchants.

Taught in Chapter 8, *Processing streaming data*. The arithmetic is
:class:`kafkalab.processing.analytics.LiveAggregate`;
this module only consumes, draws and redraws.

Plotly's ``FigureWidget`` would update traces in place, but plotly 6 and later build it on ``anywidget``, which
the course does not install. :class:`LiveDashboard` therefore redraws a plain figure into an ipywidgets
``Output`` after each polled batch (at most every ``redraw_every_s``). Live redrawing needs a running kernel
(JupyterLab, or Binder); the book shows the widget as it was saved at the end of the run.
"""
from __future__ import annotations

import contextlib
import html
import json
import threading
import time
from collections.abc import Sequence

import ipywidgets as widgets

from ..io.clients import consumer, json_producer
from ..processing.analytics import LiveAggregate
from ..validate import number
from .outputs import show


def _clock(ms: int | None) -> str:
    import pandas as pd

    return "—" if ms is None else pd.Timestamp(ms, unit="ms", tz="UTC").strftime("%H:%M:%S")


def dashboard_figure(agg: LiveAggregate, top: int = 5, title: str = "Payments by event time"):
    """Revenue per minute (left) and the top merchants by revenue (right), from an aggregate."""
    import pandas as pd
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], horizontal_spacing=0.14,
                        subplot_titles=("Revenue per minute (EUR)", f"Top {top} merchants (EUR)"))
    minutes = agg.revenue_per_minute()
    fig.add_trace(go.Bar(x=[pd.Timestamp(m, unit="ms", tz="UTC").strftime("%H:%M") for m, _ in minutes],
                         y=[eur for _, eur in minutes], marker_color="#3182bd", name="revenue",
                         hovertemplate="%{x} UTC: %{y:.2f} EUR<extra></extra>"), row=1, col=1)
    best = agg.top_merchants(top) if agg.payments else []
    fig.add_trace(go.Bar(x=[eur for _, eur, _ in best][::-1], y=[m for m, _, _ in best][::-1], orientation="h",
                         marker_color="#e6550d", name="merchants",
                         text=[f"{n} payments" for _, _, n in best][::-1], textposition="inside",
                         hovertemplate="%{y}: %{x:.2f} EUR<extra></extra>"), row=1, col=2)
    fig.update_xaxes(title_text="minute (UTC, event time)", type="category", row=1, col=1)
    fig.update_layout(title=f"{title}: {agg.payments} payments, {agg.total:,.2f} EUR", showlegend=False,
                      height=360, width=760, margin=dict(t=70, l=60, r=20, b=60))
    return fig


class LiveDashboard(widgets.VBox):
    """A heading, a status line and an Output redrawn with :func:`dashboard_figure` as batches arrive."""

    def __init__(self, title: str = "Payments, live from Kafka", top: int = 5) -> None:
        self.title, self.top = title, top
        self.aggregate = LiveAggregate()
        self.redraws = 0
        self.status = widgets.HTML("waiting for records…")
        self.output = widgets.Output(layout=widgets.Layout(min_height="370px"))
        super().__init__([widgets.HTML(f"<b>{html.escape(title)}</b>"), self.status, self.output])

    def redraw(self) -> None:
        """Replace the figure in the Output with one drawn from the current totals."""
        self.redraws += 1
        a = self.aggregate
        self.status.value = (f"{a.payments} payments in {a.batches} batches · {a.total:,.2f} EUR · "
                             f"latest event {_clock(a.last_event_ms)} UTC · redraw {self.redraws}")
        show(self.output, dashboard_figure(a, self.top))

    def run(self, topic: str, expected: int | None = None, idle_s: float = 3.0, max_s: float = 60.0,
            redraw_every_s: float = 0.3) -> LiveAggregate:
        """Consume ``topic`` from its start and redraw per batch until ``expected`` payments were seen, nothing new
        came for ``idle_s``, or ``max_s`` passed. Returns the aggregate."""
        started = last_record = time.monotonic()
        last_redraw = 0.0
        with contextlib.closing(consumer(topic, group_id=None, value_deserializer=json.loads)) as c:
            while True:
                now = time.monotonic()
                if expected is not None and self.aggregate.payments >= expected:
                    break
                if now - last_record > idle_s or now - started > max_s:
                    break
                polled = c.poll(timeout_ms=200)
                if not polled:
                    continue
                last_record = time.monotonic()
                for records in polled.values():
                    self.aggregate.update(r.value for r in records)
                if last_record - last_redraw >= redraw_every_s:
                    self.redraw()
                    last_redraw = time.monotonic()
        self.redraw()
        return self.aggregate


def feed_in_background(topic: str, payments: Sequence[dict], per_second: float = 300.0) -> threading.Thread:
    """Write ``payments`` (keyed by customer) to ``topic`` at about ``per_second`` from a background thread.

    The thread is started and returned; ``join()`` it. An error in the thread is kept in ``thread.error``.
    """
    per_second = number("per_second", per_second, low=0, low_open=True, unit="records/s")

    def run() -> None:
        try:
            with contextlib.closing(json_producer(linger_ms=5)) as p:
                t0 = time.monotonic()
                for i, pay in enumerate(payments):
                    ahead = t0 + i / per_second - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                    p.send(topic, key=pay["customer_id"], value=pay)
                p.flush(timeout=30)
        except BaseException as exc:  # shown by the caller
            thread.error = exc

    thread = threading.Thread(target=run, name=f"feed-{topic}", daemon=True)
    thread.error = None
    thread.start()
    return thread

"""The lag of a consumer group as a table, a figure and a small widget (Chapter 3: Kafka's building blocks).

The numbers come from :func:`kafkalab.io.groups.group_lag`; this module only shows them.
"""
from __future__ import annotations

import html
import time
from collections.abc import Iterable, Sequence

import ipywidgets as widgets

from ..errors import LabError
from ..io.groups import PartitionLag, group_lag
from .outputs import show


def lag_table(rows: Sequence[PartitionLag]):
    """The lag rows as a DataFrame: topic, partition, end offset, committed offset, lag."""
    import pandas as pd

    return pd.DataFrame([{"topic": r.topic, "partition": r.partition, "end offset": r.end,
                          "committed": "none" if r.committed is None else r.committed, "lag": r.lag} for r in rows])


def lag_figure(rows: Sequence[PartitionLag], group: str = ""):
    """Bars of end offset against committed offset per partition; the gap between them is the lag."""
    import plotly.graph_objects as go

    labels = [f"{r.topic} [{r.partition}]" for r in rows]
    fig = go.Figure()
    fig.add_bar(x=labels, y=[r.end for r in rows], name="end offset", marker_color="#9ecae1")
    fig.add_bar(x=labels, y=[r.committed or 0 for r in rows], name="committed offset", marker_color="#3182bd",
                text=[f"lag {r.lag}" for r in rows], textposition="outside")
    total = sum(r.lag for r in rows)
    fig.update_layout(barmode="group", height=340, width=620, margin=dict(t=50, l=50, r=20, b=40),
                      title=f"Group {group}: total lag {total}" if group else f"Total lag {total}",
                      yaxis_title="offset", legend=dict(orientation="h", y=-0.2))
    return fig


def _lag_html(rows: Sequence[PartitionLag]) -> str:
    head = "<tr><th>partition</th><th>end offset</th><th>committed</th><th>lag</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(r.topic)} [{r.partition}]</td><td>{r.end}</td>"
        f"<td>{'none' if r.committed is None else r.committed}</td><td><b>{r.lag}</b></td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


class LagMonitor(widgets.VBox):
    """A small lag dashboard: a Refresh button, a table and a bar chart for one group on some topics.

    ``refresh()`` re-reads the offsets from the cluster and returns the rows, so tests and notebooks can use it
    without clicking. Live clicks need a running kernel (JupyterLab or Binder); the book shows the saved state.
    """

    def __init__(self, group: str, topics: str | Iterable[str] | None = None) -> None:
        self.group = group
        self.topics = topics
        self.rows: list[PartitionLag] = []
        self.figure = None
        self.button = widgets.Button(description="Refresh", icon="refresh", tooltip="read the offsets again")
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.output = widgets.Output()
        self.refreshes = 0
        self.button.on_click(lambda _: self.refresh())
        super().__init__([widgets.HTML(f"<b>Consumer group</b> <code>{html.escape(group)}</code>"),
                          widgets.HBox([self.button, self.status]), self.table, self.output])
        self.refresh()

    @property
    def total_lag(self) -> int:
        return sum(r.lag for r in self.rows)

    def refresh(self) -> list[PartitionLag]:
        """Read end and committed offsets again and redraw; on failure show the error and keep the last rows."""
        from kafka.errors import KafkaError

        try:
            rows = group_lag(self.group, self.topics)
        except (LabError, KafkaError) as exc:
            self.status.value = f'<span style="color:#c62828">{html.escape(str(exc))}</span>'
            return self.rows
        self.rows = rows
        self.refreshes += 1
        self.figure = lag_figure(rows, self.group)
        self.table.value = _lag_html(rows)
        self.status.value = f"total lag <b>{self.total_lag}</b> (refreshed at {time.strftime('%H:%M:%S')})"
        show(self.output, self.figure)  # through the Output's state: see kafkalab.widgets.outputs
        return rows

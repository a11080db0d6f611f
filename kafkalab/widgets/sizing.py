"""The sizing calculator as a figure and an interactive widget (no Kafka needed).

Taught in Chapter 10, *Calculating partitions and consumers*. The arithmetic lives in :mod:`kafkalab.sizing`;
this module only draws it and wires it to inputs. Live recomputation needs a running kernel (JupyterLab or
Binder); the book shows the widget as it was last saved.
"""
from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from decimal import Decimal

import ipywidgets as widgets
import plotly.graph_objects as go

from ..errors import LabError
from ..sizing import (
    KB,
    MB,
    SEED_WORKLOADS,
    Assumptions,
    SizingResult,
    Workload,
    describe_totals,
    partitions_needed,
    results_table,
    size_workloads,
    totals,
)
from .outputs import show

_COLOURS = {"producer": "#1f77b4", "consumer": "#d62728", "both": "#9467bd", "minimum": "#7f7f7f"}
_MARKER_NAMES = {
    "producer": "workload: producer limit binds",
    "consumer": "workload: consumer limit binds",
    "both": "workload: both limits bind (p = c)",
    "minimum": "workload: below one partition's capacity (minimum 1)",
}
_ERROR_STYLE = "color:#c62828;font-weight:600"


def _geometric(low: float, high: float, steps: int = 400) -> list[float]:
    """``steps`` points from ``low`` to ``high``, evenly spaced on a log axis."""
    ratio = (high / low) ** (1 / (steps - 1))
    return [low * ratio**i for i in range(steps)]


def sizing_figure(results: Sequence[SizingResult]) -> go.Figure:
    """Partitions needed against throughput: the producer limit T/p, the consumer limit T/c and the workloads."""
    if not results:
        raise LabError("results=[]: empty; allowed: the list that size_workloads() returns")
    first = results[0].assumptions
    p, c = first.producer_bytes_per_s, first.consumer_bytes_per_s
    if any((r.assumptions.producer_bytes_per_s, r.assumptions.consumer_bytes_per_s) != (p, c) for r in results):
        raise LabError("results: mixed per-partition throughputs; allowed: results sized with one Assumptions")
    peaks = [r.throughput_bytes_per_s for r in results]
    x_bytes = _geometric(min(peaks) / 10, max(peaks) * 10)
    x = [v / MB for v in x_bytes]
    fig = go.Figure()
    fig.add_scatter(x=x, y=[v / p for v in x_bytes], mode="lines", line=dict(color=_COLOURS["producer"]),
                    name=f"producer limit T/p (p = {p / MB:g} MB/s)")
    fig.add_scatter(x=x, y=[v / c for v in x_bytes], mode="lines", line=dict(color=_COLOURS["consumer"], dash="dash"),
                    name=f"consumer limit T/c (c = {c / MB:g} MB/s)")
    fig.add_scatter(x=x, y=[partitions_needed(v, p, c) for v in x_bytes], mode="lines",
                    line=dict(color="black", width=1, shape="hv"), name="partitions needed (whole, at least 1)")
    for binding in _COLOURS:
        chosen = [r for r in results if r.binding == binding]
        if chosen:
            fig.add_scatter(
                x=[r.throughput_bytes_per_s / MB for r in chosen], y=[r.partitions for r in chosen],
                mode="markers+text", text=[r.workload.name for r in chosen], textposition="top left",
                marker=dict(size=12, color=_COLOURS[binding], line=dict(color="black", width=1)),
                name=_MARKER_NAMES[binding],
                hovertemplate="%{text}<br>%{x:.4g} MB/s at peak<br>%{y} partitions<extra></extra>",
            )
    y_low = min(1.0, *(r.throughput_bytes_per_s / max(p, c) for r in results)) / 3
    fig.update_xaxes(type="log", title="throughput at peak (MB/s, 1 MB = 1,000,000 bytes)")
    fig.update_yaxes(type="log", title="partitions", range=[math.log10(y_low), math.log10(max(x_bytes) / min(p, c))])
    fig.update_layout(title="Partitions needed against throughput at peak",
                      legend=dict(orientation="h", y=-0.25), margin=dict(t=50, l=60, r=20, b=20), height=480)
    return fig


def _format(value: object) -> str:
    """Numbers for people: thousands separators, no needless decimals, small values kept readable."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) >= 1 else f"{value:.3g}"


def _in_units(value: float, unit: int) -> float:
    """``value`` (as typed, e.g. 1.1) times ``unit``, without binary rounding noise (1.1 × 1000 = 1100)."""
    return float(Decimal(repr(float(value))) * unit)


class _WorkloadRow(widgets.HBox):
    """One editable workload: name, rate, size (KB), peak factor, and a remove button."""

    def __init__(self, workload: Workload) -> None:
        self.name = widgets.Text(value=workload.name, description="name", layout=widgets.Layout(width="220px"))
        self.rate = widgets.FloatText(value=workload.rate, description="msg/s", layout=widgets.Layout(width="200px"))
        self.size_kb = widgets.FloatText(value=workload.size_bytes / KB, description="size KB",
                                         layout=widgets.Layout(width="180px"))
        self.peak = widgets.FloatText(value=workload.peak_factor, description="peak ×",
                                      layout=widgets.Layout(width="160px"))
        self.remove = widgets.Button(description="remove", layout=widgets.Layout(width="80px"))
        super().__init__([self.name, self.rate, self.size_kb, self.peak, self.remove])

    @property
    def inputs(self) -> tuple[widgets.ValueWidget, ...]:
        """The value widgets whose changes trigger a recompute."""
        return self.name, self.rate, self.size_kb, self.peak

    def workload(self) -> Workload:
        """The workload as typed (raises LabError if it is not valid)."""
        return Workload(self.name.value, self.rate.value, _in_units(self.size_kb.value, KB), self.peak.value)


class SizingWidget(widgets.VBox):
    """The calculator: workloads and assumptions in, table and figure out; bad input shows a red one-liner."""

    def __init__(self, workloads: Iterable[Workload] = SEED_WORKLOADS, assumptions: Assumptions = Assumptions()):
        self.rows: list[_WorkloadRow] = []
        self.rows_box = widgets.VBox()
        self.add_button = widgets.Button(description="add workload")
        wide = dict(style={"description_width": "initial"}, layout=widgets.Layout(width="300px"))
        self.producer_mb = widgets.FloatText(value=assumptions.producer_bytes_per_s / MB,
                                             description="p: producer MB/s per partition", **wide)
        self.consumer_mb = widgets.FloatText(value=assumptions.consumer_bytes_per_s / MB,
                                             description="c: consumer MB/s per partition", **wide)
        self.replication = widgets.IntText(value=assumptions.replication_factor,
                                           description="replication factor", **wide)
        self.retention_hours = widgets.FloatText(value=assumptions.retention_hours,
                                                 description="retention (hours)", **wide)
        self.consumer_groups = widgets.IntText(value=assumptions.consumer_groups, description="consumer groups", **wide)
        self.error = widgets.HTML()
        self.table = widgets.HTML()
        self.plot = widgets.Output()
        self.results: list[SizingResult] = []
        self.figure: go.Figure | None = None
        for w in self._assumption_inputs:
            w.observe(self._changed, names="value")
        self.add_button.on_click(lambda _: self.add_workload(Workload(self._unused_name(), 100, KB)))
        super().__init__([
            widgets.HTML("<b>Workloads</b> (one topic each; size in KB, 1 KB = 1000 bytes)"),
            self.rows_box, self.add_button,
            widgets.HTML("<b>Assumptions</b> (1 MB = 1,000,000 bytes)"),
            widgets.HBox([widgets.VBox([self.producer_mb, self.consumer_mb, self.replication]),
                          widgets.VBox([self.retention_hours, self.consumer_groups])]),
            self.error, self.table, self.plot,
        ])
        for w in workloads:
            self.add_workload(w, recompute=False)
        self.recompute()

    @property
    def _assumption_inputs(self) -> tuple[widgets.ValueWidget, ...]:
        return self.producer_mb, self.consumer_mb, self.replication, self.retention_hours, self.consumer_groups

    def _changed(self, _change: object = None) -> None:
        self.recompute()

    def _unused_name(self) -> str:
        taken = {row.name.value.strip() for row in self.rows}
        i = len(self.rows) + 1
        while f"workload {i}" in taken:
            i += 1
        return f"workload {i}"

    def add_workload(self, workload: Workload, recompute: bool = True) -> None:
        """Append an editable row for ``workload``."""
        row = _WorkloadRow(workload)
        for w in row.inputs:
            w.observe(self._changed, names="value")
        row.remove.on_click(lambda _: self.remove_workload(self.rows.index(row)))
        self.rows.append(row)
        self.rows_box.children = tuple(self.rows)
        if recompute:
            self.recompute()

    def remove_workload(self, index: int) -> None:
        """Delete the row at ``index`` and recompute."""
        del self.rows[index]
        self.rows_box.children = tuple(self.rows)
        self.recompute()

    def assumptions(self) -> Assumptions:
        """The assumptions as typed (raises LabError if they are not valid)."""
        return Assumptions(
            producer_bytes_per_s=_in_units(self.producer_mb.value, MB),
            consumer_bytes_per_s=_in_units(self.consumer_mb.value, MB),
            replication_factor=self.replication.value,
            retention_hours=self.retention_hours.value,
            consumer_groups=self.consumer_groups.value,
        )

    def recompute(self) -> bool:
        """Read every input and redraw; on bad input show the error and keep the last good result."""
        try:
            results = size_workloads([row.workload() for row in self.rows], self.assumptions())
        except LabError as exc:
            self.error.value = f'<span style="{_ERROR_STYLE}">{html.escape(str(exc))}</span>'
            return False
        self.error.value = ""
        self.results = results
        frame = results_table(results)
        table = frame.to_html(index=False, border=0, formatters={column: _format for column in frame.columns})
        self.table.value = f"{table}<p>{html.escape(describe_totals(totals(results)))}</p>"
        self.figure = sizing_figure(results)
        show(self.plot, self.figure)
        return True


def sizing_widget(
    workloads: Iterable[Workload] = SEED_WORKLOADS, assumptions: Assumptions = Assumptions()
) -> SizingWidget:
    """The interactive calculator, preloaded with ``workloads`` (the seed's two by default)."""
    return SizingWidget(workloads, assumptions)

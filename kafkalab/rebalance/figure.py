"""Draw who owned which partition over time, one panel per run (Chapter 12's rebalance timelines)."""
from __future__ import annotations

from collections.abc import Mapping

from .scenario import GroupRun

#: One colour per member name, the same in every panel.
COLOURS = {"c1": "#4c78a8", "c2": "#f58518", "c3": "#54a24b", "c4": "#b279a2", "c5": "#9d755d"}
#: How each step is marked above the panels.
MARKS = {"join": "joins", "leave": "leaves", "kill": "killed", "restart": "killed and restarted"}


def ownership_figure(runs: Mapping[str, GroupRun], title: str = "Who owns which partition"):
    """A plotly figure: one panel per run (``{label: run}``), a row per partition, a bar per owner and span, and a
    dashed line at each step, labelled inside the panel (seconds since the run's first member started). White gaps
    are pauses."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=len(runs), cols=1, shared_xaxes=True, vertical_spacing=0.09,
                        subplot_titles=list(runs))
    shown: set[str] = set()
    for row, run in enumerate(runs.values(), start=1):
        t0 = min(s.t for s in run.steps)
        for span in run.spans():
            fig.add_trace(go.Bar(
                y=[f"p{span.partition}"], x=[span.end - span.start], base=[span.start - t0], orientation="h",
                marker_color=COLOURS.get(span.member, "#888"), name=span.member, legendgroup=span.member,
                showlegend=span.member not in shown, width=0.7,
                hovertemplate=f"{span.member} owns p{span.partition}<br>%{{base:.2f}} s to "
                              f"{span.end - t0:.2f} s<extra></extra>"), row=row, col=1)
            shown.add(span.member)
        marked = [step for step in run.steps if step.what in MARKS]
        for k, step in enumerate(marked):  # labels inside the panel, one below the other, so that none overlap
            fig.add_vline(x=step.t - t0, line_dash="dash", line_color="#555", line_width=1, row=row, col=1)
            fig.add_annotation(x=step.t - t0, y=1.0 - 0.17 * k, yref=f"y{'' if row == 1 else row} domain",
                               text=f"{step.member} {MARKS[step.what]}", showarrow=False, xanchor="left",
                               yanchor="top", xshift=3, font={"size": 10}, bgcolor="rgba(255,255,255,0.85)",
                               row=row, col=1)
        fig.update_yaxes(categoryorder="array", categoryarray=[f"p{p}" for p in reversed(range(run.partitions))],
                         row=row, col=1)
    fig.update_layout(barmode="overlay", title=title, height=230 * len(runs) + 80, legend_title_text="member",
                      margin={"l": 50, "r": 20, "t": 80, "b": 40}, template="plotly_white")
    fig.update_xaxes(title_text="seconds since the first member started", row=len(runs), col=1)
    return fig

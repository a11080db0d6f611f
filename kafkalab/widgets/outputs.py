"""Redrawing an ipywidgets ``Output``: the one way the course's widgets (sizing, late-data replay, lag monitor,
live dashboard) replace what they show.

They set ``Output.outputs`` to display data built here instead of ``with out: clear_output(); display(...)``. That
route publishes from whichever cell is running, and under nbconvert it can wait forever for a reply that already
came (jupyter/nbclient#312), which made notebook runs hang. Setting the trait works in a kernel and in plain Python.
"""
from __future__ import annotations

import json
from typing import Any


def figure_bundle(fig) -> dict[str, Any]:
    """A plotly figure as display data: plotly JSON for JupyterLab, HTML (plotly.js from its CDN) for the book.

    Built by hand because ``display()`` and ``_repr_mimebundle_`` publish the renderer's loader script as a side
    effect in the running cell.
    """
    import plotly.io as pio

    return {"application/vnd.plotly.v1+json": json.loads(pio.to_json(fig)),
            "text/html": pio.to_html(fig, include_plotlyjs="cdn", full_html=False)}


def _bundle(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    if isinstance(item, str):
        return {"text/html": item, "text/plain": item}
    return figure_bundle(item)


def show(output, *items: Any) -> None:
    """Replace ``output``'s content with ``items``: plotly figures, HTML strings, or ready display-data dicts."""
    output.outputs = tuple({"output_type": "display_data", "data": _bundle(x), "metadata": {}} for x in items)

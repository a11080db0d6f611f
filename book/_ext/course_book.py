"""Local Sphinx extension for the course book.

* Fails the build (as a Sphinx warning under ``-W``) when a notebook carries a stored error output in a cell that
  is not tagged ``raises-exception``: the book renders stored outputs, so an error there would be published.
* Fails the build when an output has no mime type the HTML builder can show. (Plotly outputs carry
  ``application/vnd.plotly.v1+json`` for JupyterLab next to ``text/html`` for the book; myst-nb warns about the
  JSON half even though it renders the HTML half, so _config.yml silences ``mystnb.unknown_mime_type`` and this
  stricter check takes its place.)
"""
from __future__ import annotations

import json
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def stored_errors(nb_path: Path) -> list[int]:
    """Indices of code cells with an error output and no ``raises-exception`` tag."""
    nb = json.loads(nb_path.read_text())
    bad = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code" or "raises-exception" in cell.get("metadata", {}).get("tags", []):
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            bad.append(i)
    return bad


def unrenderable_outputs(nb_path: Path, renderable: set[str]) -> list[tuple[int, list[str]]]:
    """(cell index, mime types) of rich outputs with no mime type in ``renderable``."""
    nb = json.loads(nb_path.read_text())
    bad = []
    for i, cell in enumerate(nb.get("cells", [])):
        for out in cell.get("outputs", []):
            data = out.get("data")
            if out.get("output_type") in ("display_data", "execute_result") and data and not renderable & set(data):
                bad.append((i, sorted(data)))
    return bad


def _check_notebooks(app: Sphinx, docname: str, source: list[str]) -> None:
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".ipynb":
        return
    for i in stored_errors(path):
        logger.warning("stored error output in cell %d (tag it raises-exception or re-run the notebook)", i,
                       location=docname)
    from myst_nb.core.render import get_mime_priority

    renderable = set(get_mime_priority("html", app.config["nb_mime_priority_overrides"]))
    for i, mimes in unrenderable_outputs(path, renderable):
        logger.warning("cell %d has an output the book cannot show (only %s)", i, ", ".join(mimes), location=docname)


def setup(app: Sphinx) -> dict:
    app.connect("source-read", _check_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

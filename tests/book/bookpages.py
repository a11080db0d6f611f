"""The book's pages and what their sources say each page must show (shared by the tests in tests/book)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from kafkalab.config import REPO

# BOOK_HTML points the checks at another build: `jupyter-book build . --path-output /tmp/x` writes /tmp/x/_build/html
HTML = Path(os.environ.get("BOOK_HTML") or REPO / "_build" / "html")
ARTIFACTS = REPO / "tests" / "book" / "artifacts"
NODE_SCRIPT = REPO / "tests" / "book" / "browser_check.mjs"
CHROMIUM = Path("/usr/bin/chromium")


def toc_docs() -> list[str]:
    """Every page of the book in reading order: the root, then each part's chapters and their sections."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return docs


def source_of(doc: str) -> Path:
    for suffix in (".ipynb", ".md"):
        path = REPO / f"{doc}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no source for {doc} (.ipynb or .md)")


def expected_content(doc: str) -> dict:
    """What the page must show, counted from its source: mermaid fences, top-level plotly figures, widget views."""
    path = source_of(doc)
    counts = {"mermaid": 0, "plotly": 0, "widget_views": 0, "widget_state": False}
    if path.suffix == ".md":
        counts["mermaid"] = path.read_text().count("```mermaid")
        return counts
    nb = json.loads(path.read_text())
    for cell in nb.get("cells", []):
        src = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            counts["mermaid"] += src.count("```mermaid")
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            counts["plotly"] += "application/vnd.plotly.v1+json" in data and "text/html" in data
            counts["widget_views"] += "application/vnd.jupyter.widget-view+json" in data
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    counts["widget_state"] = bool(state.get("state"))
    return counts

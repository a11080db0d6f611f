"""Checks on the built book (_build/html), run after `jupyter-book build` in tests/run.sh."""

import pytest
import yaml

from kafkalab.config import REPO

HTML = REPO / "_build" / "html"


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_every_notebook_is_in_the_table_of_contents():
    listed = set(toc_files())
    for nb in (REPO / "notebooks").glob("*.ipynb"):
        assert f"notebooks/{nb.stem}" in listed, nb.name


@pytest.mark.parametrize("doc", toc_files())
def test_pages_were_built_with_svg_diagrams(doc):
    page = HTML / f"{doc}.html"
    assert page.exists(), "run the book build first (tests/run.sh does)"
    text = page.read_text()
    src = (REPO / f"{doc}.ipynb")
    if src.exists() and "```mermaid" in src.read_text():
        assert "mermaid-" in text and ".svg" in text, "mermaid diagrams are rendered to SVG at build time"
        assert 'class="mermaid"' not in text, "no diagram left for client-side rendering"

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


def redirects() -> dict:
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    return config["sphinx"]["config"]["course_redirects"]


@pytest.mark.parametrize("old", sorted(redirects()))
def test_old_chapter_addresses_lead_to_pages_of_the_book(old):
    new = redirects()[old]
    assert new in toc_files(), f"{old} redirects to {new}, which is not in the table of contents"
    assert not (REPO / f"{old}.ipynb").exists(), f"{old} is a chapter again: drop its redirect"
    page = HTML / f"{old}.html"
    assert page.exists(), "run the book build first (tests/run.sh does)"
    target = "../" * old.count("/") + new + ".html"
    assert f'url={target}"' in page.read_text()
    assert (page.parent / target).resolve() == (HTML / f"{new}.html").resolve()

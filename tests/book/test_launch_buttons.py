"""Every chapter page offers the Binder launch button and the repository links configured in _config.yml."""
from __future__ import annotations

import pytest
import yaml
from bookpages import HTML, REPO, toc_docs

CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())
CHAPTERS = [d for d in toc_docs() if (REPO / f"{d}.ipynb").exists()]


@pytest.mark.parametrize("doc", CHAPTERS)
def test_chapter_has_binder_and_repository_buttons(doc):
    page = HTML / f"{doc}.html"
    assert page.exists(), "build the book first (tests/run.sh does)"
    html = page.read_text()
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    binder = f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{repo}/{branch}?urlpath=lab/tree/{doc}.ipynb"
    assert binder in html, f"no Binder launch button for {doc}"
    assert f'href="{CONFIG["repository"]["url"]}"' in html, "no repository button"

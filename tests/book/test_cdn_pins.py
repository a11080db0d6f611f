"""The CDN files the book's pages load are pinned to the npm packages the offline browser check serves in their
place (package.json), so "it draws in the test" means "it draws on the published site"."""
from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
import yaml
from bookpages import REPO

NODE_MODULES = REPO / "node_modules"
PACKAGE = json.loads((REPO / "package.json").read_text())["devDependencies"]
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())["sphinx"]["config"]
JSDELIVR_NPM = re.compile(r"^https://cdn\.jsdelivr\.net/npm/((?:@[^/@]+/)?[^/@]+)@([^/]+)/(.+)$")


def installed(pkg: str) -> str:
    return json.loads((NODE_MODULES / pkg / "package.json").read_text())["version"]


def test_plotly_js_matches_the_version_plotly_py_loads_from_its_cdn():
    from plotly.offline import get_plotlyjs_version

    assert PACKAGE["plotly.js-dist-min"] == get_plotlyjs_version() == installed("plotly.js-dist-min"), (
        "plotly.py changed its plotly.js: pin plotly.js-dist-min to the same version in package.json")


@pytest.mark.parametrize("url", sorted(CONFIG["nb_ipywidgets_js"]))
def test_widget_scripts_are_pinned_npm_files_with_matching_integrity(url):
    m = JSDELIVR_NPM.match(url)
    assert m, f"{url}: use a jsDelivr npm URL with an exact version, so npm holds the very same file"
    pkg, version, rel = m.groups()
    assert PACKAGE.get(pkg) == version == installed(pkg), f"pin {pkg}@{version} in package.json and npm install"
    algo, _, digest = CONFIG["nb_ipywidgets_js"][url]["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algo, (NODE_MODULES / pkg / rel).read_bytes()).digest()).decode()
    assert digest == actual, f"{url}: the integrity hash does not match npm's file (expected {algo}-{actual})"


def test_widget_manager_speaks_the_ipywidgets_8_protocol():
    import ipywidgets

    assert ipywidgets.__version__.startswith("8.") and PACKAGE["@jupyter-widgets/html-manager"].startswith("1.")


def test_mathjax_is_the_line_sphinx_loads():
    from sphinx.ext.mathjax import MATHJAX_URL

    assert "mathjax@3/" in MATHJAX_URL and installed("mathjax").startswith("3.")

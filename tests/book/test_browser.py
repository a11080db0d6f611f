"""The built book as a reader's browser shows it: headless Chromium, offline, every page in the table of contents.

browser_check.mjs serves _build/html on 127.0.0.1, answers the CDN URLs the pages use from npm packages of the same
versions (package.json), blocks everything else, and reports per page; these tests judge that report.
"""
from __future__ import annotations

import pytest
from bookpages import ARTIFACTS, REPO, expected_content, toc_docs

#: HTML plus every local file the page loads (theme CSS/JS/fonts, images, diagrams), uncompressed. The theme alone
#: is about 2.4 MB (most of it pydata-sphinx-theme's Font Awesome script); the rest is the page's own share.
LOCAL_CAP = 4_000_000
#: the page's HTML by itself: an inlined plotly.js (renderer "notebook" instead of "notebook_connected") or a huge
#: output would break it
HTML_CAP = 1_500_000

DOCS = toc_docs()


@pytest.mark.parametrize("doc", DOCS)
def test_no_console_errors(browser_report, doc):
    page = browser_report[doc]
    errors = page["consoleErrors"] + page["pageErrors"]
    assert not errors, f"{doc}: " + "\n".join(errors)


@pytest.mark.parametrize("doc", DOCS)
def test_outside_requests_are_only_mapped_cdn_files(browser_report, doc):
    page = browser_report[doc]
    assert not page["unmapped"], (
        f"{doc} asked for outside URLs that have no local npm stand-in (add the package at the same version to "
        f"package.json and a rule to CDN_MAPS in browser_check.mjs, or stop loading them): {page['unmapped']}")


@pytest.mark.parametrize("doc", DOCS)
def test_mermaid_diagrams_are_svg_images(browser_report, doc):
    page, want = browser_report[doc], expected_content(doc)["mermaid"]
    assert page["leftovers"] == 0, "a diagram was left for client-side mermaid"
    assert len(page["mermaid"]) == want, (
        f"{doc}: {want} mermaid fence(s) in the source, {len(page['mermaid'])} on the page")
    broken = [m["src"] for m in page["mermaid"] if not m["svg"]]
    assert not broken, f"{doc}: these diagrams did not load as SVG: {broken}"


@pytest.mark.parametrize("doc", DOCS)
def test_plotly_figures_draw(browser_report, doc):
    page, want = browser_report[doc], expected_content(doc)["plotly"]
    top_level = [p for p in page["plotly"] if not p["inWidget"]]
    assert len(top_level) == want, (
        f"{doc}: {want} plotly output(s) in the notebook, {len(top_level)} figure(s) on the page")
    blank = [p["id"] for p in page["plotly"] if not p["drawn"]]
    assert not blank, f"{doc}: plotly figures with no .main-svg (plotly.js did not draw): {blank}"


@pytest.mark.parametrize("doc", DOCS)
def test_widgets_show_their_saved_state(browser_report, doc):
    page, want = browser_report[doc], expected_content(doc)
    views = page["widgets"]
    assert len(views) == want["widget_views"], (
        f"{doc}: {want['widget_views']} widget view(s) in the notebook, {len(views)} on the page")
    if not views:
        return
    assert want["widget_state"], (f"{doc} shows widgets but the notebook has no saved widget state: re-run it with "
                                  "`jupyter nbconvert --execute` (it saves the state) or enable JupyterLab's "
                                  "Settings > Save Widget State Automatically")
    for view in views:
        assert view["hasState"], f"{doc}: view of model {view['modelId']} has no saved state"
        assert view["rendered"] and view["height"] > 0, f"{doc}: widget {view['modelId']} did not render"
        assert not view["problems"], f"{doc}: widget {view['modelId']}: " + "; ".join(view["problems"])


@pytest.mark.parametrize("doc", DOCS)
def test_page_weight_is_sane(browser_report, doc):
    page = browser_report[doc]
    assert page["htmlBytes"] <= HTML_CAP, f"{doc}: the HTML alone is {page['htmlBytes']:,} bytes (cap {HTML_CAP:,})"
    assert page["localBytes"] <= LOCAL_CAP, (
        f"{doc}: HTML + local assets are {page['localBytes']:,} bytes (cap {LOCAL_CAP:,})")


@pytest.mark.parametrize("doc", DOCS)
def test_screenshot_saved(browser_report, doc):
    shot = ARTIFACTS / f"{doc.replace('/', '__')}.png"
    assert shot.exists() and shot.stat().st_size > 0, f"no screenshot at {shot.relative_to(REPO)}"

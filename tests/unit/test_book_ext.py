import json
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from kafkalab.config import REPO

sys.path.insert(0, str(REPO / "book" / "_ext"))
import course_book  # noqa: E402


def write(tmp_path, cells):
    nb = new_notebook(cells=cells)
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    return path


def test_error_outputs_are_found_unless_tagged(tmp_path):
    err = new_output("error", ename="ValueError", evalue="x", traceback=[])
    tagged = new_code_cell("1/0", outputs=[err], metadata={"tags": ["raises-exception"]})
    path = write(tmp_path, [new_code_cell("ok"), new_code_cell("boom", outputs=[err]), tagged])
    assert course_book.stored_errors(path) == [1]


def test_outputs_without_a_renderable_mime_are_found(tmp_path):
    plotly = new_output("display_data", data={"application/vnd.plotly.v1+json": {}, "text/html": "<div/>"})
    only_json = new_output("display_data", data={"application/vnd.plotly.v1+json": {}})
    path = write(tmp_path, [new_code_cell("a", outputs=[plotly]), new_code_cell("b", outputs=[only_json])])
    assert course_book.unrenderable_outputs(path, {"text/html", "text/plain"}) == [(1, ["application/vnd.plotly.v1+json"])]


# --- page tidying (see the module docstring of book/_ext/course_book.py for why each one exists) -----------------
from sphinx.builders.html._assets import _JavaScript  # noqa: E402

PLOTLY_INIT = '<script type="module">import "https://cdn.plot.ly/plotly-4.1.1.min"</script>'
PLOTLY_MATHJAX = '<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/3.2.2/es5/tex-svg.min.js"></script>'
PLOTLY_JS = '<script charset="utf-8" src="https://cdn.plot.ly/plotly-4.1.1.min.js" integrity="sha256-x"></script>'


def test_a_script_registered_twice_is_written_once():
    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [_JavaScript(None, body=thebe), _JavaScript("_static/a.js"), _JavaScript("", body=thebe),
               _JavaScript("_static/a.js"), _JavaScript("", body="let other = 1")]
    out = course_book.unique_scripts(scripts)
    assert [(js.filename, js.attributes.get("body")) for js in out] == [
        (None, thebe), ("_static/a.js", None), ("", "let other = 1")]


def test_plotly_loader_and_mathjax_go_but_the_figure_script_stays():
    html = f"{PLOTLY_INIT}\n<div>{PLOTLY_MATHJAX}{PLOTLY_JS}<div id='fig'></div></div>"
    cleaned, n = course_book.clean_plotly_outputs(html)
    assert n == 2 and PLOTLY_JS in cleaned and "import" not in cleaned and "mathjax" not in cleaned


def test_plotly_cleaning_works_inside_notebook_json_and_keeps_it_valid():
    nb = {"cells": [{"outputs": [{"data": {"text/html": [PLOTLY_INIT + "\n", PLOTLY_MATHJAX + PLOTLY_JS]}}]}],
          "metadata": {"widgets": {"state": {"outputs": PLOTLY_INIT + PLOTLY_MATHJAX}}}}
    cleaned, n = course_book.clean_plotly_outputs(json.dumps(nb))
    assert n == 4
    assert json.loads(cleaned)["cells"][0]["outputs"][0]["data"]["text/html"][1] == PLOTLY_JS


def test_a_correct_plotly_module_import_is_left_alone():
    fine = '<script type="module">import "https://cdn.plot.ly/plotly-4.1.1.min.js"</script>'
    assert course_book.clean_plotly_outputs(fine) == (fine, 0)


def test_widget_manager_gets_its_assets_path_and_mathjax_shim_first():
    manager = "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/embed-amd.js"
    scripts = [_JavaScript("https://cdn.jsdelivr.net/npm/requirejs@2.3.8/require.js"), _JavaScript(manager)]
    out = course_book.with_widget_assets_path(scripts)
    assert [js.filename for js in out] == [scripts[0].filename, "", manager]
    body = out[1].attributes["body"]
    assert 'window.__jupyter_widgets_assets_path__ = "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist/"' in body
    assert '"@jupyter-widgets": "https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@1.0.15/dist"' in body
    assert "typesetPromise" in body and "Hub" in body
    assert course_book.with_widget_assets_path(scripts[:1]) == scripts[:1]  # no manager, nothing added


def test_theme_mode_defaults_to_light_and_a_bad_one_is_reported(caplog):
    class Config:
        html_context: dict = {}

    cfg = Config()
    cfg.html_context = {}
    course_book._check_theme_mode(None, cfg)
    assert cfg.html_context["default_mode"] == "light"
    cfg.html_context = {"default_mode": "sepia"}
    with caplog.at_level("WARNING"):
        course_book._check_theme_mode(None, cfg)
    assert "sepia" in caplog.text


def test_a_redirect_page_sends_the_reader_to_the_new_address_with_its_section():
    html = course_book.redirect_page("notebooks/08_kafka101", "notebooks/01_kafka101")
    target = "../notebooks/01_kafka101.html"
    assert f'<meta http-equiv="refresh" content="0; url={target}">' in html
    assert f'<link rel="canonical" href="{target}">' in html
    assert f'location.replace("{target}" + location.hash)' in html  # keeps #section anchors
    assert f'<a href="{target}">' in html  # and a link for a browser without scripts or refresh
    assert '"notebooks/new.html"' in course_book.redirect_page("old", "notebooks/new")  # a top-level page: no ../

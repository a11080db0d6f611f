"""Local Sphinx extension for the course book.

* Fails the build (as a Sphinx warning under ``-W``) when a notebook carries a stored error output in a cell that
  is not tagged ``raises-exception``: the book renders stored outputs, so an error there would be published.
* Fails the build when an output has no mime type the HTML builder can show. (Plotly outputs carry
  ``application/vnd.plotly.v1+json`` for JupyterLab next to ``text/html`` for the book; myst-nb warns about the
  JSON half even though it renders the HTML half, so _config.yml silences ``mystnb.unknown_mime_type`` and this
  stricter check takes its place.)
* Writes each page's ``<script>`` tags once. Jupyter Book 1.0.4 with sphinx-thebe 0.3.1 registers the inline
  ``const THEBE_JS_URL = ...`` script twice (once with the file name ``None`` and once with ``""``, which Sphinx's
  own de-duplication treats as different), so every page threw "Identifier 'THEBE_JS_URL' has already been
  declared". sphinx-togglebutton's selector script is doubled the same way.
* Cleans two things out of plotly's stored HTML, in cell outputs and in saved Output-widget state alike (the
  ``notebook_connected`` renderer writes them; JupyterLab ignores that HTML and draws the plotly mime type):

  - the notebook-mode loader ``<script type="module">import "https://cdn.plot.ly/plotly-X.Y.Z.min"</script>``.
    plotly.py strips ``.js`` from the URL with ``rstrip(".js")`` and the CDN refuses what is left
    (plotly/plotly.py#5109); each figure's own output loads plotly.js from a correct URL with an integrity hash.
  - the MathJax 3 loader each figure carries. A second figure on a page loads MathJax again, which throws, and a
    page with math already has Sphinx's MathJax. The course's figures use no LaTeX labels, so they need neither.
* Tells the ipywidgets HTML manager where its own fonts live. Its bundle defines AMD modules such as
  ``@jupyter-widgets/base`` and finds its assets relative to each module's RequireJS URL, which defaults to the
  page's folder, so every widget page logged 404s for Font Awesome files. A small RequireJS ``paths`` map (and
  ``__jupyter_widgets_assets_path__``, the manager's own knob) points them at the folder of ``embed-amd.js``.
  The same script gives MathJax a ``Hub.Queue``: ipywidgets 8 typesets widget labels through that MathJax 2 call
  whenever ``window.MathJax`` exists (jupyter-widgets/ipywidgets#3829), and the book loads MathJax 3, which has no
  ``Hub``, so every label threw a TypeError. The shim forwards to MathJax 3's ``typesetPromise``.
* Makes sure pydata-sphinx-theme gets a valid ``default_mode`` (``html_context``); without one a fresh browser logs
  "Got invalid theme mode" on every page.

* Writes a small redirect page at each old chapter address (``course_redirects`` in ``_config.yml``: old page name
  -> new page name), so links and bookmarks to a chapter from before the chapters were renumbered still arrive.

tests/book/test_browser.py checks the result in Chromium; tests/unit/test_book_ext.py tests each function here.
"""
from __future__ import annotations

import json
import re
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


# The patterns below run on the notebook's JSON text, so quotes may be escaped (\") and must not be crossed.
_Q = r'\\?"'  # a double quote, escaped or not
#: plotly.py's notebook-mode loader whose URL lost its ``.js``
BROKEN_PLOTLY_IMPORT = re.compile(
    rf'<script type={_Q}module{_Q}>\s*import\s+{_Q}https://cdn\.plot\.ly/[^"\\]*?(?<!\.js){_Q}\s*;?\s*</script>')
#: the MathJax loader plotly puts in front of every figure (include_mathjax="cdn")
PLOTLY_MATHJAX = re.compile(
    rf'<script src={_Q}https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"\\]+{_Q}>\s*</script>')
#: the ipywidgets HTML manager's bundle, whose folder also holds its fonts
WIDGET_MANAGER = re.compile(r"^(https://[^\s\"']+/@jupyter-widgets/html-manager@[^/]+/dist/)embed-amd\.js$")

THEME_MODES = ("light", "dark", "auto")


def clean_plotly_outputs(text: str) -> tuple[str, int]:
    """Remove plotly's broken module import and its MathJax loaders from ``text`` (notebook JSON or HTML).

    Returns the new text and the number of tags removed."""
    text, n_imports = BROKEN_PLOTLY_IMPORT.subn("", text)
    text, n_mathjax = PLOTLY_MATHJAX.subn("", text)
    return text, n_imports + n_mathjax


def unique_scripts(scripts: list) -> list:
    """``scripts`` without repeats, first occurrence kept. Two entries are the same script when they load the same
    file (a missing file name and an empty one count as equal) with the same attributes, inline body included."""
    seen, out = set(), []
    for js in scripts:
        if isinstance(js, str):
            key = (js, ())
        else:
            key = (str(js.filename or ""), tuple(sorted((k, str(v)) for k, v in js.attributes.items())))
        if key not in seen:
            seen.add(key)
            out.append(js)
    return out


#: Gives every object assigned to ``window.MathJax`` (Sphinx's configuration, then MathJax 3 itself) a MathJax 2 style
#: ``Hub.Queue(["Typeset", hub, element])`` that forwards to MathJax 3's ``typesetPromise([element])``.
MATHJAX2_HUB_SHIM = """(function () {
  var hub = {Queue: function (job) {
    var mj = window.MathJax, el = job && job[2];
    if (mj && typeof mj.typesetPromise === "function") {
      mj.typesetPromise(el ? [el] : undefined).catch(function () {});
    }
  }};
  function withHub(mj) {
    if (mj && typeof mj === "object" && !mj.Hub) {
      try { Object.defineProperty(mj, "Hub", {value: hub, configurable: true}); } catch (e) {}
    }
    return mj;
  }
  var current = withHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {configurable: true, enumerable: true,
    get: function () { return current; }, set: function (value) { current = withHub(value); }});
})();"""


def widget_assets_script(dist: str) -> str:
    """JavaScript run before the HTML manager (loaded from the folder ``dist``): find the manager's assets there, and
    let its MathJax 2 calls reach MathJax 3 (:data:`MATHJAX2_HUB_SHIM`)."""
    folder = dist.rstrip("/")
    paths = {"@jupyter-widgets": folder, "@jupyter-widgets/html-manager/dist": folder}
    return (f"window.__jupyter_widgets_assets_path__ = {json.dumps(folder + '/')}; "
            f"if (window.requirejs) {{ requirejs.config({{paths: {json.dumps(paths)}}}); }}\n"
            + MATHJAX2_HUB_SHIM)


def with_widget_assets_path(scripts: list) -> list:
    """Insert :func:`widget_assets_script` right before the widget manager's bundle (after RequireJS)."""
    out = []
    for js in scripts:
        match = WIDGET_MANAGER.match(str(getattr(js, "filename", "") or ""))
        if match:
            out.append(type(js)("", priority=js.priority, body=widget_assets_script(match.group(1))))
        out.append(js)
    return out


def _clean_source(app: Sphinx, docname: str, source: list[str]) -> None:
    if Path(app.env.doc2path(docname)).suffix == ".ipynb":
        source[0], _ = clean_plotly_outputs(source[0])


def _tidy_page(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = with_widget_assets_path(unique_scripts(list(context["script_files"])))


def _check_theme_mode(app: Sphinx, config) -> None:
    ctx = config.html_context
    ctx.setdefault("default_mode", "light")
    if ctx["default_mode"] not in THEME_MODES:
        logger.warning("html_context.default_mode is %r; pydata-sphinx-theme accepts %s",
                       ctx["default_mode"], ", ".join(THEME_MODES))


def redirect_page(old: str, new: str) -> str:
    """The HTML of the page left at ``old`` (a page name such as ``notebooks/01_kafka101``) that sends the reader
    on to ``new``, keeping any ``#section`` of the address. Both names are relative to the book's root."""
    depth = old.count("/")
    target = "../" * depth + new + ".html"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>Moved to {new}</title>\n"
        f"<link rel=\"canonical\" href=\"{target}\">\n"
        f"<meta http-equiv=\"refresh\" content=\"0; url={target}\">\n"
        f"<script>location.replace({json.dumps(target)} + location.hash);</script>\n"
        "</head>\n<body>\n"
        f"<p>This chapter has a new address: <a href=\"{target}\">{new}</a>.</p>\n"
        "</body>\n</html>\n"
    )


def _write_redirects(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for old, new in (app.config.course_redirects or {}).items():
        if old == new:
            continue
        if new not in app.env.all_docs:
            logger.warning(f"course_redirects: {old} -> {new}, but the book has no page {new}")
            continue
        if old in app.env.all_docs:
            logger.warning(f"course_redirects: {old} is still a page of the book; a redirect would replace it")
            continue
        path = out / f"{old}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redirect_page(old, new))


def setup(app: Sphinx) -> dict:
    app.connect("source-read", _check_notebooks)
    app.connect("source-read", _clean_source)
    app.connect("config-inited", _check_theme_mode)
    # after every extension that adds page scripts in html-page-context (myst-nb adds the widget scripts there)
    app.connect("html-page-context", _tidy_page, priority=900)
    app.add_config_value("course_redirects", {}, "html")
    app.connect("build-finished", _write_redirects)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

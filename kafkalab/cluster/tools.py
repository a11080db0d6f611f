"""Kafka's own command-line tools (the ``bin/kafka-*.sh`` scripts of a distribution), run from Maven's jars.

``run_tool("kafka-topics", "--list --bootstrap-server localhost:9092")`` runs exactly what
``kafka-topics.sh --list --bootstrap-server localhost:9092`` runs in a Kafka download.

On a secured cluster a tool needs the client config too: when ``--bootstrap-server`` names the course's cluster and
the course has a client config (``KAFKA_CLIENT_CONFIG``, :mod:`kafkalab.io.connection`), :func:`with_command_config`
adds ``--command-config <file>`` right after it (every tool takes that option since Kafka 4.2, KIP-1147).
"""
from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from ..config import JVM_DIR
from ..errors import LabError
from . import cds
from .java import find_java
from .maven import classpath

#: Script name (as in Kafka's bin/ folder, without .sh) -> main class in Kafka 4.4 (each checked against the jars).
TOOLS = {
    "kafka-topics": "org.apache.kafka.tools.TopicCommand",
    "kafka-consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    "kafka-share-groups": "org.apache.kafka.tools.consumer.group.ShareGroupCommand",
    "kafka-streams-groups": "org.apache.kafka.tools.streams.StreamsGroupCommand",
    "kafka-groups": "org.apache.kafka.tools.GroupsCommand",
    "kafka-features": "org.apache.kafka.tools.FeatureCommand",
    "kafka-configs": "org.apache.kafka.tools.ConfigCommand",  # kafka.admin.ConfigCommand before Kafka 4.1
    "kafka-acls": "org.apache.kafka.tools.AclCommand",
    "kafka-transactions": "org.apache.kafka.tools.TransactionsCommand",
    "kafka-metadata-quorum": "org.apache.kafka.tools.MetadataQuorumCommand",
    "kafka-get-offsets": "org.apache.kafka.tools.GetOffsetShell",
    "kafka-console-producer": "org.apache.kafka.tools.ConsoleProducer",
    "kafka-console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
    "kafka-console-share-consumer": "org.apache.kafka.tools.consumer.ConsoleShareConsumer",
    "kafka-producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
    "kafka-consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
    "kafka-share-consumer-perf-test": "org.apache.kafka.tools.ShareConsumerPerformance",
    "kafka-storage": "kafka.tools.StorageTool",
    "kafka-streams-application-reset": "org.apache.kafka.tools.StreamsResetter",
}
#: Short-lived admin tools start faster with the client compiler only; the perf tools need the full JIT.
_QUICK_START = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


def tool_command(name: str, args: list[str]) -> tuple[list[str], Path | None]:
    """The ``java`` command line of one tool run, and the class-archive part file that run writes at its exit
    (None when it maps the archive instead): every tool shares one archive (kafkalab.cluster.cds)."""
    if name not in TOOLS:
        raise LabError(f"unknown tool {name!r}; choose one of: {', '.join(sorted(TOOLS))}")
    java, cp = find_java("tools"), classpath("broker")
    cds_opts, part = cds.jvm_args("tools", java, cp)
    jvm = [] if name.endswith("perf-test") else _QUICK_START
    return [
        java, *jvm, *cds_opts, "-Xmx256m",
        f"-Dlog4j2.configurationFile={JVM_DIR / 'log4j2-tools.properties'}",
        "-cp", cp, TOOLS[name], *args,
    ], part


def with_command_config(argv: list[str]) -> list[str]:
    """``argv`` with ``--command-config <the course's client config>`` after ``--bootstrap-server X`` when X is the
    course's cluster and it has a client config; unchanged otherwise (or when the caller passes one itself).

    Placed right after the address because tools with subcommands (kafka-features, kafka-metadata-quorum) take their
    common options before the subcommand."""
    from ..io.connection import connection_for

    if any(a == "--command-config" or a.startswith("--command-config=") for a in argv):
        return argv
    for i, arg in enumerate(argv):
        if arg == "--bootstrap-server" and i + 1 < len(argv):
            bootstrap, end = argv[i + 1], i + 2
        elif arg.startswith("--bootstrap-server="):
            bootstrap, end = arg.split("=", 1)[1], i + 1
        else:
            continue
        config = connection_for(bootstrap).command_config()
        return argv if config is None else [*argv[:end], "--command-config", str(config), *argv[end:]]
    return argv


def run_tool(name: str, args: str | list[str], check: bool = True, timeout: float = 300, input: str | None = None):
    """Run a Kafka tool and return the ``CompletedProcess`` (text output captured); on a secured course cluster
    with the client config added (:func:`with_command_config`)."""
    argv = with_command_config(shlex.split(args) if isinstance(args, str) else list(args))
    cmd, part = tool_command(name, argv)
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
    except subprocess.TimeoutExpired:
        cds.discard(part)
        raise LabError(f"{name} did not finish within {timeout:.0f} s; is the cluster up? (`python -m kafkalab status`)") from None
    if res.returncode == 0:
        cds.promote(part)
    else:
        cds.discard(part)
    if check and res.returncode != 0:
        lines = [ln for ln in (res.stderr + res.stdout).splitlines() if ln.strip() and not ln.startswith("\t")]
        raise LabError(f"{name} failed: {lines[-1] if lines else 'exit code ' + str(res.returncode)}")
    return res


class ToolOutput(str):
    """A tool's standard output; notebooks display it as plain text, the way a terminal would."""

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.rstrip("\n"))


def kafka_topics(args: str | list[str]) -> ToolOutput:
    """``kafka-topics.sh`` with the same arguments; returns its output (a notebook shows it as text)."""
    return ToolOutput(run_tool("kafka-topics", args).stdout)

"""The group behind a Kafka Streams application: which rebalance protocol it uses, the settings the broker keeps
for it, and how Kafka's tools show it (Chapter 5, section 4).

Kafka 4.2 made KIP-1071 generally available: with ``group.protocol=streams`` an application joins a **streams
group**, and the broker's group coordinator assigns its tasks. The broker must allow it: the ``streams.version``
feature finalized at 1 or more (Kafka 4.2+ clusters formatted by 4.2+ have it; an older cluster needs
``kafka-features upgrade``). :func:`group_protocol` asks the cluster.

Under that protocol the session timeout and heartbeat interval are the broker's, not the client's:
``session.timeout.ms`` and ``heartbeat.interval.ms`` in the application's own settings are ignored (Kafka Streams
4.4 logs nothing about them). The broker defaults are ``group.streams.session.timeout.ms`` (45 s) and
``group.streams.heartbeat.interval.ms`` (5 s); one group may override them with the group configs
``streams.session.timeout.ms`` and ``streams.heartbeat.interval.ms``, but only within the broker's
``group.streams.min/max.*`` bounds (45-60 s and 5-15 s by default). :func:`kafkalab.io.groups.configure_group`
sets such group configs (what ``kafka-configs --alter --entity-type groups`` does) and
:func:`kafkalab.io.groups.group_config_origins` reads them back with where each value comes from.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..errors import LabError
from ..io.clients import admin
from ..io.groups import configure_group

#: The two values of Kafka Streams' ``group.protocol``.
CLASSIC, STREAMS = "classic", "streams"

#: Group configs that make a one-member classroom group start at once. The broker's defaults wait 3 s for more
#: members before the first assignment (``group.streams.initial.rebalance.delay.ms``) and recompute assignments at
#: most once a second (``group.streams.assignment.interval.ms``); with one instance there is no one to wait for.
QUICK_START = {"streams.initial.rebalance.delay.ms": 0, "streams.assignment.interval.ms": 0}

#: The group configs of a streams group that decide when a member counts as gone.
LIVENESS = ("streams.session.timeout.ms", "streams.heartbeat.interval.ms")


def group_protocol() -> str:
    """``"streams"`` if the cluster has streams groups on (``streams.version`` >= 1), else ``"classic"``."""
    from kafka.errors import KafkaError

    try:
        with contextlib.closing(admin()) as a:
            features = a.describe_features()
    except (KafkaError, NotImplementedError, AttributeError):  # a broker too old to describe its features
        return CLASSIC
    finalized = features.get("streams.version", {}).get("finalized") or (0, 0)
    return STREAMS if finalized[1] >= 1 else CLASSIC


def protocol_configs(protocol: str) -> dict[str, str]:
    """The Kafka Streams setting that selects ``protocol`` (``{"group.protocol": ...}``)."""
    if protocol not in (CLASSIC, STREAMS):
        raise LabError(f"group.protocol {protocol!r}: use {CLASSIC!r} or {STREAMS!r}")
    return {"group.protocol": protocol}


def prepare_group(application_id: str, protocol: str) -> dict[str, object]:
    """Before the first start of ``application_id``: under the streams protocol, set :data:`QUICK_START` for its
    group (nothing to do under the classic one, whose course broker sets ``group.initial.rebalance.delay.ms=0``).
    Returns the settings made."""
    if protocol != STREAMS:
        return {}
    configure_group(application_id, **QUICK_START)
    return dict(QUICK_START)


# ------------------------------------------------------------------------------------------ Kafka's tools
def parse_table(text: str) -> list[dict[str, str]]:
    """The rows of a table printed by Kafka's group tools (a header line, then one line per row), as dicts.

    Columns are cut where the header's names start (``COORDINATOR (ID)`` is one name); the last column takes the
    rest of its line. Blank lines and lines before the header are skipped.
    """
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [m.start() for m in re.finditer(r"(?<!\S)\S+", header) if not header[m.start()] == "("]
    names = [header[a:b].strip() for a, b in zip(starts, starts[1:] + [len(header)])]
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in zip(starts, starts[1:] + [None])]
        rows.append(dict(zip(names, cells)))
    return rows


def mask(value: str, application_id: str) -> str:
    """``value`` with what changes on every run replaced: the application id and process ids (UUIDs)."""
    value = value.replace(application_id, "<application.id>")
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<process>", value)


#: Columns of the group tools whose values are ids made up at run time, and how they are shown instead.
_RUN_IDS = {"MEMBER": "<member>", "PROCESS": "<process>"}


def describe_group(application_id: str, *options: str) -> list[dict[str, str]]:
    """``kafka-streams-groups --describe --group <application_id> <options>``: its table as rows, with the ids
    made up at run time masked (member and process ids, the application id) and the coordinator's address left out
    (it is the course's port)."""
    from ..cluster.tools import run_tool
    from ..config import bootstrap_servers

    res = run_tool("kafka-streams-groups", ["--bootstrap-server", bootstrap_servers(), "--describe",
                                            "--group", application_id, *options])
    return [{k: _RUN_IDS.get(k) or mask(v, application_id) for k, v in row.items() if k != "COORDINATOR (ID)"}
            for row in parse_table(res.stdout)]


def list_groups(labels: Mapping[str, str]) -> list[dict[str, str]]:
    """``kafka-groups --list`` for the groups named in ``labels`` (group id -> how to show it): type and protocol."""
    from ..cluster.tools import run_tool
    from ..config import bootstrap_servers

    res = run_tool("kafka-groups", ["--bootstrap-server", bootstrap_servers(), "--list"])
    rows = [row for row in parse_table(res.stdout) if row.get("GROUP") in labels]
    return sorted(({**row, "GROUP": labels[row["GROUP"]]} for row in rows), key=lambda r: list(labels.values())
                  .index(r["GROUP"]))


@dataclass(frozen=True)
class Reset:
    """What :func:`reset_application` ran (the command as you would type it) and the offsets it set."""

    command: str
    rows: list[dict[str, str]]


def reset_application(application_id: str, input_topics: Iterable[str], protocol: str) -> Reset:
    """Move ``application_id``'s committed offsets back to the start of its input and delete its internal topics.

    A streams group is reset with ``kafka-streams-groups --reset-offsets --to-earliest --all-input-topics
    --delete-all-internal-topics --execute`` (the broker knows the group's topology, hence its input and internal
    topics); a classic group with
    ``kafka-streams-application-reset``, which takes the input topics by name. Every instance must be stopped.
    The rows (topic, partition, new offset) are sorted: the tools list partitions in no fixed order.
    """
    from ..cluster.tools import run_tool
    from ..config import bootstrap_servers

    topics = list(input_topics)
    if protocol == STREAMS:
        tool, args = "kafka-streams-groups", ["--reset-offsets", "--group", application_id, "--all-input-topics",
                                              "--to-earliest", "--delete-all-internal-topics", "--execute"]
        res = run_tool(tool, ["--bootstrap-server", bootstrap_servers(), *args])
        rows = [{k: v for k, v in row.items() if k != "GROUP"} for row in parse_table(res.stdout)]
    else:
        tool, args = "kafka-streams-application-reset", ["--application-id", application_id,
                                                         "--input-topics", ",".join(topics)]
        res = run_tool(tool, ["--bootstrap-server", bootstrap_servers(), *args])
        found = re.findall(r"Topic: (\S+) Partition: (\d+) Offset: (\d+)", res.stdout)
        rows = [{"TOPIC": t, "PARTITION": p, "NEW-OFFSET": o} for t, p, o in found]
    rows.sort(key=lambda r: (r["TOPIC"], int(r["PARTITION"])))
    command = mask(" ".join([tool, "--bootstrap-server", "<bootstrap>", *args]), application_id)
    return Reset(command, rows)

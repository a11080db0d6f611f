"""The one place where the exercises reach into the rest of kafkalab.

Chapter modules never import other kafkalab modules themselves: they call these functions, which import lazily
(so ``import kafkalab.exercises`` loads no Kafka client, pandas or Flink). When a helper moves to another module,
only the import line here changes.
"""
from __future__ import annotations

from types import ModuleType


# ------------------------------------------------------------------ pure course logic (modules)
def datagen() -> ModuleType:
    from .. import datagen as m

    return m


def partitioner() -> ModuleType:
    from .. import partitioner as m

    return m


def sizing() -> ModuleType:
    from .. import sizing as m

    return m


def lateness() -> ModuleType:
    from ..lateness import engine as m

    return m


def lateness_tables() -> ModuleType:
    from ..lateness import tables as m

    return m


def alerting() -> ModuleType:
    from ..processing import rules as m

    return m


def alert_service() -> ModuleType:
    from ..processing import service as m

    return m


def lateness_replay() -> ModuleType:
    from ..lateness import replay as m

    return m


def analytics() -> ModuleType:
    from ..processing import analytics as m

    return m


def streams_app() -> ModuleType:
    from .. import streams as m

    return m


def schemas() -> ModuleType:
    from .. import schemas as m

    return m


def connect() -> ModuleType:
    from ..connectsql import connect as m

    return m


def basics() -> ModuleType:
    from .. import basics as m

    return m


def cdc() -> ModuleType:
    from ..connectsql import cdc as m

    return m


def flinksql() -> ModuleType:
    from ..connectsql import flinksql as m

    return m


def security() -> ModuleType:
    from .. import security as m

    return m


def share() -> ModuleType:
    from .. import share as m

    return m


# ------------------------------------------------------------------ Kafka I/O
def admin(**overrides):
    from ..io.clients import admin as f

    return f(**overrides)


def producer(**overrides):
    from ..io.clients import producer as f

    return f(**overrides)


def json_producer(**overrides):
    from ..io.clients import json_producer as f

    return f(**overrides)


def consumer(*topics: str, **overrides):
    from ..io.clients import consumer as f

    return f(*topics, **overrides)


def recreate_topic(name: str, partitions: int = 1, replication: int = 1, configs: dict | None = None,
                   connection=None) -> None:
    from ..io.topics import recreate_topic as f

    f(name, partitions=partitions, replication=replication, configs=configs, connection=connection)


def delete_topic(name: str, connection=None) -> bool:
    from ..io.topics import delete_topic as f

    return f(name, connection=connection)


def describe_cluster() -> dict:
    from ..io.clients import describe_cluster as f

    return f()


def list_topics() -> set[str]:
    import contextlib

    from ..io.clients import admin as f

    with contextlib.closing(f()) as a:
        return set(a.list_topics())


def end_offsets(topic: str) -> dict[int, int]:
    from ..io.topics import end_offsets as f

    return f(topic)


def read_topic(topic: str, timeout_s: float = 15):
    """Every record of ``topic`` (JSON values) from the beginning to its end: partition, offset, key, value."""
    from ..streams.topics import read_topic as f

    return f(topic, committed_only=False, timeout_s=timeout_s)


def read_to_end(topic: str, timeout_s: float = 15):
    """Every record of ``topic`` (raw bytes) from the beginning to its end, in partition, then offset order."""
    from ..io.read import read_to_end as f

    return f(topic, timeout_s=timeout_s)


def committed_offsets(group: str) -> dict[tuple[str, int], int]:
    from ..io.groups import committed_offsets as f

    return f(group)


def group_lag(group: str, topic: str):
    from ..io.groups import group_lag as f

    return f(group, topic)


def delete_group(group: str, timeout_s: float = 20.0, connection=None) -> bool:
    from ..io.groups import delete_group as f

    return f(group, timeout_s=timeout_s, connection=connection)


def group_config_origins(group: str, names) -> dict:
    from ..io.groups import group_config_origins as f

    return f(group, names)


def configure_group(group: str, **configs) -> None:
    from ..io.groups import configure_group as f

    f(group, **configs)


def quorum() -> dict:
    from ..monitor import quorum as f

    return f()


def node_roles(node_id: int) -> list[str]:
    from ..monitor import node_roles as f

    return f(node_id)


def start(need_brokers: int = 1, services: tuple[str, ...] = ()) -> dict:
    from ..notebook import start as f

    return f(need_brokers=need_brokers, services=services)


def start_secure() -> None:
    """The course's secured cluster, started if it does not answer its admin (Chapter 14)."""
    from ..cluster import secure
    from ..cluster.broker import up
    from ..errors import LabError
    from ..io.security import probe

    try:
        if probe(secure.user_connection(secure.ADMIN)).ok:
            return
    except LabError:
        pass
    up(secure=True, quiet=True)


def release_services() -> None:
    from ..notebook import release_services as f

    f()


# ------------------------------------------------------------------ the cluster itself (three-broker exercises)
def broker() -> ModuleType:
    from ..cluster import broker as m

    return m


def frozen(node_ids):
    """Pause nodes with SIGSTOP for the ``with`` block (kafkalab.replication)."""
    from ..replication import frozen as f

    return f(node_ids)


def leader_kill_test(topic: str, bootstrap: str, settings: dict):
    """Write through a leader kill with ``settings`` and count what survived (kafkalab.replication)."""
    from ..replication import leader_kill_test as f

    return f(topic, bootstrap, settings)


def metrics() -> ModuleType:
    from .. import metrics as m

    return m


def jolokia_port(node_id: int = 1) -> int:
    """The Jolokia agent port of broker ``node_id`` of the embedded cluster (kafkalab.cluster.jolokia)."""
    from ..cluster.jolokia import broker_port

    return broker_port(node_id)

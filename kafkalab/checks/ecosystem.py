"""Checkers for "The Kafka ecosystem" (notebooks/02_kafka_ecosystem.ipynb)."""
from __future__ import annotations

from . import passed

#: The parts of the ecosystem a learner chooses from in Exercise 1.
COMPONENTS = ("broker", "controller", "producer", "consumer", "Kafka Connect", "Kafka Streams", "schema registry",
              "streaming SQL", "monitoring")

#: Exercise 1: each task and the component that does it.
_TASKS = {
    "copy every new row of a database table into a topic": "Kafka Connect",
    "refuse to write a record whose fields break the agreed format": "schema registry",
    "keep a running total per customer inside a Java application": "Kafka Streams",
    "pick a new leader for a partition when a broker fails": "controller",
    "keep records on disk and hand them to whoever reads them": "broker",
    "count payments per merchant per minute with a SELECT statement": "streaming SQL",
    "show how far behind a consumer group is": "monitoring",
}
TASKS = tuple(_TASKS)

_SYNONYMS = {
    "connect": "Kafka Connect", "kafka connect": "Kafka Connect",
    "streams": "Kafka Streams", "kafka streams": "Kafka Streams",
    "registry": "schema registry", "schema registry": "schema registry",
    "controller": "controller", "kraft controller": "controller", "kraft": "controller", "controllers": "controller",
    "broker": "broker", "brokers": "broker", "producer": "producer", "consumer": "consumer",
    "streaming sql": "streaming SQL", "sql": "streaming SQL", "ksql": "streaming SQL", "ksqldb": "streaming SQL",
    "flink sql": "streaming SQL", "monitoring": "monitoring", "kafka manager": "monitoring", "monitor": "monitoring",
}
_MIX_UPS = {
    ("Kafka Connect", "Kafka Streams"): "Connect moves data between Kafka and other systems without code of yours; "
                                        "Streams transforms data that is already in Kafka, inside your application",
    ("Kafka Streams", "Kafka Connect"): "Connect moves data between Kafka and other systems without code of yours; "
                                        "Streams transforms data that is already in Kafka, inside your application",
    ("controller", "broker"): "brokers store and serve the data; the controllers keep the metadata (who leads what)",
    ("broker", "controller"): "brokers store and serve the data; the controllers keep the metadata (who leads what)",
    ("schema registry", "broker"): "a broker stores bytes without looking inside them; checking a record's fields "
                                   "against a schema is the registry's job (through the producer's serializer)",
}


def _normalise(value: object) -> str | None:
    return _SYNONYMS.get(str(value).strip().casefold()) if isinstance(value, str) else None


def check_component_for_task(answer: dict[str, str]) -> None:
    """Exercise 1: which component does each task? ``answer`` maps every task in ``TASKS`` to one of ``COMPONENTS``."""
    assert isinstance(answer, dict), "answer with a dict {task: component}, one entry per task in TASKS"
    missing = [t for t in TASKS if t not in answer]
    assert not missing, f"no component given for: {missing[0]!r} (copy the task strings from TASKS)"
    for task, expected in _TASKS.items():
        given = _normalise(answer[task])
        assert given is not None, f"{answer[task]!r} is not one of {list(COMPONENTS)}"
        if given != expected:
            why = _MIX_UPS.get((expected, given), f"think about which part of the stack {task!r}")
            raise AssertionError(f"{task!r}: not {given}. Hint: {why}")
    passed(f"all {len(TASKS)} tasks matched to their component")


def check_quorum_answer(answer: dict) -> None:
    """Exercise 2: ``{"leader": node id, "roles": [...]}`` for the live cluster's controller quorum leader."""
    from ..monitor import node_roles, quorum

    assert isinstance(answer, dict) and {"leader", "roles"} <= set(answer), \
        'answer with a dict {"leader": <node id>, "roles": [<role>, ...]}'
    q = quorum()
    assert isinstance(answer["leader"], int), f"the leader is a node id (an int), not {answer['leader']!r}"
    assert answer["leader"] == q["leader"], (
        f"node {answer['leader']} is not the quorum leader (voters {q['voters']}). Read leader_id from "
        f"describe_metadata_quorum(), not controller_id from describe_cluster() on an older client")
    expected = sorted(node_roles(q["leader"]))
    given = sorted(str(r).strip().lower() for r in answer["roles"])
    assert given == expected, (
        f"node {q['leader']} plays {expected}, not {given}. Read the broker config process.roles with "
        f"describe_configs(); on the course cluster one JVM is broker and controller at once")
    passed(f"node {q['leader']} leads the quorum {q['voters']} and plays {', '.join(expected)}")

"""Exercises of "The Kafka ecosystem" (notebooks/02_kafka_ecosystem.ipynb)."""
from __future__ import annotations

import contextlib
import json

from . import _lab
from .answers import need
from .core import Mistake, exercise
from .verdicts import NotYet, WrongType

CHAPTER = "kafka_ecosystem"

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
_CONNECT_VS_STREAMS = ("Connect moves data between Kafka and other systems without code of yours; Streams transforms "
                       "data that is already in Kafka, inside your application")
_BROKER_VS_CONTROLLER = "brokers store and serve the data; the controllers keep the metadata (who leads what)"
_MIX_UPS = {
    ("Kafka Connect", "Kafka Streams"): _CONNECT_VS_STREAMS,
    ("Kafka Streams", "Kafka Connect"): _CONNECT_VS_STREAMS,
    ("controller", "broker"): _BROKER_VS_CONTROLLER,
    ("broker", "controller"): _BROKER_VS_CONTROLLER,
    ("schema registry", "broker"): "a broker stores bytes without looking inside them; checking a record's fields "
                                   "against a schema is the registry's job (through the producer's serializer)",
}


def _normalise(value: object) -> str | None:
    return _SYNONYMS.get(value.strip().casefold()) if isinstance(value, str) else None


#: The solution's code: the dict above, written out.
_SOLUTION = ("component_of = {\n"
             + "".join(f"    {json.dumps(task)}: {json.dumps(component)},\n" for task, component in _TASKS.items())
             + "}\n")


def _solution_answer() -> dict[str, str]:
    return dict(_TASKS)


def _swapped(a: str, b: str) -> dict[str, str]:
    return {task: {a: b, b: a}.get(component, component) for task, component in _TASKS.items()}


@exercise(
    CHAPTER,
    title="Match each task to its component",
    kind="concept",
    expects="a dict {task: component}, one entry per task in TASKS",
    hints=[
        "Ask of each task: does it move data in or out of Kafka, transform data already in Kafka, store it, keep "
        "the cluster's metadata, check its format, query it with SQL, or watch it?",
        "Connect copies data between Kafka and other systems; Streams computes inside your Java application; the "
        "controllers (KRaft) elect leaders; the schema registry keeps and checks schemas.",
    ],
    solution=_SOLUTION,

    reference=lambda ctx: _solution_answer(),
    mistakes=[
        Mistake("Connect moves data between Kafka and other systems",
                answer=_swapped("Kafka Connect", "Kafka Streams")),
        Mistake("the controllers keep the metadata", answer=_swapped("controller", "broker")),
        Mistake("checking a record's fields against a schema is the registry's job",
                answer={**_TASKS, TASKS[1]: "broker"}),
        Mistake("Kafka 4 has no ZooKeeper", answer={**_TASKS, TASKS[3]: "ZooKeeper"}),
        Mistake("'database' is not one of", answer={**_TASKS, TASKS[0]: "database"}),
        Mistake("no component given for: 'show how far behind a consumer group is'",
                answer={t: c for t, c in _TASKS.items() if c != "monitoring"}),
        Mistake("your dict maps components to tasks", answer={c: t for t, c in _TASKS.items()}),
        Mistake("think about which part of the stack does that job", answer={**_TASKS, TASKS[6]: "consumer"}),
        Mistake("answer with a dict {task: component}", answer=list(_TASKS.values()), kind="wrong type"),
    ],
)
def component_for_task(answer) -> str:
    """Exercise 1: which component does each task? ``answer`` maps every task in ``TASKS`` to one of ``COMPONENTS``."""
    need(answer, dict, "answer with a dict {task: component}, one entry per task in TASKS")
    if answer and all(_normalise(k) is not None for k in answer) and any(v in _TASKS for v in answer.values()):
        raise NotYet("your dict maps components to tasks; the keys are the tasks (from TASKS), the values the "
                     "components")
    missing = [t for t in TASKS if t not in answer]
    if missing:
        raise NotYet(f"no component given for: {missing[0]!r} (copy the task strings from TASKS)")
    for task, expected in _TASKS.items():
        given = _normalise(answer[task])
        if given is None:
            if isinstance(answer[task], str) and answer[task].strip().casefold() == "zookeeper":
                raise NotYet(f"{task!r}: Kafka 4 has no ZooKeeper; the KRaft controllers took over its job "
                             f"(metadata, leader election)")
            raise NotYet(f"{answer[task]!r} is not one of {list(COMPONENTS)}")
        if given != expected:
            why = _MIX_UPS.get((expected, given), "think about which part of the stack does that job")
            raise NotYet(f"{task!r}: not {given}. Hint: {why}")
    return (f"all {len(TASKS)} tasks matched to their component: clients produce and consume, brokers store, "
            f"controllers keep the metadata, and the rest of the ecosystem is built on those")


# ----------------------------------------------------------------------------------------------- Exercise 2


def _read_quorum_with_admin(ctx: dict) -> dict:
    """The reference answer, read with kafka-python's admin client as the notebook's solution does."""
    from kafka.admin import ConfigResource, ConfigResourceType

    with contextlib.closing(_lab.admin()) as a:
        leader = a.describe_metadata_quorum()["topics"][0]["partitions"][0]["leader_id"]
        configs = a.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(leader),
                                                     {"process.roles": None})], config_filter="all")
    roles = configs["broker"][str(leader)]["process.roles"]["value"].split(",")
    return {"leader": leader, "roles": roles}


def _with_leader(ctx: dict, change) -> dict:
    right = _read_quorum_with_admin(ctx)
    return {**right, "leader": change(right["leader"])}


@exercise(
    CHAPTER,
    title="Find the controller quorum's leader and its roles",
    kind="concept",
    expects='a dict {"leader": <node id>, "roles": [<role>, ...]}',
    hints=[
        "`describe_metadata_quorum()` on the admin client describes the quorum's one log, `__cluster_metadata`: "
        "its partition 0 has a `leader_id`.",
        "A node's roles are its config `process.roles`: `describe_configs([ConfigResource(ConfigResourceType.BROKER, "
        "str(leader), {\"process.roles\": None})], config_filter=\"all\")`, then split the value at the commas.",
    ],
    solution='''
from kafka.admin import ConfigResource, ConfigResourceType

with closing(clients.admin()) as a:
    described_quorum = a.describe_metadata_quorum()
    quorum_leader = described_quorum["topics"][0]["partitions"][0]["leader_id"]
    leader_config = a.describe_configs(
        [ConfigResource(ConfigResourceType.BROKER, str(quorum_leader), {"process.roles": None})],
        config_filter="all")
leader_roles = leader_config["broker"][str(quorum_leader)]["process.roles"]["value"].split(",")
quorum_solution = {"leader": quorum_leader, "roles": leader_roles}
print(quorum_solution)
''',
    reference=_read_quorum_with_admin,
    live=True,
    mistakes=[
        Mistake("is not the quorum leader",
                make=lambda ctx: _with_leader(ctx, lambda leader: leader + 7)),
        Mistake("the leader is a node id (an int), not",
                make=lambda ctx: _with_leader(ctx, str),
                kind="wrong type"),
        Mistake("Read the broker config process.roles",
                make=lambda ctx: {**_read_quorum_with_admin(ctx), "roles": ["broker"]}),
        Mistake("split the config value at the commas",
                make=lambda ctx: {**_read_quorum_with_admin(ctx), "roles": "broker,controller"}, kind="wrong type"),
        Mistake('answer with a dict {"leader": <node id>, "roles": [<role>, ...]}', answer={"leader": 1},
                kind="wrong type"),
    ],
)
def quorum_answer(answer) -> str:
    """Exercise 2: ``{"leader": node id, "roles": [...]}`` for the live cluster's controller quorum leader."""
    if not (isinstance(answer, dict) and {"leader", "roles"} <= set(answer)):
        raise WrongType('answer with a dict {"leader": <node id>, "roles": [<role>, ...]}')
    q = _lab.quorum()
    if isinstance(answer["leader"], bool) or not isinstance(answer["leader"], int):
        raise WrongType(f"the leader is a node id (an int), not {answer['leader']!r}")
    if answer["leader"] != q["leader"]:
        raise NotYet(f"node {answer['leader']} is not the quorum leader (voters {q['voters']}). Read leader_id from "
                     f"describe_metadata_quorum(), not controller_id from describe_cluster() on an older client")
    if isinstance(answer["roles"], str):
        raise WrongType(f"roles is a list of role names, not the text {answer['roles']!r}: split the config value "
                        f"at the commas")
    expected = sorted(_lab.node_roles(q["leader"]))
    given = sorted(str(r).strip().lower() for r in answer["roles"])
    if given != expected:
        raise NotYet(f"node {q['leader']} plays {expected}, not {given}. Read the broker config process.roles with "
                     f"describe_configs(); on the course cluster one JVM is broker and controller at once")
    return (f"node {q['leader']} leads the quorum {q['voters']} and plays {', '.join(expected)}: the active "
            f"controller is the voter that leads __cluster_metadata")

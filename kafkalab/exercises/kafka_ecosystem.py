"""Exercises of "The Kafka ecosystem" (notebooks/02_kafka_ecosystem.ipynb)."""
from __future__ import annotations

import contextlib
import json

from . import _lab
from ..errors import LabError
from .answers import need, type_name
from .core import Mistake, call_learner, exercise
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
_STREAMS_VS_SQL = ("Kafka Streams is a Java library you program inside your application; streaming SQL states the "
                   "computation as a query that an engine (Flink SQL here) runs")
_BROKER_VS_CONTROLLER = "brokers store and serve the data; the controllers keep the metadata (who leads what)"
_MIX_UPS = {
    ("Kafka Connect", "Kafka Streams"): _CONNECT_VS_STREAMS,
    ("Kafka Streams", "Kafka Connect"): _CONNECT_VS_STREAMS,
    ("controller", "broker"): _BROKER_VS_CONTROLLER,
    ("broker", "controller"): _BROKER_VS_CONTROLLER,
    ("schema registry", "broker"): "a broker stores bytes without looking inside them; checking a record's fields "
                                   "against a schema is the registry's job (through the producer's serializer)",
    ("monitoring", "consumer"): "a consumer reads the records; how far a group is behind (its lag) compares the "
                                "group's committed offsets with the end offsets, which a monitoring tool does, like "
                                "the lag monitor of the next chapter",
    ("Kafka Streams", "streaming SQL"): _STREAMS_VS_SQL,
    ("streaming SQL", "Kafka Streams"): _STREAMS_VS_SQL,
    ("Kafka Connect", "producer"): "a producer is code you write into your application; copying a database table "
                                   "needs no code of yours: Connect runs a ready-made source connector",
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
        Mistake("which a monitoring tool does", answer={**_TASKS, TASKS[6]: "consumer"}),
        Mistake("states the computation as a query", answer=_swapped("Kafka Streams", "streaming SQL")),
        Mistake("think about which part of the stack does that job", answer={**_TASKS, TASKS[4]: "consumer"}),
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


# ----------------------------------------------------------------------------------------------- Exercise 3

#: The two topics Exercise 3 asks the learner's function for: (partitions, retention in ms). Two different ones,
#: so that a function that ignores its arguments cannot pass.
TOPIC_REQUESTS = ((3, 2 * 3_600_000), (2, 15 * 60_000))
#: Kafka's own default for retention.ms (7 days): what a topic gets when its creator sets nothing.
DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000


def _describe(name: str) -> dict | None:
    """What the cluster says about topic ``name``: partitions, leaders, retention.ms and where that value comes
    from; None if the topic does not exist."""
    from kafka.admin import ConfigResource, ConfigResourceType

    with contextlib.closing(_lab.admin()) as a:
        (described,) = a.describe_topics([name])
        if described.get("error_code") or not described["partitions"]:
            return None
        found = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None})],
                                   config_filter="all")
    retention = found["topic"][name]["retention.ms"]
    return {"partitions": len(described["partitions"]),
            "leaders": {p["partition_index"]: p["leader_id"] for p in described["partitions"]},
            "retention_ms": int(retention["value"]), "source": retention["config_source"]}


def _hours(ms: int) -> str:
    """A retention as a reader says it: ``7 days``, ``2 h``, ``15 min``."""
    if ms >= 86_400_000 and ms % 86_400_000 == 0:
        return f"{ms // 86_400_000} days"
    return f"{ms / 3_600_000:g} h" if ms >= 3_600_000 else f"{ms / 60_000:g} min"


def _kafka_refused(error: BaseException, partitions: int, retention_ms: int) -> NotYet | None:
    """A one-line diagnosis of the errors Kafka gives a wrong topic request (no topic name in it: names are
    run-unique, and a check's message must be the same on every run)."""
    name = type(error).__name__
    if name == "InvalidReplicationFactorError":
        return NotYet("Kafka refused the replication factor (InvalidReplicationFactorError): the course cluster has "
                      "one broker, so each partition can have only one replica; use `replication_factor=1`")
    if name == "InvalidConfigurationError":
        return NotYet("Kafka refused a topic config (InvalidConfigurationError): the topic-level name is "
                      "`retention.ms` (`log.retention.ms` is the broker-wide default, not a topic config), and its "
                      "value is a number of milliseconds, -1 or more")
    if name == "InvalidPartitionsError":
        return NotYet(f"Kafka refused the partition count (InvalidPartitionsError): pass the `partitions` argument "
                      f"({partitions} here) as `num_partitions`")
    if name == "TopicAlreadyExistsError":
        return NotYet("Kafka says the topic already exists (TopicAlreadyExistsError): does your function create it "
                      "twice?")
    return None


def _call_create(create_topic, admin, name: str, partitions: int, retention_ms: int):
    """Run the learner's function once; a Kafka refusal becomes its diagnosis, other errors one line without the
    run-unique topic name."""
    try:
        return create_topic(admin, name, partitions, retention_ms)
    except (LabError, NotYet, KeyboardInterrupt):
        raise
    except Exception as e:  # the learner's bug or Kafka's refusal: one line, never a traceback
        known = _kafka_refused(e, partitions, retention_ms)
        if known is not None:
            raise known from None
        try:
            call_learner(_raise, e)
        except NotYet as line:
            raise type(line)(str(line).replace(name, "<topic>")) from None
        raise


def _raise(error: BaseException):
    """Re-raise ``error`` inside :func:`call_learner`, so that it is worded like every other learner's error."""
    raise error


def _judge_topic(actual: dict | None, partitions: int, retention_ms: int, other: tuple[int, int]) -> None:
    """The topic the cluster now has must be the one that was asked for."""
    asked = f"{partitions} partitions, retention {_hours(retention_ms)}"
    if actual is None:
        raise NotYet(f"asked for a topic with {asked}, your function returned without creating it: call "
                     f"`admin.create_topics(...)` with the name it was given")
    if actual["partitions"] != partitions:
        why = (" Your function seems to use fixed numbers: use its `partitions` argument"
               if actual["partitions"] == other[0] else " Pass the `partitions` argument as `num_partitions`")
        raise NotYet(f"asked for {asked}, the topic has {actual['partitions']} partition(s).{why}")
    got = actual["retention_ms"]
    if got == retention_ms:
        return
    if actual["source"] != "DYNAMIC_TOPIC_CONFIG":
        raise NotYet(f"asked for {asked}, the topic keeps records for {_hours(got)}, the broker's default: set "
                     f"`retention.ms` in the topic's configs when you create it")
    if got * 1000 == retention_ms:
        raise NotYet(f"the topic's retention.ms is {got}, a thousand times too short: `retention.ms` counts "
                     f"milliseconds, and `retention_ms` already is a number of milliseconds")
    if got == other[1]:
        raise NotYet(f"asked for {asked}, the topic keeps records for {_hours(got)}: your function seems to use "
                     f"fixed numbers; use its `retention_ms` argument")
    raise NotYet(f"asked for {asked}, the topic's retention.ms is {got}: pass `retention_ms` as the value of "
                 f"`retention.ms`")


_RETURNS = 'a dict {"partitions": <int>, "leaders": {<partition>: <node id>}, "retention_ms": <int>}'


def _judge_description(answer, actual: dict) -> None:
    """What the function returned must be what the cluster says about the topic."""
    if answer is None:
        raise WrongType(f"your function returned None: describe the topic it created and return {_RETURNS}")
    if not isinstance(answer, dict) or not {"partitions", "leaders", "retention_ms"} <= set(answer):
        raise WrongType(f"return {_RETURNS}, not {type_name(answer)}"
                        + (f" with the keys {sorted(map(str, answer))}" if isinstance(answer, dict) else ""))
    if not isinstance(answer["partitions"], int) or isinstance(answer["partitions"], bool):
        raise WrongType(f"\"partitions\" is the number of partitions (an int), not {type_name(answer['partitions'])}: "
                        f"`len(described['partitions'])`")
    if isinstance(answer["retention_ms"], str):
        raise WrongType("\"retention_ms\" is an int: `describe_configs` gives every config value as text, so convert "
                        "it with `int(...)`")
    if not isinstance(answer["retention_ms"], int) or isinstance(answer["retention_ms"], bool):
        raise WrongType(f"\"retention_ms\" is an int of milliseconds, not {type_name(answer['retention_ms'])}")
    leaders = answer["leaders"]
    if not isinstance(leaders, dict) or not all(isinstance(k, int) and isinstance(v, int) for k, v in leaders.items()):
        raise WrongType("\"leaders\" maps each partition number to the node id of its leader, e.g. {0: 1, 1: 1}: "
                        "`{p['partition_index']: p['leader_id'] for p in described['partitions']}`")
    if answer["partitions"] != actual["partitions"]:
        raise NotYet(f"your description says {answer['partitions']} partition(s), the cluster says "
                     f"{actual['partitions']}")
    if leaders != actual["leaders"]:
        raise NotYet(f"your description gives the leaders {leaders}, the cluster says {actual['leaders']}: read "
                     f"`leader_id` of each partition from `describe_topics`")
    if answer["retention_ms"] != actual["retention_ms"]:
        raise NotYet(f"your description says retention_ms {answer['retention_ms']}, the cluster says "
                     f"{actual['retention_ms']}: read it back with `describe_configs`")


def _creating(partitions=None, retention=lambda ms: ms, key="retention.ms", replicas=1, create=True,
              returns="description"):
    """The anticipated mistakes of Exercise 3, written as a learner would, one switch each."""
    def create_topic(admin, name, wanted_partitions, retention_ms):
        n = wanted_partitions if partitions is None else partitions
        if create:
            admin.create_topics({name: {"num_partitions": n, "replication_factor": replicas,
                                        "configs": {} if key is None else {key: str(retention(retention_ms))}}},
                                wait_for_metadata=True)
        if returns == "nothing":
            return None
        if returns == "inputs":
            return {"partitions": wanted_partitions, "leaders": {p: 1 for p in range(wanted_partitions)},
                    "retention_ms": retention_ms}
        actual = _describe(name)
        if returns == "text retention":
            return {**{k: actual[k] for k in ("partitions", "leaders")}, "retention_ms": str(actual["retention_ms"])}
        return {k: actual[k] for k in ("partitions", "leaders", "retention_ms")}
    return create_topic


@exercise(
    CHAPTER,
    title="Create a topic through the admin API and describe it",
    kind="code",
    expects="a function create_topic(admin, name, partitions, retention_ms) that returns the topic's description",
    hints=[
        "Creating a topic is a request to the controller, through the admin client: `admin.create_topics({name: "
        "{\"num_partitions\": partitions, \"replication_factor\": 1, \"configs\": {...}}}, wait_for_metadata=True)`. "
        "`wait_for_metadata=True` returns once every partition has a leader.",
        "The topic config that keeps records for a time is `retention.ms`, a number of milliseconds: "
        "`\"configs\": {\"retention.ms\": str(retention_ms)}`.",
        "Describe it back: `admin.describe_topics([name])[0][\"partitions\"]` lists the partitions with their "
        "`partition_index` and `leader_id`; `admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name, "
        "{\"retention.ms\": None})])[\"topic\"][name][\"retention.ms\"][\"value\"]` is the retention, as text.",
    ],
    solution='''
from kafka.admin import ConfigResource, ConfigResourceType


def create_and_describe(admin, name, partitions, retention_ms):
    """Create topic `name` with `partitions` partitions that keeps records for `retention_ms` ms; describe it."""
    admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1,
                                "configs": {"retention.ms": str(retention_ms)}}}, wait_for_metadata=True)
    (described,) = admin.describe_topics([name])
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None})])
    return {"partitions": len(described["partitions"]),
            "leaders": {p["partition_index"]: p["leader_id"] for p in described["partitions"]},
            "retention_ms": int(configs["topic"][name]["retention.ms"]["value"])}
''',
    reference="create_and_describe",
    live=True,
    mistakes=[
        Mistake("returned without creating it", answer=_creating(create=False, returns="inputs")),
        Mistake("seems to use fixed numbers: use its `partitions` argument",
                answer=_creating(partitions=TOPIC_REQUESTS[0][0])),
        Mistake("the broker's default: set `retention.ms`", answer=_creating(key=None)),
        Mistake("a thousand times too short", answer=_creating(retention=lambda ms: ms // 1000)),
        Mistake("`log.retention.ms` is the broker-wide default", answer=_creating(key="log.retention.ms")),
        Mistake("so each partition can have only one replica", answer=_creating(replicas=3)),
        Mistake("your function returned None", answer=_creating(returns="nothing"), kind="wrong type"),
        Mistake("convert it with `int(...)`", answer=_creating(returns="text retention"), kind="wrong type"),
    ],
)
def topic_created(create_topic) -> str:
    """Exercise 3: ``create_topic(admin, name, partitions, retention_ms)`` must create the topic with that many
    partitions and that retention, and return ``{"partitions", "leaders", "retention_ms"}`` read back from the
    cluster. The checker calls it twice, with run-unique names and two different requests, and compares the
    topics the cluster then holds and the descriptions returned with what it reads itself."""
    from .scratch import unique_name

    requests = list(TOPIC_REQUESTS)
    names = [unique_name(CHAPTER, "created") for _ in requests]
    try:
        with contextlib.closing(_lab.admin()) as admin:
            for i, (name, (partitions, retention_ms)) in enumerate(zip(names, requests)):
                answer = _call_create(create_topic, admin, name, partitions, retention_ms)
                actual = _describe(name)
                _judge_topic(actual, partitions, retention_ms, other=requests[1 - i])
                _judge_description(answer, actual)
    finally:
        for name in names:
            with contextlib.suppress(Exception):
                _lab.delete_topic(name)
    asked = "; ".join(f"{p} partitions, {_hours(ms)}" for p, ms in requests)
    return (f"both topics were created as asked ({asked}) and your descriptions match what the cluster reports: "
            f"the controller recorded each new topic and its config in the metadata log, and chose a leader for "
            f"every partition")

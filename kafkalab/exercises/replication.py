"""Exercises of "Replication and failure" (notebooks/11_replication.ipynb)."""
from __future__ import annotations

import contextlib
import numbers
from typing import Iterator

from . import _lab
from .answers import type_name
from .core import Mistake, exercise
from .scratch import unique_name
from .verdicts import NotAnswered, NotYet, WrongType

CHAPTER = "replication"
TOPIC = "replication-payments"

#: The (replication factor, min.insync.replicas) pairs that Exercise 1 asks about.
EXERCISE_1_TOPICS = ((3, 2), (3, 3), (3, 1), (5, 3))


def writes_survive(replication_factor: int, min_insync: int) -> int:
    """How many replicas of a partition may be lost while acks=all writes are still accepted.

    The in-sync set must keep at least ``min.insync.replicas`` members, the leader included; this assumes the
    controller quorum itself stays healthy (dedicated controllers, or fewer than half of them down).
    """
    return max(replication_factor - min_insync, 0)


def _count(value: object, key: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise WrongType(f"answer for {key} with a whole number of brokers, not {value!r}")
    return int(value)


def _each(rule) -> dict:
    return {(rf, m): rule(rf, m) for rf, m in EXERCISE_1_TOPICS}


@exercise(
    CHAPTER,
    title="How many brokers may fail under acks=all?",
    kind="concept",
    expects="a dict {(replication factor, min.insync.replicas): brokers}",
    hints=[
        "acks=all writes need at least min.insync.replicas members in the in-sync set, the leader included.",
        "Of RF replicas, RF − min.insync.replicas may go before the leader refuses writes with NotEnoughReplicas.",
    ],
    solution='''
tolerance_solution = {(rf, min_isr): rf - min_isr for rf, min_isr in [(3, 2), (3, 3), (3, 1), (5, 3)]}
''',
    reference=lambda ctx: {(rf, m): rf - m for rf, m in EXERCISE_1_TOPICS},
    mistakes=[
        Mistake("that is how many replicas may be lost before acknowledged data is gone",
                answer=_each(lambda rf, m: rf - 1)),
        Mistake("min.insync.replicas counts the leader too", answer=_each(lambda rf, m: max(rf - m - 1, 0))),
        Mistake("min.insync.replicas is how many must stay, not how many may go",
                answer={**_each(lambda rf, m: rf - m), (5, 3): 3}),
        Mistake("RF minus min ISR may go", answer={**_each(lambda rf, m: rf - m), (5, 3): 5}),
        Mistake("your dict has no entry for [(5, 3)]", answer={k: v for k, v in _each(lambda rf, m: rf - m).items()
                                                               if k != (5, 3)}),
        Mistake("the keys are pairs (replication factor, min.insync.replicas)",
                answer={f"{rf},{m}": rf - m for rf, m in EXERCISE_1_TOPICS}),
        Mistake("with a whole number of brokers", answer={**_each(lambda rf, m: rf - m), (3, 2): "1"},
                kind="wrong type"),
        Mistake("answer with a dict", answer=[1, 0, 2, 2], kind="wrong type"),
    ],
)
def failures_tolerated(answer) -> str:
    """Exercise 1: for each (replication factor, min.insync.replicas), how many brokers may fail while a producer
    with acks=all still gets its acknowledgements?"""
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict {{(replication factor, min.insync.replicas): brokers}}, not "
                        f"{type_name(answer)}")
    if answer and not any(isinstance(k, tuple) for k in answer):
        raise NotYet(f"the keys are pairs (replication factor, min.insync.replicas) such as (3, 2), not "
                     f"{next(iter(answer))!r}; the keys are {list(EXERCISE_1_TOPICS)}")
    missing = [k for k in EXERCISE_1_TOPICS if k not in answer]
    if missing:
        raise NotYet(f"your dict has no entry for {missing}; the keys are {list(EXERCISE_1_TOPICS)}")
    for key in EXERCISE_1_TOPICS:
        rf, min_isr = key
        got, expected = _count(answer[key], key), writes_survive(rf, min_isr)
        if got == expected:
            continue
        if got == rf - 1:
            hint = ("that is how many replicas may be lost before acknowledged data is gone (one copy is enough to "
                    "read from); writes stop earlier, as soon as fewer than min.insync.replicas stay in sync")
        elif got == expected - 1:
            hint = "min.insync.replicas counts the leader too: the leader plus its followers must reach it"
        elif got == min_isr:
            hint = "min.insync.replicas is how many must stay, not how many may go"
        else:
            hint = "the in-sync set must keep at least min.insync.replicas members: RF minus min ISR may go"
        raise NotYet(f"for replication factor {rf} with min.insync.replicas={min_isr}, {got} is not right: {hint}")
    return ("acks=all writes continue while replication factor − min.insync.replicas brokers are down: "
            + ", ".join(f"RF {rf}/min ISR {m} → {writes_survive(rf, m)}" for rf, m in EXERCISE_1_TOPICS))


# ----------------------------------------------------------------------------------------------- Exercise 2


def _leaders(topic: str, bootstrap: str | None, settle_s: float = 10) -> dict[int, tuple[int, int]]:
    """Partition -> (current leader, preferred leader), read from the cluster.

    Each broker learns of a leader change from the controller a moment after the change; the state is read
    again for up to ``settle_s`` seconds until every partition is led by its preferred replica.
    """
    from ..errors import LabError
    from ..wait import wait_until

    kwargs = {"bootstrap_servers": bootstrap} if bootstrap else {}
    seen: dict = {}
    with contextlib.closing(_lab.admin(**kwargs)) as a:
        def preferred() -> bool:
            described = a.describe_topics([topic])[0]
            if described.get("error_code"):
                raise LabError(f"topic {topic!r} cannot be described: does it exist? Run the chapter's cells first")
            seen.clear()
            seen.update({p["partition_index"]: (p["leader_id"], p["replica_nodes"][0])
                         for p in described["partitions"]})
            return all(leader == first for leader, first in seen.values())

        with contextlib.suppress(LabError):  # not settled in time: report the state as it is
            wait_until(preferred, timeout_s=settle_s, interval_s=0.3,
                       what="every partition led by its preferred replica")
    return dict(seen)


def _read_leaders(ctx: dict, bootstrap: str | None = None) -> dict[int, int]:
    with contextlib.closing(_lab.admin(bootstrap_servers=bootstrap or ctx["bootstrap"])) as a:
        return {p["partition_index"]: p["leader_id"] for p in a.describe_topics([ctx["topic"]])[0]["partitions"]}


def _elect(ctx: dict) -> None:
    """Run the preferred leader election the exercise asks for, and wait until the metadata shows it."""
    from kafka.protocol.admin import ElectionType

    from ..wait import wait_until

    with contextlib.closing(_lab.admin(bootstrap_servers=ctx["bootstrap"])) as a:
        a.elect_leaders(ElectionType.PREFERRED, {ctx["topic"]: sorted(_read_leaders(ctx))})
    wait_until(lambda: all(leader == first for leader, first in _leaders(ctx["topic"], ctx["bootstrap"], 0).values()),
               timeout_s=30, what="the preferred leaders taking over")


def _elected_then(change):
    def make(ctx: dict):
        _elect(ctx)
        return change(_read_leaders(ctx))
    return make


def _elect_and_read(ctx: dict) -> dict[int, int]:
    _elect(ctx)
    return _read_leaders(ctx)


@contextlib.contextmanager
def _leaders_moved() -> Iterator[dict]:
    """On a three-broker cluster: a topic of 3 partitions, RF 3, whose leaders moved away from broker 1 (paused
    with SIGSTOP for a moment, as the chapter's crashes do) and stayed away."""
    from kafka.errors import KafkaError

    from ..config import HOST
    from ..wait import wait_until

    broker = _lab.broker()
    bootstrap = ",".join(f"{HOST}:{node.broker_port}" for node in broker.nodes(3))
    topic = unique_name(CHAPTER, "leaders")
    ctx = {"topic": topic, "bootstrap": bootstrap}
    with contextlib.closing(_lab.admin(bootstrap_servers=bootstrap)) as a:
        from kafka.admin import NewTopic

        a.create_topics([NewTopic(topic, 3, 3)])
    try:
        wait_until(lambda: len(_read_leaders(ctx)) == 3 and all(v >= 0 for v in _read_leaders(ctx).values()),
                   timeout_s=30, what=f"{topic} getting its leaders")
        led_by_1 = [p for p, leader in _read_leaders(ctx).items() if leader == 1]
        others = ",".join(f"{HOST}:{node.broker_port}" for node in broker.nodes(3)[1:])
        with _lab.frozen([1]):  # until the controller declares it dead, requests sent to node 1 time out: retry
            wait_until(lambda: all(_read_leaders(ctx, others)[p] != 1 for p in led_by_1), timeout_s=90,
                       what="leadership moving off the paused broker 1", retry_on=(KafkaError,))
        yield ctx
    finally:
        with contextlib.closing(_lab.admin(bootstrap_servers=bootstrap)) as a:
            with contextlib.suppress(Exception):
                a.delete_topics([topic])


@exercise(
    CHAPTER,
    title="Give leadership back to the preferred replicas",
    kind="code",
    function=False,
    expects="a dict {partition: broker id of its leader}, read after your election",
    hints=[
        "The preferred leader of a partition is the first broker in its replica list; after crashes, others may "
        "lead. `elect_leaders(ElectionType.PREFERRED, {TOPIC: [0, 1, 2]})` on an admin client hands leadership "
        "back; take a new one, `admin(bootstrap_servers=BROKERS)`, since a client made before the crashes may not "
        "know a restarted broker yet.",
        "The election is quick, but the metadata catches up a moment later: wait with `replicas.watch(...)` until "
        "each partition's leader is its first replica, then read the leaders with `replicas.partitions(TOPIC)`.",
    ],
    solution='''
with admin(bootstrap_servers=BROKERS) as election_admin:  # a new client knows every broker restarted above
    election_admin.elect_leaders(ElectionType.PREFERRED, {TOPIC: [0, 1, 2]})
for n in replicas.partitions(TOPIC):  # the election is quick, but wait until the metadata shows it
    replicas.watch(TOPIC, n, lambda s: s["leader"] == s["replicas"][0], timeout_s=30)
leaders_solution = {n: s["leader"] for n, s in replicas.partitions(TOPIC).items()}
''',
    reference=_elect_and_read,
    rehearsal=_leaders_moved,
    live=True,
    brokers=3,
    mistakes=[
        Mistake("but its preferred replica (first in the replica list) is broker", make=_read_leaders),
        Mistake("your dict names [0, 1]", make=_elected_then(lambda leaders: {p: leaders[p] for p in (0, 1)})),
        Mistake("read the leaders with describe_topics after the election, not before",
                make=_elected_then(lambda leaders: {**leaders, 0: leaders[0] % 3 + 1})),
        Mistake("answer with a dict {partition: broker id of its leader}", answer=[1, 2, 3], kind="wrong type"),
    ],
)
def preferred_leaders(answer, *, topic: str = TOPIC, bootstrap: str | None = None) -> str:
    """Exercise 2: after a preferred leader election, every partition of ``topic`` is led by its first replica,
    and ``answer`` ({partition: leader}) is what the cluster reports."""
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict {{partition: broker id of its leader}}, not {type_name(answer)}")
    state = _leaders(topic, bootstrap)
    if set(answer) != set(state):
        raise NotYet(f"{topic} has partitions {sorted(state)}, your dict names {sorted(answer, key=str)}")
    not_preferred = {p: lp for p, lp in state.items() if lp[0] != lp[1]}
    if not_preferred:
        raise NotYet("; ".join(
            f"partition {p} is led by broker {leader}, but its preferred replica (first in the replica list) is "
            f"broker {first}" for p, (leader, first) in sorted(not_preferred.items())
        ) + (". Run a preferred election on every partition: "
             "elect_leaders(ElectionType.PREFERRED, {topic: [0, 1, 2]}), then read the leaders again"))
    for p, (leader, _) in sorted(state.items()):
        if answer[p] != leader:
            raise NotYet(f"partition {p} is led by broker {leader}, your dict says {answer[p]}: read the leaders with "
                         f"describe_topics after the election, not before")
    return (f"all {len(state)} partitions of {topic} are led by their preferred replica again, and your dict matches "
            f"the cluster")


# ----------------------------------------------------------------------------------------------- Exercise 3

SETTINGS_KEYS = ("replication_factor", "min_insync_replicas", "acks", "enable_idempotence")


def _three_brokers() -> str:
    """The bootstrap list of the three-broker cluster (every node: clients must find it while one is down)."""
    from ..config import HOST

    return ",".join(f"{HOST}:{node.broker_port}" for node in _lab.broker().nodes(3))


@contextlib.contextmanager
def _kill_rehearsal() -> Iterator[dict]:
    yield {"bootstrap": _three_brokers()}


def _settings(**changes) -> dict:
    return {"replication_factor": 3, "min_insync_replicas": 2, "acks": "all", "enable_idempotence": True, **changes}


def _validated(answer) -> dict:
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict with the keys {list(SETTINGS_KEYS)}, not {type_name(answer)}")
    if any(v is ... for v in answer.values()):
        raise NotAnswered("replace the `...` and run the cell again.")
    missing = [k for k in SETTINGS_KEYS if k not in answer]
    if missing:
        raise NotYet(f"your dict has no {missing[0]!r}; give all four: {list(SETTINGS_KEYS)}")
    extra = sorted(set(answer) - set(SETTINGS_KEYS), key=str)
    if extra:
        raise NotYet(f"{extra[0]!r} is not one of the four settings this exercise asks for: {list(SETTINGS_KEYS)}")
    for key in ("replication_factor", "min_insync_replicas"):
        if isinstance(answer[key], bool) or not isinstance(answer[key], numbers.Integral):
            raise WrongType(f"{key} is a whole number of brokers, not {answer[key]!r}")
    if answer["acks"] not in (0, 1, "all", -1) or isinstance(answer["acks"], bool):
        raise WrongType(f"acks is 0, 1 or \"all\", not {answer['acks']!r}")
    if not isinstance(answer["enable_idempotence"], bool):
        raise WrongType(f"enable_idempotence is True or False, not {answer['enable_idempotence']!r}")
    return dict(answer)


@exercise(
    CHAPTER,
    title="Settings that survive a broker kill",
    kind="code",
    function=False,
    expects="a dict {\"replication_factor\": ..., \"min_insync_replicas\": ..., \"acks\": ..., "
            "\"enable_idempotence\": ...}",
    hints=[
        "Think of the crash of section 4 and the paused followers of section 7: which acks value waits until the "
        "followers have a record, and how many copies must stay in sync for a write to be accepted?",
        "Three copies, at least two of them in sync for every accepted write, the producer waiting for all in-sync "
        "copies, and no duplicates when it resends after the crash.",
    ],
    solution='''
durable_settings = {"replication_factor": 3, "min_insync_replicas": 2, "acks": "all", "enable_idempotence": True}
''',
    reference=lambda ctx: _settings(),
    rehearsal=_kill_rehearsal,
    live=True,
    brokers=3,
    mistakes=[
        Mistake("of the payments acknowledged before the crash are not in the topic",
                answer=_settings(acks=1, enable_idempotence=False)),
        Mistake("min.insync.replicas=1", answer=_settings(min_insync_replicas=1)),
        Mistake("while one broker was down", answer=_settings(replication_factor=2, min_insync_replicas=2)),
        Mistake("only 3 brokers", answer=_settings(replication_factor=4)),
        Mistake("idempotence needs acks=all", answer=_settings(acks=1)),
        Mistake("your dict has no 'acks'", answer={k: v for k, v in _settings().items() if k != "acks"}),
        Mistake("acks is 0, 1 or \"all\"", answer=_settings(acks="al"), kind="wrong type"),
        Mistake("answer with a dict", answer=[3, 2, "all", True], kind="wrong type"),
        Mistake("replace the `...`", answer=dict.fromkeys(SETTINGS_KEYS, ...), kind="not answered"),
    ],
)
def survives_a_leader_kill(answer, *, bootstrap: str | None = None) -> str:
    """Exercise 3: topic and producer settings under which no acknowledged payment is lost, none is stored twice,
    and writes go on, when the leader of the partition is killed (the checker kills it and counts)."""
    s = _validated(answer)
    rf, min_isr, acks = int(s["replication_factor"]), int(s["min_insync_replicas"]), s["acks"]
    if s["enable_idempotence"] and acks not in ("all", -1):
        raise NotYet(f"idempotence needs acks=all (the producer refuses enable_idempotence=True with acks={acks}): "
                     "a resend can only be recognised when every in-sync copy has the first one")
    if rf < 2:
        raise NotYet(f"replication_factor={rf} keeps a single copy: when its broker dies nobody can take over, and "
                     "a lost disk loses the data")
    if min_isr > rf:
        raise NotYet(f"min.insync.replicas={min_isr} is more than the {rf} copies: every acks=all write is refused")
    from kafka.admin import NewTopic
    from kafka.errors import KafkaError

    bootstrap = bootstrap or _three_brokers()
    topic = unique_name(CHAPTER, "kill")
    with contextlib.closing(_lab.admin(bootstrap_servers=bootstrap)) as a:
        configs = {"min.insync.replicas": str(min_isr)}
        brokers = sorted(b["broker_id"] for b in a.describe_cluster()["brokers"])
        if rf <= len(brokers):  # the broker to kill must not be the active controller: losing it and pausing the
            # followers at once can leave the controller quorum without a majority for a long while
            controller = a.describe_metadata_quorum()["topics"][0]["partitions"][0]["leader_id"]
            order = [b for b in brokers if b != controller] + [b for b in brokers if b == controller]
            new = NewTopic(topic, -1, -1, replica_assignments={0: order[:rf]}, topic_configs=configs)
        else:  # let the cluster say why it cannot
            new = NewTopic(topic, 1, rf, topic_configs=configs)
        try:
            a.create_topics([new])
        except KafkaError as e:
            detail = " ".join(str(getattr(e, "description", "") or e).split())
            if "InvalidReplicationFactor" in type(e).__name__:
                raise NotYet(f"the cluster refused replication_factor={rf}: only 3 brokers are registered, and each "
                             "copy needs a broker of its own") from None
            raise NotYet(f"the cluster refused the topic: {type(e).__name__} {detail[:200]}") from None
    try:
        r = _lab.leader_kill_test(topic, bootstrap, s)
    finally:
        with contextlib.closing(_lab.admin(bootstrap_servers=bootstrap)) as a, contextlib.suppress(Exception):
            a.delete_topics([topic])
    kill = f"The checker killed the leader with {r.during_written} payments in flight"
    if r.lost:
        why = ("acks=0 never waits for any broker" if acks == 0 else
               "acks=1 confirms as soon as the leader has a record, before any follower copied it")
        raise NotYet(f"{kill}: {r.lost} of the payments acknowledged before the crash are not in the topic. {why}; "
                     "use acks=\"all\"")
    if r.refused_while_down:
        raise NotYet(f"{kill}: while one broker was down, the new leader refused acks=all writes with "
                     f"NotEnoughReplicas, because min.insync.replicas={min_isr} needs every one of the {rf} copies "
                     "in sync. Allow one copy to be missing")
    if r.in_sync_while_down < 2:
        raise NotYet(f"{kill}: nothing was lost, but while one broker was down each acknowledged payment existed on "
                     f"{r.in_sync_while_down} broker only; one more failure loses it. Keep at least two copies in "
                     "sync for every write")
    if min_isr < 2:
        raise NotYet(f"{kill}: nothing was lost this time, but min.insync.replicas=1 lets the leader alone "
                     "acknowledge a write once its followers fall behind; a crash of that leader then loses it. "
                     "Require two copies")
    if r.duplicates or not s["enable_idempotence"]:
        seen = f"{r.duplicates} payment(s) were stored twice" if r.duplicates else "nothing was stored twice this time"
        raise NotYet(f"{kill}: {seen}, but without idempotence a producer that resends a batch whose answer was "
                     "lost stores it again; turn enable_idempotence on")
    return (f"the leader was killed: all {r.acknowledged} acknowledged payments are in the topic once each, and "
            f"writes went on while the broker was down, on {r.in_sync_while_down} in-sync copies: "
            f"RF {rf}, min.insync.replicas={min_isr}, acks=all, idempotent")

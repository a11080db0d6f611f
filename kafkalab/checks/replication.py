"""Checkers for "Replication and failure" (notebooks/11_replication.ipynb)."""
from __future__ import annotations

import contextlib
import numbers
import time

from ..io.clients import admin
from . import passed

#: The (replication factor, min.insync.replicas) pairs that Exercise 1 asks about.
EXERCISE_1_TOPICS = ((3, 2), (3, 3), (3, 1), (5, 3))


def writes_survive(replication_factor: int, min_insync: int) -> int:
    """How many replicas of a partition may be lost while acks=all writes are still accepted.

    The in-sync set must keep at least ``min.insync.replicas`` members, the leader included; this assumes the
    controller quorum itself stays healthy (dedicated controllers, or fewer than half of them down).
    """
    return max(replication_factor - min_insync, 0)


def _count(value: object, key: tuple[int, int]) -> int:
    assert value is not None, f"replace None for {key} with a number of brokers"
    assert isinstance(value, numbers.Integral) and not isinstance(value, bool), (
        f"answer for {key} with a whole number of brokers, not {value!r}")
    return int(value)


def check_failures_tolerated(answer: dict) -> None:
    """Exercise 1: for each (replication factor, min.insync.replicas), how many brokers may fail while
    a producer with acks=all still gets its acknowledgements?"""
    assert isinstance(answer, dict), "answer with a dict {(replication factor, min.insync.replicas): brokers}"
    missing = [k for k in EXERCISE_1_TOPICS if k not in answer]
    assert not missing, f"your dict has no entry for {missing}; the keys are {list(EXERCISE_1_TOPICS)}"
    for key in EXERCISE_1_TOPICS:
        rf, min_isr = key
        got, expected = _count(answer[key], key), writes_survive(rf, min_isr)
        if got == expected:
            continue
        if got == rf - 1:
            hint = ("that is how many replicas may be lost before acknowledged data is gone (one copy is enough "
                    "to read from); writes stop earlier, as soon as fewer than min.insync.replicas stay in sync")
        elif got == expected - 1:
            hint = "min.insync.replicas counts the leader too: the leader plus its followers must reach it"
        elif got == min_isr:
            hint = "min.insync.replicas is how many must stay, not how many may go"
        else:
            hint = "the in-sync set must keep at least min.insync.replicas members: RF minus min ISR may go"
        raise AssertionError(f"for replication factor {rf} with min.insync.replicas={min_isr}, {got} is not "
                             f"right: {hint}")
    passed("acks=all writes continue while replication factor − min.insync.replicas brokers are down: "
           + ", ".join(f"RF {rf}/min ISR {m} → {writes_survive(rf, m)}" for rf, m in EXERCISE_1_TOPICS))


def _leaders(topic: str, bootstrap: str | None, settle_s: float = 10) -> dict[int, tuple[int, int]]:
    """Partition -> (current leader, preferred leader), read from the cluster.

    Each broker learns of a leader change from the controller a moment after the change; the state is read
    again for up to ``settle_s`` seconds until every partition is led by its preferred replica.
    """
    kwargs = {"bootstrap_servers": bootstrap} if bootstrap else {}
    deadline = time.monotonic() + settle_s
    with contextlib.closing(admin(**kwargs)) as a:
        while True:
            described = a.describe_topics([topic])[0]
            assert not described.get("error_code"), f"topic {topic!r} cannot be described: does it exist?"
            state = {p["partition_index"]: (p["leader_id"], p["replica_nodes"][0]) for p in described["partitions"]}
            if all(leader == preferred for leader, preferred in state.values()) or time.monotonic() > deadline:
                return state
            time.sleep(0.3)


def check_preferred_leaders(topic: str, answer: dict, bootstrap: str | None = None) -> None:
    """Exercise 2: after a preferred leader election, every partition of ``topic`` is led by its first
    replica, and ``answer`` ({partition: leader}) is what the cluster reports."""
    assert isinstance(answer, dict), "answer with a dict {partition: broker id of its leader}"
    state = _leaders(topic, bootstrap)
    assert set(answer) == set(state), (
        f"{topic} has partitions {sorted(state)}, your dict names {sorted(answer)}")
    not_preferred = {p: lp for p, lp in state.items() if lp[0] != lp[1]}
    assert not not_preferred, "; ".join(
        f"partition {p} is led by broker {leader}, but its preferred replica (first in the replica list) is "
        f"broker {preferred}" for p, (leader, preferred) in sorted(not_preferred.items())
    ) + (". Run a preferred election on every partition: "
         "elect_leaders(ElectionType.PREFERRED, {topic: [0, 1, 2]}), then read the leaders again")
    for p, (leader, _) in sorted(state.items()):
        assert answer[p] == leader, (
            f"partition {p} is led by broker {leader}, your dict says {answer[p]}: read the leaders with "
            f"describe_topics after the election, not before")
    passed(f"all {len(state)} partitions of {topic} are led by their preferred replica again, and your dict "
           f"matches the cluster")

"""Exercises of "Monitoring a cluster" (notebooks/13_monitoring.ipynb)."""
from __future__ import annotations

import contextlib
import numbers
from typing import Iterator

from . import _lab
from .answers import type_name
from .core import Mistake, call_learner, exercise
from .verdicts import NotYet, WrongType

CHAPTER = "monitoring"

# ----------------------------------------------------------------------------------------------- Exercise 1

#: What the checker asks the learner's function for: (MBean, attribute, how it may differ from the reference).
READS = (
    ("kafka.controller:type=KafkaController,name=ActiveControllerCount", "Value", "same"),
    ("kafka.server:type=ReplicaManager,name=PartitionCount", "Value", "between"),
    ("kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec", "Count", "between"),
    ("kafka.network:type=RequestMetrics,name=TotalTimeMs,request=Produce", "99thPercentile", "number"),
)


@contextlib.contextmanager
def _agent() -> Iterator[dict]:
    yield {"port": _lab.jolokia_port(1)}


def _post(port: int, body: dict) -> dict:
    import requests

    return requests.post(f"http://127.0.0.1:{port}/jolokia/", json=body, timeout=5).json()


def _whole_answer(port, mbean, attribute):
    """Returns Jolokia's whole answer instead of the number in it."""
    return _post(port, {"type": "read", "mbean": mbean, "attribute": attribute})


def _as_text(port, mbean, attribute):
    """Returns the number as text."""
    return str(_post(port, {"type": "read", "mbean": mbean, "attribute": attribute})["value"])


def _always_value(port, mbean, attribute):
    """Asks every MBean for its Value attribute, whatever was asked."""
    return _post(port, {"type": "read", "mbean": mbean})["value"].get("Value", 0)


@exercise(
    CHAPTER,
    title="Read one metric through Jolokia's REST API",
    kind="code",
    expects="a function fetch_metric(port, mbean, attribute) that returns a number",
    hints=[
        "POST one JSON request to http://127.0.0.1:<port>/jolokia/: {\"type\": \"read\", \"mbean\": ..., "
        "\"attribute\": ...}. `requests.post(url, json=body, timeout=5).json()` sends it and decodes the answer.",
        "The answer is a dict: \"status\" is 200 when the read worked, and the number is under \"value\". Return "
        "that number; raise an error (with the answer's \"error\") when the status is not 200.",
    ],
    solution='''
import requests


def read_metric_solution(port, mbean, attribute):
    """One attribute of one MBean, read through the Jolokia agent on 127.0.0.1:port."""
    body = {"type": "read", "mbean": mbean, "attribute": attribute}
    answer = requests.post(f"http://127.0.0.1:{port}/jolokia/", json=body, timeout=5).json()
    if answer.get("status") != 200:
        raise ValueError(answer.get("error"))
    return answer["value"]
''',
    reference="read_metric_solution",
    rehearsal=_agent,
    live=True,
    mistakes=[
        Mistake("Jolokia's whole answer", answer=_whole_answer),
        Mistake("return the number itself, not its text", answer=_as_text),
        Mistake("but the broker reports", answer=_always_value),
        Mistake("pass a function", answer=42, kind="wrong type"),
    ],
)
def read_metric(answer, *, port: int | None = None) -> str:
    """Exercise 1: the learner's ``read_metric(port, mbean, attribute)`` returns what the broker's agent reports for
    a gauge, a count and a latency percentile."""
    port = port or _lab.jolokia_port(1)
    metrics = _lab.metrics()
    for mbean, attribute, rule in READS:
        before = metrics.value(port, mbean, attribute)
        got = call_learner(answer, port, mbean, attribute, what="your function")
        after = metrics.value(port, mbean, attribute)
        what = f"for {mbean.split(':', 1)[1]} {attribute}"
        if isinstance(got, dict):
            raise NotYet(f"{what} your function returned a dict, Jolokia's whole answer: the number is under its "
                         "\"value\" key")
        if isinstance(got, str):
            raise NotYet(f"{what} your function returned the text {got!r}: return the number itself, not its text")
        if isinstance(got, bool) or not isinstance(got, numbers.Real):
            raise WrongType(f"{what} your function returned {type_name(got)}; return the number (int or float)")
        low, high = min(before, after), max(before, after)
        if rule == "same" and got != before:
            raise NotYet(f"{what} your function returned {got}, but the broker reports {before:g}")
        if rule == "between" and not low <= got <= high:
            raise NotYet(f"{what} your function returned {got}, but the broker reports {low:g}"
                         + (f" to {high:g}" if high != low else ""))
        if rule == "number" and got < 0:
            raise NotYet(f"{what} your function returned {got}; a request time is never negative")
    return ("your function reads a gauge (Value), a meter's total (Count) and a histogram's percentile "
            "(99thPercentile) the way the broker's Jolokia agent reports them")


# ----------------------------------------------------------------------------------------------- Exercise 2

#: (name, samples [(seconds, under-replicated partitions)], for_s, should the alert fire?)
SCENARIOS = (
    ("all healthy", [(0, 0), (30, 0), (60, 0), (90, 0)], 60, False),
    ("down for 70 s and still down", [(0, 0), (10, 3), (40, 3), (80, 2)], 60, True),
    ("a 10 s blip long ago", [(0, 0), (10, 5), (20, 0), (80, 0)], 60, False),
    ("down for 30 s so far", [(0, 0), (10, 4), (40, 4)], 60, False),
    ("recovered, then down again for 40 s", [(0, 2), (50, 2), (55, 0), (60, 3), (100, 3)], 60, False),
    ("exactly 60 s above 0", [(0, 1), (30, 1), (60, 1)], 60, True),
    ("one sample, above 0", [(0, 7)], 60, False),
)


def _blip(samples, for_s):
    """Fires when any sample is above 0."""
    return any(v > 0 for _, v in samples)


def _total(samples, for_s):
    """Adds up all time above 0, not only the current stretch."""
    above = sum(t1 - t0 for (t0, v0), (t1, _) in zip(samples, samples[1:]) if v0 > 0)
    return above >= for_s


def _strict(samples, for_s):
    """Waits for more than for_s seconds instead of at least for_s."""
    start = None
    for t, v in samples:
        start = (start if start is not None else t) if v > 0 else None
    return start is not None and samples[-1][0] - start > for_s


def _last_only(samples, for_s):
    """Looks at the last sample only."""
    return samples[-1][1] > 0


@exercise(
    CHAPTER,
    title="Alert: under-replicated partitions above 0 for N seconds",
    kind="code",
    expects="a function should_alert(samples, for_s) that returns True or False",
    hints=[
        "Walk the samples in order and remember when the current stretch above 0 began; a sample at 0 ends the "
        "stretch (forget its start).",
        "At the end, alert when a stretch is still running and the last sample's time minus its start is at "
        "least for_s.",
    ],
    solution='''
def should_alert_solution(samples, for_s):
    """True when the count has stayed above 0 for at least for_s seconds up to the last sample."""
    started = None
    for t, value in samples:
        if value > 0:
            started = t if started is None else started
        else:
            started = None
    return started is not None and samples[-1][0] - started >= for_s
''',
    reference="should_alert_solution",
    mistakes=[
        Mistake("a 10 s blip long ago", answer=_blip),
        Mistake("recovered, then down again for 40 s", answer=_total),
        Mistake("exactly 60 s above 0", answer=_strict),
        Mistake("down for 30 s so far", answer=_last_only),
        Mistake("return True or False", answer=lambda samples, for_s: "page", kind="wrong type"),
    ],
)
def alert_rule(answer) -> str:
    """Exercise 2: ``should_alert(samples, for_s)`` fires only when under-replicated partitions stayed above 0 for
    at least ``for_s`` seconds up to the last sample."""
    for name, samples, for_s, expected in SCENARIOS:
        got = call_learner(answer, list(samples), for_s, what="your function")
        if not isinstance(got, bool):
            raise WrongType(f"for \"{name}\" your function returned {type_name(got)}; return True or False")
        if got != expected:
            verb = "alerts" if got else "stays quiet"
            right = "an alert" if expected else "no alert"
            raise NotYet(f"for \"{name}\" ({samples}, for_s={for_s}) your function {verb}; that calls for {right}")
    return (f"your rule gives the right answer in all {len(SCENARIOS)} situations: it alerts on a stretch above 0 "
            "of at least for_s seconds that is still going, and forgets a stretch that ended")


# ----------------------------------------------------------------------------------------------- Exercise 3

#: Situation -> the metric (a key of kafkalab.metrics.BY_KEY) that shows it first.
SITUATIONS = {
    "a broker died; its partitions run on fewer copies": "under_replicated",
    "producers with acks=all get NotEnoughReplicas": "under_min_isr",
    "a partition has no leader; nobody can read or write it": "offline",
    "the cluster has no active controller": "active_controller",
    "the producers write more than the sizing plan assumed": "bytes_in",
}


def _swap(answer: dict, a: str, b: str) -> dict:
    out = dict(answer)
    out[a], out[b] = answer[b], answer[a]
    return out


@exercise(
    CHAPTER,
    title="Which metric shows it?",
    kind="concept",
    expects="a dict {situation: metric key}, the keys of SITUATIONS, each value a key of kafkalab.metrics.BY_KEY",
    hints=[
        "Section 1's table lists each metric with what it tells an operator; the keys are the short names in its "
        "first column (\"under_replicated\", \"bytes_in\", ...).",
        "Under-replicated means a copy is missing; under min ISR means so many are missing that acks=all writes "
        "are refused; offline means none is left to lead.",
    ],
    solution='''
metric_for_solution = {
    "a broker died; its partitions run on fewer copies": "under_replicated",
    "producers with acks=all get NotEnoughReplicas": "under_min_isr",
    "a partition has no leader; nobody can read or write it": "offline",
    "the cluster has no active controller": "active_controller",
    "the producers write more than the sizing plan assumed": "bytes_in",
}
''',
    reference=lambda ctx: dict(SITUATIONS),
    mistakes=[
        Mistake("under min ISR", answer=_swap(SITUATIONS, "a broker died; its partitions run on fewer copies",
                                              "producers with acks=all get NotEnoughReplicas")),
        Mistake("no replica left to lead", answer={**SITUATIONS, "a partition has no leader; nobody can read or "
                                                                 "write it": "under_replicated"}),
        Mistake("not a metric of the table", answer={**SITUATIONS, "the cluster has no active controller": "controller"}),
        Mistake("your dict has no entry for", answer={k: v for k, v in list(SITUATIONS.items())[:3]}),
        Mistake("answer with a dict", answer=list(SITUATIONS.values()), kind="wrong type"),
    ],
)
def metric_for(answer) -> str:
    """Exercise 3: for each situation, the metric that shows it."""
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict {{situation: metric key}}, not {type_name(answer)}")
    known = _lab.metrics().BY_KEY
    missing = [s for s in SITUATIONS if s not in answer]
    if missing:
        raise NotYet(f"your dict has no entry for {missing[0]!r}; copy the keys of SITUATIONS")
    for situation, right in SITUATIONS.items():
        got = answer[situation]
        if got not in known:
            raise NotYet(f"{got!r} is not a metric of the table; the keys are {', '.join(known)}")
        if got == right:
            continue
        why = {
            "under_min_isr": "under min ISR counts partitions with so few copies in sync that acks=all writes are "
                             "refused; one missing copy is not yet that",
            "under_replicated": "a partition with no leader has no replica left to lead: that is an offline "
                                "partition, not merely an under-replicated one",
        }.get(got, f"{got!r} ({known[got].why}) does not show this first")
        if situation == "producers with acks=all get NotEnoughReplicas" and got == "under_replicated":
            why = ("under-replicated counts every partition missing a copy; only those under min ISR refuse "
                   "acks=all writes")
        raise NotYet(f"for \"{situation}\": {why}")
    return "each situation has the metric that shows it first: " + ", ".join(SITUATIONS.values())

"""Chapter 12's rebalance arithmetic (kafkalab.rebalance.timeline, GroupRun.measure) on made-up member reports."""
from __future__ import annotations

import json

import pytest

from kafkalab.errors import LabError
from kafkalab.rebalance import member, timeline
from kafkalab.rebalance.scenario import GroupRun, Step


def owns(t, who, *parts, why="assigned"):
    return {"event": "owns", "member": who, "partitions": list(parts), "why": why, "t": t}


def test_spans_follow_each_members_reports_and_end_at_a_kill():
    events = [owns(0.0, "c1", 0, 1), owns(0.0, "c2", 2), owns(5.0, "c1", 0, why="revoked"),
              owns(5.5, "c2", 1, 2), {"event": "started", "member": "c3", "t": 6.0}]
    spans = timeline.spans(events, kills={"c2": [8.0]}, until=10.0)
    assert timeline.Span(1, "c1", 0.0, 5.0) in spans
    assert timeline.Span(1, "c2", 5.5, 8.0) in spans and timeline.Span(2, "c2", 0.0, 8.0) in spans
    assert timeline.Span(0, "c1", 0.0, 10.0) in spans  # still open: closed at `until`
    assert [s.partition for s in spans] == sorted(s.partition for s in spans)


def test_a_restarted_member_starts_afresh_after_its_kill():
    events = [owns(0.0, "c2", 2, 3), owns(3.0, "c2", 2, 3)]  # the new process reports the same partitions
    spans = timeline.spans(events, kills={"c2": [1.0]}, until=4.0)
    assert sorted((s.partition, s.start, s.end) for s in spans) == [(2, 0.0, 1.0), (2, 3.0, 4.0), (3, 0.0, 1.0),
                                                                    (3, 3.0, 4.0)]
    assert timeline.pauses(spans, [2, 3], 1.0, 3.0) == {2: 2.0, 3: 2.0}


def test_pause_counts_only_time_without_any_owner():
    spans = [timeline.Span(0, "a", 0, 4), timeline.Span(0, "b", 6, 10), timeline.Span(1, "a", 0, 10)]
    assert timeline.unowned(spans, 0, 2, 8) == pytest.approx(2.0)
    assert timeline.pauses(spans, [0, 1, 2], 0, 10) == {0: 2.0, 1: 0.0, 2: 10.0}
    assert timeline.owners_at(spans, 5) == {1: "a"}
    assert timeline.moved(spans, 1, 7) == [0]


def test_overlapping_owners_are_not_counted_twice():
    spans = [timeline.Span(0, "a", 0, 6), timeline.Span(0, "b", 4, 10)]
    assert timeline.unowned(spans, 0, 0, 10) == 0.0


def run_with(events, steps, partitions=2) -> GroupRun:
    run = GroupRun("eager", "t", "g", partitions)  # the eager protocol needs no broker to set up
    run.events.extend(events)
    run.steps.extend(steps)
    return run


def test_measure_reports_each_step_after_the_start():
    events = [owns(0.1, "c1", 0, 1), owns(2.0, "c1", why="revoked"), owns(2.5, "c1", 0), owns(2.6, "c2", 1)]
    run = run_with(events, [Step("start", "c1", 0.0, 0.1), Step("join", "c2", 1.5, 2.6)])
    (row,) = run.measure()
    assert row["step"] == "join" and row["member"] == "c2" and row["settled_s"] == pytest.approx(1.1)
    assert row["max_pause_s"] == pytest.approx(0.6) and row["partitions_paused"] == 2 and row["moved"] == 1
    assert run.emptied(run.step("join")) == ["c1"]
    with pytest.raises(LabError, match="no 'kill' step"):
        run.step("kill")


def test_unknown_protocol_is_refused_with_the_choices():
    with pytest.raises(LabError, match="choose one of eager, cooperative, consumer"):
        GroupRun("roundrobin", "t", "g", 6)


def test_the_consumer_protocol_runs_on_confluent_kafka_only():
    assert member.PROTOCOLS["consumer"][0] == "confluent-kafka"
    assert {member.PROTOCOLS[p][0] for p in ("eager", "cooperative")} == {"confluent-kafka"}
    assert member.PROTOCOLS["cooperative-kafka-python"][0] == "kafka-python"


def test_a_member_prints_a_line_per_change(capsys):
    own = member.Ownership("c1")
    own.change("assigned", added=[3, 1])
    own.change("revoked", removed=[9])  # nothing changed: no line
    own.change("revoked", removed=[1])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(x["partitions"], x["why"]) for x in lines] == [([1, 3], "assigned"), ([3], "revoked")]


def test_a_member_with_an_unknown_protocol_says_so(capsys):
    assert member.main([json.dumps({"protocol": "sticky", "member": "c1"})]) == 2
    assert "choose one of" in capsys.readouterr().err

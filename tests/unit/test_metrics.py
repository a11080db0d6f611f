"""kafkalab.metrics: Jolokia requests and answers, rates from counts, the recorder's history (no broker needed)."""
from __future__ import annotations

import pytest

from kafkalab import metrics
from kafkalab.errors import LabError
from kafkalab.metrics import BY_KEY, Sample, parse, rates, read_requests

MESSAGES_IN, BYTES_IN = BY_KEY["messages_in"], BY_KEY["bytes_in"]
P50, P99, URP = BY_KEY["produce_p50"], BY_KEY["produce_p99"], BY_KEY["under_replicated"]


def ok(metric, value):
    return {"request": {"type": "read", "mbean": metric.mbean, "attribute": [metric.attribute]}, "value": value,
            "status": 200, "timestamp": 1}


def test_one_request_per_mbean_naming_every_attribute():
    reqs = read_requests([P50, P99, URP, P50])
    assert reqs == [{"type": "read", "mbean": P50.mbean, "attribute": ["50thPercentile", "99thPercentile"]},
                    {"type": "read", "mbean": URP.mbean, "attribute": ["Value"]}]


def test_parse_reads_attributes_and_keeps_missing_mbeans_with_their_reason():
    answers = [
        ok(P50, {"50thPercentile": 1.5, "99thPercentile": 24}),
        ok(MESSAGES_IN, {"Count": 1200}),
        {"request": {"type": "read", "mbean": URP.mbean}, "status": 404, "error": URP.mbean,
         "error_type": "javax.management.InstanceNotFoundException"},
    ]
    s = parse(answers, [P50, P99, MESSAGES_IN, URP, BYTES_IN], "broker 1", at=10.0)
    assert s.values == {"produce_p50": 1.5, "produce_p99": 24.0, "messages_in": 1200.0}
    assert s.missing["under_replicated"] == f"InstanceNotFoundException: {URP.mbean}"
    assert s.missing["bytes_in"] == "no answer for this MBean"
    assert s.up and s.source == "broker 1" and s.at == 10.0


def test_parse_refuses_what_is_not_a_jolokia_answer_and_skips_non_numbers():
    with pytest.raises(LabError, match="instead of a list"):
        parse({"status": 200}, [URP])
    s = parse([ok(URP, {"Value": "high"}), "junk"], [URP])
    assert s.missing == {"under_replicated": f"{URP.mbean} has no number in Value"}
    assert parse([ok(URP, {"Value": True})], [URP]).values == {}  # a boolean is no count


def test_a_sample_without_any_value_is_a_broker_that_is_down():
    assert not Sample("broker 2", 0.0, {}, {"under_replicated": "the agent does not answer"}).up
    assert Sample("broker 2", 0.0, {}, {}).up  # nothing asked, nothing missing


def test_rates_divide_count_differences_by_time_and_keep_gauges():
    before = Sample("b", 10.0, {"messages_in": 1000.0, "under_replicated": 3.0})
    after = Sample("b", 12.0, {"messages_in": 1600.0, "under_replicated": 0.0})
    assert rates(before, after, [MESSAGES_IN, URP]) == {"messages_in": 300.0, "under_replicated": 0.0}


def test_rates_are_unknown_after_a_restart_or_without_a_value():
    before = Sample("b", 10.0, {"messages_in": 1000.0})
    restarted = Sample("b", 12.0, {"messages_in": 40.0})
    assert rates(before, restarted, [MESSAGES_IN, BYTES_IN, URP]) == {
        "messages_in": None, "bytes_in": None, "under_replicated": None}
    assert rates(before, Sample("b", 10.0, {"messages_in": 2000.0}), [MESSAGES_IN]) == {"messages_in": None}


def test_metrics_by_key_and_an_unknown_key():
    assert metrics.metrics(["bytes_in"]) == (BYTES_IN,)
    assert metrics.metrics("bytes_in") == (BYTES_IN,)
    assert metrics.metrics() == metrics.BROKER_METRICS
    with pytest.raises(LabError, match="unknown metric 'bytes'; choose from messages_in"):
        metrics.metrics(["bytes"])


def test_every_metric_is_a_count_or_a_gauge_with_a_reason():
    for m in metrics.BROKER_METRICS:
        assert m.kind in ("count", "gauge") and m.why and m.label
        assert (m.kind == "count") == m.mbean.endswith("PerSec")


def test_recorder_turns_counts_into_rates_and_marks_a_broker_that_is_down(monkeypatch):
    answers = iter([
        Sample("broker 1", 100.0, {"messages_in": 0.0, "under_replicated": 0.0}),
        Sample("broker 1", 101.0, {"messages_in": 500.0, "under_replicated": 2.0}),
        Sample("broker 1", 102.0, {}, {"messages_in": "the agent does not answer",
                                       "under_replicated": "the agent does not answer"}),
    ])
    monkeypatch.setattr(metrics, "read", lambda port, wanted, name, timeout_s=3: next(answers))
    rec = metrics.Recorder({"broker 1": 1}, keys=["messages_in", "under_replicated"], interval_s=1)
    rec.t0 = 100.0
    for _ in range(3):
        rec.sample_once()
    assert rec.series("messages_in", "broker 1") == [(0.0, None), (1.0, 500.0), (2.0, None)]
    assert rec.series("under_replicated", "broker 1") == [(0.0, 0.0), (1.0, 2.0), (2.0, None)]
    assert rec.peak("under_replicated") == 2.0 and rec.samples == 3
    assert rec.latest() == {"broker 1": {"messages_in": None, "under_replicated": None}}
    assert list(rec.frame("messages_in").columns) == ["t", "source", "key", "value"]


def test_cluster_total_adds_brokers_and_skips_missing_values():
    assert metrics.cluster_total({"b1": {"bytes_in": 5.0}, "b2": {"bytes_in": None}, "b3": {}}, "bytes_in") == 5.0


def test_share_group_lag_parsed_from_the_tool_output():
    text = ("\nGROUP           TOPIC           PARTITION  START-OFFSET  LAG\n"
            "mon-share2      mon-test        0          500           19501\n"
            "mon-share2      mon-test        1          -             -\n")
    assert metrics.parse_share_group_lag(text) == {("mon-test", 0): 19501, ("mon-test", 1): None}
    assert metrics.parse_share_group_lag("Group 'x' does not exist.") == {}


def test_steady_rate_is_the_median_inside_the_window():
    pts = [(0.0, 0.0), (1.0, 100.0), (2.0, 120.0), (3.0, None), (4.0, 110.0), (5.0, 10.0)]
    assert metrics.steady_rate(pts, 1, 4) == 110.0
    assert metrics.steady_rate(pts, 10, 20) is None

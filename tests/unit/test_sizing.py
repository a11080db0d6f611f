"""Unit tests for kafkalab.sizing: the seed's table, the limits, the units and every bad input."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from kafkalab.errors import LabError
from kafkalab.sizing import (
    GB,
    KB,
    MB,
    SEED_WORKLOADS,
    Assumptions,
    KiB,
    MiB,
    Workload,
    consumer_perf_bytes_per_s,
    describe_totals,
    partitions_needed,
    producer_perf_bytes_per_s,
    results_table,
    size_workload,
    size_workloads,
    steps_table,
    totals,
)

RF1 = Assumptions(replication_factor=1)


def sizing_table(workloads, units="decimal"):
    """The table (one row per workload) and the totals of ``workloads`` under the default assumptions."""
    results = size_workloads(workloads)
    return results_table(results, units), totals(results)


def _one(rate: float, size: float, peak: float = 1, **assumed) -> object:
    return size_workload(Workload("w", rate, size, peak), Assumptions(**assumed))


# --- the seed's table ---------------------------------------------------------------------------------------

def test_seed_workloads_are_the_seeds_two_processes():
    assert [(w.name, w.rate, w.size_bytes, w.peak_factor) for w in SEED_WORKLOADS] == [
        ("query batch", 10, 1000, 1), ("real-time", 10_000, 1000, 1)]


def test_seed_table_reproduced():
    table, total = sizing_table(SEED_WORKLOADS)
    assert list(table["topic"]) == ["query batch", "real-time"]
    assert list(table["rate (msg/s)"]) == [10, 10_000]
    assert list(table["message size (KB)"]) == [1, 1]
    assert list(table["throughput at peak (MB/s)"]) == [0.01, 10]  # 10 KB/s and 10 MB/s
    assert list(table["partitions"]) == [1, 10]
    assert list(table["consumers per group"]) == [1, 10]
    assert list(table["limit that binds"]) == ["minimum", "both"]
    assert total.topics == 2
    assert (total.partitions, total.consumers) == (11, 11)


def test_seed_throughputs_in_bytes():
    batch, realtime = size_workloads(SEED_WORKLOADS)
    assert batch.throughput_bytes_per_s == 10 * KB
    assert realtime.throughput_bytes_per_s == 10 * MB
    assert realtime.messages_per_partition == 1000  # the diagram's "1k TPS" per partition


def test_seed_diagram_batch_of_1mb_messages_needs_10_partitions():
    r = size_workload(Workload("query batch (diagram)", rate=10, size_bytes=1 * MB))
    assert r.throughput_bytes_per_s == 10 * MB
    assert (r.partitions, r.consumers) == (10, 10)


def test_seeds_1024_kbps_wording_gives_the_same_answers_in_binary_units():
    binary = Assumptions(producer_bytes_per_s=1 * MiB, consumer_bytes_per_s=1 * MiB)
    batch = size_workload(Workload("b", 10, 1 * KiB), binary)
    realtime = size_workload(Workload("r", 10_000, 1 * KiB), binary)
    assert (batch.partitions, realtime.partitions) == (1, 10)  # 10 KiB/s, and 9.77 MiB/s -> 10


def test_mixing_binary_messages_with_decimal_partitions_changes_the_answer():
    assert size_workload(Workload("r", 10_000, 1 * KiB)).partitions == 11  # 10.24 MB/s against 1 MB/s


# --- replication, storage, network ---------------------------------------------------------------------------

def test_rf3_triples_storage_and_bandwidth_but_not_partitions():
    w = SEED_WORKLOADS[1]
    one = size_workload(w, RF1)
    three = size_workload(w, Assumptions(replication_factor=3))
    assert three.partitions == one.partitions == 10
    assert three.consumers == one.consumers == 10
    assert three.storage_bytes == 3 * one.storage_bytes
    assert three.network_out_bytes_per_s == 3 * one.network_out_bytes_per_s  # one group: 10 out + 20 replication
    received_by_brokers = [r.network_in_bytes_per_s + r.replication_bytes_per_s for r in (one, three)]
    assert received_by_brokers == [10 * MB, 30 * MB]
    assert one.replication_bytes_per_s == 0
    assert three.network_in_bytes_per_s == one.network_in_bytes_per_s == 10 * MB  # producers still send it once


def test_storage_is_average_throughput_times_retention_times_rf():
    r = size_workload(Workload("w", 100, 2 * KB, peak_factor=5),
                      Assumptions(replication_factor=2, retention_hours=24))
    assert r.storage_bytes == 100 * 2 * KB * 24 * 3600 * 2  # the peak does not fill the disk
    assert r.avg_throughput_bytes_per_s == 200 * KB
    assert r.throughput_bytes_per_s == 1 * MB


def test_zero_retention_stores_nothing():
    assert size_workload(SEED_WORKLOADS[1], Assumptions(retention_hours=0)).storage_bytes == 0


def test_network_out_counts_every_consumer_group_plus_replication():
    r = size_workload(SEED_WORKLOADS[1], Assumptions(replication_factor=3, consumer_groups=4))
    assert r.network_in_bytes_per_s == 10 * MB
    assert r.replication_bytes_per_s == 20 * MB
    assert r.network_out_bytes_per_s == 4 * 10 * MB + 20 * MB
    assert (r.consumers, r.consumer_instances) == (10, 40)  # per group, and over all groups


def test_peak_factor_raises_partitions_and_network_not_storage():
    steady = size_workload(Workload("w", 10_000, KB))
    peaky = size_workload(Workload("w", 10_000, KB, peak_factor=3))
    assert (steady.partitions, peaky.partitions) == (10, 30)
    assert peaky.network_in_bytes_per_s == 3 * steady.network_in_bytes_per_s
    assert peaky.storage_bytes == steady.storage_bytes


def test_totals_add_up_and_count_one_topic_per_workload():
    results = size_workloads([*SEED_WORKLOADS, Workload("diagram batch", 10, MB)], RF1)
    t = totals(results)
    assert (t.topics, t.partitions, t.consumers) == (3, 21, 21)
    assert t.network_in_bytes_per_s == 10 * KB + 10 * MB + 10 * MB
    assert t.storage_bytes == sum(r.storage_bytes for r in results)


def test_describe_totals_names_topics_and_partitions():
    _, t = sizing_table(SEED_WORKLOADS)
    text = describe_totals(t)
    assert text.startswith("2 topics (one per workload), 11 partitions, 11 consumers per group")
    assert "\n" not in text


# --- which limit binds --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("p", "c", "throughput", "binding", "partitions"), [
    (1 * MB, 1 * MB, 10 * MB, "both", 10),
    (2 * MB, 1 * MB, 10 * MB, "consumer", 10),  # producers would manage with 5
    (1 * MB, 4 * MB, 10 * MB, "producer", 10),  # consumers would manage with 3
    (3 * MB, 2 * MB, 10 * MB, "consumer", 5),   # 3.33 -> 4 for producers, 5 for consumers
    (1 * MB, 1 * MB, 999_999, "minimum", 1),
    (5 * MB, 1 * MB, 500 * KB, "minimum", 1),
    (5 * MB, 1 * MB, 1 * MB, "consumer", 1),    # exactly at the consumer limit: it binds, no headroom
])
def test_which_limit_binds(p, c, throughput, binding, partitions):
    r = _one(throughput, 1, producer_bytes_per_s=p, consumer_bytes_per_s=c)
    assert (r.binding, r.partitions) == (binding, partitions)
    assert r.partitions_for_producers == math.ceil(throughput / p)
    assert r.partitions_for_consumers == math.ceil(throughput / c)


# --- exact boundaries ---------------------------------------------------------------------------------------

def test_throughput_exactly_one_partitions_worth_needs_one():
    assert _one(1 * MB, 1).partitions == 1
    assert _one(1000, 1 * KB).partitions == 1


def test_one_byte_over_needs_a_second_partition():
    assert _one(1 * MB + 1, 1).partitions == 2


def test_exact_multiples_are_not_rounded_up_by_floating_point():
    assert 30_000 * KB * 1.1 / MB > 33  # plain floats would ask for 34 partitions
    assert size_workload(Workload("w", 30_000, KB, peak_factor=1.1)).partitions == 33
    assert size_workload(Workload("w", 10_000, KB, peak_factor=1.1)).partitions == 11
    assert 3 * 0.1 / 0.3 > 1  # and here 2 instead of 1
    assert _one(3, 0.1, producer_bytes_per_s=0.3, consumer_bytes_per_s=0.3).partitions == 1


def test_partitions_needed_matches_the_formula():
    assert partitions_needed(10 * MB, 1 * MB, 1 * MB) == 10
    assert partitions_needed(10 * MB, 2 * MB, 0.5 * MB) == 20
    assert partitions_needed(1, 1 * MB, 1 * MB) == 1
    assert partitions_needed(3 * MB + 1, 1 * MB, 1.5 * MB) == 4


def test_messages_per_partition_uses_the_peak():
    r = size_workload(Workload("w", 10_000, KB, peak_factor=2))
    assert (r.partitions, r.messages_per_partition) == (20, 1000)


# --- units in the table -------------------------------------------------------------------------------------

def test_table_column_names_carry_decimal_units():
    table = results_table(size_workloads(SEED_WORKLOADS))
    assert {"message size (KB)", "throughput at peak (MB/s)", "storage (GB)", "network in (MB/s)",
            "replication (MB/s)", "network out (MB/s)"} <= set(table.columns)
    assert table["storage (GB)"].iloc[1] == 10 * MB * 168 * 3600 * 3 / GB


def test_binary_units_change_names_and_values_but_not_partitions():
    table, _ = sizing_table(SEED_WORKLOADS, units="binary")
    assert table["throughput at peak (MiB/s)"].iloc[1] == 10 * MB / MiB
    assert table["message size (KiB)"].iloc[1] == 1000 / 1024
    assert list(table["partitions"]) == [1, 10]


def test_inputs_may_be_exact_types_but_not_text_nor_floats_for_counts():
    w = Workload(" payments ", 10_000, Decimal("1000"), Fraction(3, 2))
    assert (w.name, w.rate, w.size_bytes, w.peak_factor) == ("payments", 10_000, 1000, 1.5)
    with pytest.raises(LabError, match="rate='10000'.*text, not a number"):  # the course's one rule set
        Workload("w", "10000", 1000)
    with pytest.raises(LabError, match="replication_factor=3.0: a float, not a whole number"):
        Assumptions(replication_factor=3.0)


# --- bad input: one line, naming the field and the value --------------------------------------------------

GOOD = dict(name="w", rate=10, size_bytes=1000, peak_factor=1)
BAD_NUMBERS = [0, -1, math.nan, math.inf, -math.inf, None, "", "   ", "ten", True, [1], "nan"]


def _assert_one_line_naming(exc: pytest.ExceptionInfo, field: str, value: object) -> None:
    message = str(exc.value)
    assert field in message and "allowed" in message, message
    assert repr(value)[:20] in message, message
    assert "\n" not in message


@pytest.mark.parametrize("field", ["rate", "size_bytes", "peak_factor"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_workload_numbers_raise_laberror(field, value):
    with pytest.raises(LabError) as exc:
        Workload(**{**GOOD, field: value})
    _assert_one_line_naming(exc, field, value)
    assert "'w'" in str(exc.value)  # says which workload


@pytest.mark.parametrize(("field", "value"), [
    ("rate", 1e12 + 1), ("rate", 10**40), ("size_bytes", 2**31), ("peak_factor", 0.5), ("peak_factor", 1001),
])
def test_absurd_workload_values_raise_laberror(field, value):
    with pytest.raises(LabError) as exc:
        Workload(**{**GOOD, field: value})
    _assert_one_line_naming(exc, field, value)


@pytest.mark.parametrize("value", ["", "   ", None, 42])
def test_bad_name_raises_laberror(value):
    with pytest.raises(LabError) as exc:
        Workload(**{**GOOD, "name": value})
    _assert_one_line_naming(exc, "name", value)


@pytest.mark.parametrize(("field", "value"), [
    *(("producer_bytes_per_s", v) for v in BAD_NUMBERS),
    *(("consumer_bytes_per_s", v) for v in BAD_NUMBERS),
    ("producer_bytes_per_s", 2e12),
    *(("replication_factor", v) for v in [0, -3, 11, 2.5, math.nan, None, "three", ""]),
    *(("retention_hours", v) for v in [-1, -0.5, math.nan, math.inf, None, "", "week", 1e9]),
    *(("consumer_groups", v) for v in [0, -1, 1.5, 10_001, None, "", "x", math.inf]),
])
def test_bad_assumptions_raise_laberror(field, value):
    with pytest.raises(LabError) as exc:
        Assumptions(**{field: value})
    _assert_one_line_naming(exc, field, value)


def test_bad_lists_raise_laberror():
    with pytest.raises(LabError, match="workloads"):
        size_workloads([])
    with pytest.raises(LabError, match=r"workloads\[1\]"):
        size_workloads([SEED_WORKLOADS[0], "real-time"])
    with pytest.raises(LabError, match="name='query batch'.*two workloads"):
        size_workloads([SEED_WORKLOADS[0], Workload("query batch", 1, 1)])
    with pytest.raises(LabError, match="units='metric'"):
        sizing_table(SEED_WORKLOADS, units="metric")
    with pytest.raises(LabError, match="assumptions"):
        size_workload(SEED_WORKLOADS[0], {"replication_factor": 3})


def test_results_are_frozen():
    r = size_workload(SEED_WORKLOADS[0])
    with pytest.raises(AttributeError):
        r.partitions = 5


# --- the steps, written out, and the perf tools' output -------------------------------------------------------

def test_steps_table_writes_out_the_notes_calculation():
    steps = steps_table(size_workloads(SEED_WORKLOADS))
    assert list(steps.columns) == ["topic", "step", "how", "result"]
    real_time = steps[steps.topic == "real-time"].set_index("step")["result"].to_dict()
    assert real_time == {"messages": "10,000 msg/s", "message size": "1 KB", "throughput T": "10 MB/s",
                         "partitions": "10", "consumers per group": "10"}
    peaked = steps_table([size_workload(Workload("orders", 4_000, 1.5 * KB, 2),
                                        Assumptions(producer_bytes_per_s=2 * MB, consumer_bytes_per_s=1.2 * MB))])
    row = peaked.set_index("step").loc["throughput T"]
    assert row["how"] == "4,000 msg/s × 1.5 KB × peak 2" and row["result"] == "12 MB/s"
    assert peaked.set_index("step").loc["partitions", "result"] == "10"


PRODUCER_OUT = """10471 records sent, 2093.4 records/sec (2.00 MB/sec), 1.9 ms avg latency, 250.0 ms max latency.
30000 records sent, 13297.9 records/sec (12.68 MB/sec), 246.24 ms avg latency, 583.00 ms max latency, 272 ms 50th, \
476 ms 95th, 484 ms 99th, 489 ms 99.9th.
"""
CONSUMER_OUT = """start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, \
fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-11-25 18:40:46:082, 2026-11-25 18:40:46:876, 28.6102, 36.0330, 30000, 37783.3753, 556, 238, 120.2110, 126050.4202
"""


def test_perf_tool_output_becomes_decimal_bytes_per_second():
    assert producer_perf_bytes_per_s(PRODUCER_OUT, 1000) == pytest.approx(13_297_900)
    assert consumer_perf_bytes_per_s(CONSUMER_OUT, 1000) == pytest.approx(126_050_420.2)


def test_perf_tool_output_without_a_summary_is_one_line():
    with pytest.raises(LabError, match="no summary line"):
        producer_perf_bytes_per_s("10471 records sent, 2093.4 records/sec (2.00 MB/sec)\n", 1000)
    with pytest.raises(LabError, match="fetch.nMsg.sec"):
        consumer_perf_bytes_per_s("WARN nothing consumed\n", 1000)

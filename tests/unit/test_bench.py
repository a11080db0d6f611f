"""The benchmark's bookkeeping (bench/run.py): verdicts against the goals and the printed report.

The measurements themselves need a broker and time; `make bench` runs them. Nothing here times anything."""
from __future__ import annotations

import pytest

from bench import run as bench

RESULTS = {
    "cold_start": {"first_up_with_format_s": 2.4, "embedded_start_s": 1.5, "embedded_no_cds_start_s": 2.3,
                   "bare_java_start_s": 2.2, "bare_java_cds_start_s": 1.4, "launcher_overhead": 0.68,
                   "launcher_overhead_no_cds": 1.05, "launcher_overhead_both_cds": 1.07},
    "tool_start": {"tool_start_s": 0.5, "tool_start_no_cds_s": 0.9, "speedup": 1.8},
    "throughput": {"1k": {
        "perf_tool": {"msgs_per_s": 60000, "mb_per_s": 60.0},
        "confluent_kafka": {"msgs_per_s": 150000, "mb_per_s": 150.0},
        "kafka_python": {"msgs_per_s": 5000, "mb_per_s": 5.0},
        "kafka_python_pure_crc": {"msgs_per_s": 4000, "mb_per_s": 4.0},
        "consumer_perf_tool": {"msgs_per_s": 1}, "consumer_confluent_kafka": {"msgs_per_s": 2},
        "consumer_kafka_python": {"msgs_per_s": 3},
        "confluent_vs_perf": 2.5, "kafka_python_vs_perf": 0.083}},
    "widgets": {"sizing": {"median_ms": 40.0, "max_ms": 60.0, "changes": 15}, "records_per_replay": 300},
    "lateness": {"10k_ms": 120.0},
    "cdc": {"replica": {"n": 50, "median_ms": 140.0, "p95_ms": 215.0, "max_ms": 260.0},
            "flink": {"n": 50, "median_ms": 300.0, "p95_ms": 420.0, "max_ms": 500.0}, "gap_ms": 50},
    "notebooks": {"suite_s": 300.0, "per_notebook": {"01.ipynb": {"seconds": 7.0, "passed": False}}},
}


def test_verdicts_compare_each_figure_with_its_goal_in_the_right_direction():
    v = bench._verdicts(RESULTS)
    assert v["launcher_overhead"]["met"] is True  # 0.68 <= 1.2
    assert v["confluent_vs_perf_1k"]["met"] is True  # 2.5 >= 0.5
    assert v["kafka_python_vs_perf_1k"]["met"] is False  # 0.083 < 0.1: reported, not hidden
    assert v["nbval_suite_s"]["met"] is True
    assert v["lateness_10k_ms"]["met"] is False  # 120 ms > 100 ms
    assert v["kafka_python_vs_perf_1k"]["value"] == 0.083 and v["kafka_python_vs_perf_1k"]["goal"] == ">= 0.1"


def test_verdicts_leave_out_what_was_not_measured():
    assert bench._verdicts({"lateness": {"10k_ms": 10.0}}).keys() == {"lateness_10k_ms"}
    assert bench._verdicts({}) == {}


def test_report_shows_misses_and_the_figures_without_class_sharing():
    text = bench.report(dict(RESULTS, goals=bench._verdicts(RESULTS)))
    assert "NO" in text  # a missed goal is printed as missed
    assert "without class archive 2.3 s" in text and "both without archive 1.05" in text
    assert "kafka_python_pure_crc" in text and "4000 msgs/s" in text
    assert "(FAILED)" in text  # a notebook that failed under nbval is flagged
    assert "widget sizing" in text and "records_per_replay" not in text
    assert "median  140.0 ms, p95  215.0 ms" in text and "p95  420.0 ms" in text  # the commit-to-sink part


def test_latencies_call_the_change_once_per_value():
    seen = []
    out = bench._latencies(seen.append, [3, 1, 2])
    assert seen == [3, 1, 2]
    assert out["changes"] == 3 and 0 <= out["median_ms"] <= out["max_ms"]


def test_unknown_parts_are_refused_before_anything_runs(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--only", "coldstart"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_tuned_settings_translate_to_kafka_python_names():
    from bench import run

    assert run._kafka_python_settings(run.TUNED) == {"acks": "all", "linger_ms": 5, "batch_size": 1_000_000,
                                                     "compression_type": None, "enable_idempotence": True}
    assert run._kafka_python_settings({"compression.type": "lz4", "enable.idempotence": "false"}) == {
        "compression_type": "lz4", "enable_idempotence": False}


def test_report_prints_the_settings_and_each_producer_as_a_share_of_the_ceiling():
    from bench import run

    fig = {"msgs_per_s": 1000, "mb_per_s": 1.0}
    results = {"throughput": {"settings": {"tuned": run.TUNED, "defaults": run.DEFAULTS},
                              "1k": {"perf_tool": fig, "kafka_python": {"msgs_per_s": 250, "mb_per_s": 0.25},
                                     "vs_ceiling": {"kafka_python": 0.25}}}}
    text = run.report(results)
    assert "batch.size=1000000" in text and "linger.ms=5" in text and "acks=all" in text
    assert "kafka_python_defaults rows: kafka-python 3.0 defaults" in text
    assert any("perf_tool" in ln and "ceiling" in ln for ln in text.splitlines())
    assert any(" kafka_python " in ln and "0.25 of it" in ln for ln in text.splitlines())

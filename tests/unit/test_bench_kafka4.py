"""bench/kafka4.py's bookkeeping: what `make bench` prints for Chapter 12's parts (nothing is timed here)."""
from __future__ import annotations

from bench import kafka4

RESULTS = {
    "rebalance": {
        "rounds": 5,
        "eager": {"failed_rounds": 0, "failures": [],
                  "join": {"max_pause_s_median": 0.6, "max_pause_s_max": 1.54, "partition_seconds_median": 1.52,
                           "partition_seconds_max": 4.0, "settled_s_median": 1.0, "settled_s_max": 2.0, "rounds": 5}},
        "cooperative-kafka-python": {"failed_rounds": 3, "failures": ["group ... did not happen within 60 s"],
                                     "kill": {"max_pause_s_median": 9.59, "max_pause_s_max": 9.62,
                                              "partition_seconds_median": 19.18, "partition_seconds_max": 19.2,
                                              "settled_s_median": 9.6, "settled_s_max": 9.7, "rounds": 2}},
    },
    "share": {"1_consumers": {"perf_tool_msgs_per_s": 33356, "share_worker_msgs_per_s_from_start": 30000,
                              "share_worker_msgs_per_s_from_first_record": 100000, "python_driven_msgs_per_s": 26107},
              "4_consumers": {"perf_tool_msgs_per_s": 48368, "share_worker_error": "no output",
                              "python_driven_msgs_per_s": 45789}},
}


def test_report_lines_name_each_protocol_step_and_the_rounds_that_did_not_settle():
    text = "\n".join(kafka4.report_lines(RESULTS))
    assert "rebalance eager" in text and "join  longest pause median   0.6 s, max  1.54 s" in text
    assert "cooperative-kafka-python 3 round(s) did not settle" in text
    assert "(2 rounds)" in text  # a protocol whose rounds failed says on how many the figures rest


def test_report_lines_show_a_failed_share_worker_run_as_unknown_not_zero():
    lines = kafka4.report_lines(RESULTS)
    one = next(x for x in lines if "share 1 consumer" in x)
    four = next(x for x in lines if "share 4 consumer" in x)
    assert "33356 msgs/s" in one and "100000 after the first record" in one
    assert "ShareWorker       ? msgs/s" in four


def test_the_parts_are_registered_with_the_harness():
    from bench import run

    assert set(kafka4.PARTS) <= set(run.PARTS)

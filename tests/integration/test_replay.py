"""kafkalab.lateness.replay against the live course cluster: order, timestamps, seeks by time, and the Quix cross-check."""
from __future__ import annotations

import contextlib
import math
import signal
import time

import pytest

from kafkalab.errors import LabError
from kafkalab.io.clients import admin
from kafkalab.io.topics import delete_topic
from kafkalab.lateness import replay
from kafkalab.lateness.engine import Record, run_windows
from kafkalab.lateness.generator import ReplayParams, purchase_stream, simulated_run
from kafkalab.widgets.lateness import replay_widget

#: 2026-11-02 00:00 UTC, a fixed date in the past: same records every run, and only safe with retention.ms=-1.
START = 1_793_577_600_000
HOUR = 3_600_000


def test_round_trip_keeps_arrival_order_and_event_times(topic):
    records = purchase_stream(200, seed=3, start_ms=START, mean_gap_ms=300, late_share=0.2, late_by_ms=10_000)
    assert [r.event_time_ms for r in records] != sorted(r.event_time_ms for r in records)  # out of order on purpose
    back = replay.round_trip(topic, records)
    assert back == records  # same order, event time from the record timestamp, key, value, arrival header


def test_topic_keeps_old_timestamps(topic):
    replay.create_topic(topic)
    from confluent_kafka.admin import AdminClient, ConfigResource

    from kafkalab.io.connection import connection

    client = AdminClient(connection().librdkafka())  # kept alive until the answer is in
    described = client.describe_configs([ConfigResource("TOPIC", topic)])
    configs = next(iter(described.values())).result(timeout=10)
    assert configs["retention.ms"].value == "-1"
    assert configs["message.timestamp.type"].value == "CreateTime"
    month_ago = Record(int(time.time() * 1000) - 30 * 24 * HOUR, 1.5, "k")
    assert replay.produce_records(topic, [month_ago]) == 1
    assert replay.read_records(topic) == [month_ago]


def test_key_override_and_keyless_records(topic):
    records = [Record(START, 1.0, "a"), Record(START + 1, 2.0, None), Record(START + 2, 3.0, "c", START + 9)]
    back = replay.round_trip(topic, records, key="shop-1")
    assert [r.key for r in back] == ["shop-1"] * 3
    assert [r.processing_time_ms for r in back] == [None, None, START + 9]
    assert replay.round_trip(topic, records[1:2]) == records[1:2]  # no key stays no key


def test_future_timestamps_are_refused(topic):
    replay.create_topic(topic)
    future = Record(int(time.time() * 1000) + 2 * HOUR, 1.0, "k")  # beyond message.timestamp.after.max.ms (1 h)
    with pytest.raises(LabError, match="InvalidTimestamp"):
        replay.produce_records(topic, [future])
    assert replay.read_records(topic) == []


def test_read_from_time_starts_at_the_first_record_stamped_at_or_after(topic):
    day = 24 * HOUR
    records = [
        Record(START - 2 * HOUR, 1.0, "s"),  # offset 0: the day before
        Record(START + 9 * HOUR, 2.0, "s"),  # offset 1: first record of the day
        Record(START + day + HOUR, 3.0, "s"),  # offset 2: next day
        Record(START + 15 * HOUR, 4.0, "s"),  # offset 3: late record of the day
    ]
    replay.round_trip(topic, records)
    assert replay.offset_for_time(topic, START) == 1
    assert replay.offset_for_time(topic, START + 10 * day) is None
    seek = replay.read_from_time(topic, START)
    assert seek.offset == 1 and seek.records == records[1:]
    assert replay.read_from_time(topic, START + 10 * day).records == []


def test_publish_and_read_json(topic):
    replay.create_topic(topic)
    assert replay.publish_json(topic, "2026-11-02", {"total": 1.5, "version": 1}) == 0
    assert replay.publish_json(topic, "2026-11-02", {"total": 2.5, "version": 2}) == 1
    assert replay.read_json(topic) == [(0, "2026-11-02", {"total": 1.5, "version": 1}),
                                       (1, "2026-11-02", {"total": 2.5, "version": 2})]


def test_topic_run_fn_drives_the_replay_widget(topic):
    run_fn = replay.topic_run_fn(topic)
    params = ReplayParams(n=60, start_ms=START)
    assert run_fn(params) == simulated_run(params)
    widget = replay_widget(run_fn, start_ms=START, n=60)
    assert widget.last_run is not None and widget.status.value == ""
    assert widget.last_summary["records"] == 60


@pytest.mark.parametrize(("delay", "lateness"), [(2_000, 5_000), (3_000, 0)])
def test_quix_final_totals_match_the_engine_when_grace_is_delay_plus_lateness(topic, delay, lateness):
    window = 10_000
    records = purchase_stream(150, seed=11, start_ms=START, mean_gap_ms=250, late_share=0.15, late_by_ms=12_000)
    last = max(r.event_time_ms for r in records)
    sentinel = Record(last - last % window + 2 * window + delay + lateness, 0.0)  # closes every real window
    back = replay.round_trip(topic, [*records, sentinel], key="shop-1")

    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    quix = replay.quix_window_totals(topic, window, delay + lateness, idle_timeout_s=1.0)
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers

    run = run_windows(back, window, delay, lateness, flush=False)
    final = {r.window_start_ms: (r.total, r.count) for r in run.results}
    got = {w.window_start_ms: (w.total, w.count) for w in quix.totals}
    assert set(got) == set(final) and len(quix.totals) == len(got)  # one result per window, the same windows
    for start, (total, count) in final.items():
        assert math.isclose(got[start][0], total, abs_tol=1e-9) and got[start][1] == count, start
    assert [late.offset for late in quix.late] == [o.arrival for o in run.outcomes if o.status == "dropped"]
    assert [w.window_start_ms for w in run.open_windows] == [sentinel.event_time_ms - sentinel.event_time_ms % window]
    with contextlib.closing(admin()) as a:
        assert quix.consumer_group not in {g["group_id"] for g in a.list_groups()}


def test_a_missing_topic_is_reported_at_once(topic):
    delete_topic(topic)
    for read in (replay.read_records, replay.read_json, lambda name: replay.offset_for_time(name, START)):
        with pytest.raises(LabError, match="does not exist"):
            read(topic)


def test_quix_run_is_stopped_by_the_watchdog_when_it_would_wait_too_long(topic):
    replay.create_topic(topic)  # empty: with a 30 s idle timeout the run would wait 30 s for a first record
    with pytest.raises(LabError, match="did not finish"):  # an idle-timeout end would return, not raise
        replay.quix_window_totals(topic, 1_000, 0, idle_timeout_s=30, max_runtime_s=2)


def test_the_quix_group_is_deleted_even_when_its_last_member_leaves_late(topic):
    """Each Quix run's group is deleted afterwards (kafkalab.io.quix.bounded_run, used by this chapter's and chapter
    4's runs); a member still leaving at that moment (the broker answers NonEmptyGroupError) must not leave the
    group and its committed offsets behind."""
    import threading

    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    from kafkalab.io.clients import consumer
    from kafkalab.io.quix import bounded_run
    from kafkalab.wait import wait_until

    replay.round_trip(topic, [Record(START, 1.0, "k")])
    with bounded_run("late-quix") as group:
        member = consumer(topic, group_id=group, enable_auto_commit=False, session_timeout_ms=6000)
        wait_until(lambda: member.poll(timeout_ms=500) is not None and member.assignment(), timeout_s=15,
                   what="the member joining the group")  # it gets partition 0
        member.commit({TopicPartition(topic, 0): OffsetAndMetadata(1, "", -1)})
        leaves = threading.Timer(2.0, member.close)  # the member leaves while the cleanup is already running
        leaves.start()
    leaves.join()
    with contextlib.closing(admin()) as a:
        assert a.list_group_offsets({group: None}).get(group, {}) == {}
        assert group not in {g["group_id"] for g in a.list_groups()}

"""streams/PaymentsApp.java (Kafka Streams) against the live course cluster, and the launcher's stop guarantee."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid

import pytest

from kafkalab import streams as sa
from kafkalab.io.groups import configure_group, group_config_origins
from kafkalab.io.topics import delete_topic
from kafkalab.cluster.procs import pid_alive, pids_with_arg
from kafkalab.datagen import EPOCH_MS


def payment(i: int, customer: str, amount: float) -> dict:
    return {"payment_id": f"T{i:03d}", "customer_id": customer, "merchant": "cafe", "method": "card",
            "amount": amount, "currency": "EUR", "ts_ms": EPOCH_MS + i * 1000}


#: A small input whose results are known by hand: the filter keeps amounts of 10.00 and more, the inner join
#: drops C019 (deleted by a tombstone) and C020 (never in the table).
SMALL = [
    payment(0, "C001", 12.50),
    payment(1, "C002", 5.00),   # under 10 EUR: filtered out
    payment(2, "C001", 22.50),
    payment(3, "C003", 10.00),  # exactly 10 EUR: kept
    payment(4, "C003", 9.99),   # filtered out
    payment(5, "C019", 40.00),  # customer deleted from the table: dropped by the join
    payment(6, "C020", 40.00),  # customer never in the table: dropped by the join
    payment(7, "C002", 100.01),
]
TOTALS = {"C001": {"count": 2, "sum_cents": 3500}, "C002": {"count": 1, "sum_cents": 10001},
          "C003": {"count": 1, "sum_cents": 1000}}
TIERS = {"T000": "basic", "T002": "basic", "T003": "gold", "T007": "silver"}


@pytest.fixture
def prefix():
    name = f"test-streams-{uuid.uuid4().hex[:6]}"
    yield name
    for topic in sa.topic_names(name).values():
        with contextlib.suppress(Exception):
            delete_topic(topic)


@pytest.fixture
def app_id(tmp_path):
    name = sa.new_application_id("test-streams-app")
    yield name
    assert pids_with_arg(f"-Dkafkalab.streams.app={name}") == [], "a JVM of the test survived it"
    with contextlib.suppress(Exception):
        sa.delete_application(name)


def jvms(application_id: str) -> list[int]:
    return pids_with_arg(f"-Dkafkalab.streams.app={application_id}")


def test_plain_python_reference_agrees_with_the_hand_computed_totals():
    enriched, updates = sa.expected(SMALL, sa.table_of(sa.customer_changelog()))
    assert {k: v[-1] for k, v in updates.items()} == TOTALS
    assert {v["payment_id"]: v["tier"] for _, v in enriched} == TIERS


def test_app_produces_the_expected_aggregates(prefix, app_id, tmp_path):
    topics = sa.create_topics(prefix)
    sa.produce_customers(topics["customers"], sa.customer_changelog())
    sa.produce_payments(topics["payments"], SMALL)
    with sa.run(app_id, state_dir=tmp_path, prefix=prefix, configs={"commit.interval.ms": 300},
                max_seconds=120) as app:
        sa.wait_caught_up(app_id, [topics["payments"], topics["customers"]])
    assert app.ended == "terminated", app.log
    assert app.states[-1] == "NOT_RUNNING"

    totals = sa.read_topic(topics["totals"])
    assert sa.latest_per_key(totals) == TOTALS
    assert [m.value["count"] for m in totals if m.key == "C001"] == [1, 2]  # one output record per update
    enriched = sa.read_topic(topics["enriched"])
    assert {m.value["payment_id"]: m.value["tier"] for m in enriched} == TIERS
    assert {m.value["payment_id"]: m.value["amount_cents"] for m in enriched}["T003"] == 1000
    # the state store's changelog exists, is named after the application, and holds the same table
    changelog = f"{app_id}-totals-store-changelog"
    assert sa.internal_topics(app_id) == [changelog]
    assert sa.latest_per_key(sa.read_topic(changelog)) == TOTALS


def test_quix_twin_agrees_with_the_reference(prefix):
    topics = sa.create_topics(prefix)
    sa.produce_customers(topics["customers"], sa.customer_changelog())
    sa.produce_payments(topics["payments"], SMALL)
    enriched, updates = sa.expected(SMALL, sa.table_of(sa.customer_changelog()))
    quix = sa.quix_run(prefix)
    assert quix.updates == updates
    assert sorted(quix.enriched, key=lambda kv: kv[1]["payment_id"]) == enriched


def test_leaving_the_block_by_an_error_stops_the_jvm(prefix, app_id, tmp_path):
    sa.create_topics(prefix)
    with pytest.raises(RuntimeError, match="boom"):
        with sa.run(app_id, state_dir=tmp_path, prefix=prefix) as app:
            assert jvms(app_id) == [app.pid]
            raise RuntimeError("boom")
    assert app.ended == "terminated"
    assert not pid_alive(app.pid)
    assert jvms(app_id) == []


def test_a_jvm_that_ignores_sigterm_is_killed_after_the_grace_period(prefix, app_id, tmp_path):
    sa.create_topics(prefix)
    with sa.run(app_id, state_dir=tmp_path, prefix=prefix, grace_s=2) as app:
        os.kill(app.pid, signal.SIGSTOP)  # a frozen JVM cannot run its shutdown hook
    assert app.ended == "killed"
    assert jvms(app_id) == []


def test_kill_is_a_kill_minus_9(prefix, app_id, tmp_path):
    sa.create_topics(prefix)
    with sa.run(app_id, state_dir=tmp_path, prefix=prefix) as app:
        app.kill()
        assert app.proc.returncode == -signal.SIGKILL
    assert app.ended == "killed"
    assert "PENDING_SHUTDOWN" not in app.states  # no clean close happened
    assert jvms(app_id) == []


def test_the_app_stops_by_itself_after_its_time_limit(prefix, app_id, tmp_path):
    sa.create_topics(prefix)
    cmd = sa.java_command(app_id, tmp_path, prefix=prefix, max_seconds=1)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, start_new_session=True)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "kafkalab-streams time limit of 1 s reached, closing" in res.stdout
    assert "kafkalab-streams closed" in res.stdout
    assert jvms(app_id) == []


def test_describe_needs_no_broker():
    text = sa.describe("anything")
    for name in ("at-least-10-eur", "to-cents", "join-tier", "count-and-sum", "customers-store", "totals-store",
                 "anything-payments", "anything-customers", "anything-enriched", "anything-totals"):
        assert name in text
    assert "Sub-topology: 1" not in text  # one sub-topology: the join's inputs are processed together


def test_unknown_guarantee_is_refused(tmp_path):
    from kafkalab.errors import LabError

    with pytest.raises(LabError, match="exactly_once_v2"):
        sa.java_command("x", tmp_path, guarantee="exactly_once")


# ------------------------------------------------------------------------------ the streams rebalance protocol
def test_with_group_protocol_streams_the_app_forms_a_streams_group(prefix, app_id, tmp_path):
    if sa.group_protocol() != sa.STREAMS:
        pytest.skip("this cluster has streams groups off (streams.version 0)")
    topics = sa.create_topics(prefix)
    sa.produce_customers(topics["customers"], sa.customer_changelog())
    sa.produce_payments(topics["payments"], SMALL)
    assert sa.prepare_group(app_id, sa.STREAMS) == sa.QUICK_START
    with sa.run(app_id, state_dir=tmp_path, prefix=prefix, configs={"commit.interval.ms": 300},
                protocol=sa.STREAMS) as app:
        sa.wait_caught_up(app_id, [topics["payments"], topics["customers"]])
        (member,) = sa.describe_group(app_id, "--members")
        listed = sa.list_groups({app_id: "app"})
    assert app.protocol == "streams" and app.ended == "terminated", app.log
    assert member["MEMBER"] == "<member>" and member["ASSIGNMENTS"] == "ACTIVE: 0:[0,1];"  # two tasks, one instance
    assert listed == [{"GROUP": "app", "TYPE": "Streams", "PROTOCOL": "streams"}]
    assert sa.latest_per_key(sa.read_topic(topics["totals"])) == TOTALS
    # the app's session.timeout.ms=6000 is a classic-protocol setting: the broker's value applies to this group
    configs = group_config_origins(app_id, [*sa.LIVENESS, *sa.QUICK_START])
    assert configs["streams.session.timeout.ms"] == (45000, "the broker's group.streams.session.timeout.ms")
    assert configs["streams.initial.rebalance.delay.ms"] == (0, "set for this group")
    # a clean close left the group: it can be reset at once, and the reset deletes the internal topics
    reset = sa.reset_application(app_id, [topics["payments"], topics["customers"]], sa.STREAMS)
    assert [r["NEW-OFFSET"] for r in reset.rows] == ["0"] * 4 and "<application.id>" in reset.command
    assert sa.internal_topics(app_id) == []
    sa.delete_application(app_id)
    assert group_config_origins(app_id, sa.QUICK_START)["streams.initial.rebalance.delay.ms"][1].startswith("the broker")


def test_a_streams_group_cannot_have_the_apps_6_second_session(app_id):
    if sa.group_protocol() != sa.STREAMS:
        pytest.skip("this cluster has streams groups off (streams.version 0)")
    from kafkalab.errors import LabError

    with pytest.raises(LabError, match="streams.session.timeout.ms must be in the range 45000 to 60000"):
        configure_group(app_id, **{"streams.session.timeout.ms": 6000})


def test_classic_protocol_is_the_default_and_reported(prefix, app_id, tmp_path):
    sa.create_topics(prefix)
    assert "group.protocol=classic" in sa.java_command(app_id, tmp_path, prefix=prefix)
    assert "group.protocol=streams" in sa.java_command(app_id, tmp_path, prefix=prefix, protocol=sa.STREAMS)
    with sa.run(app_id, state_dir=tmp_path, prefix=prefix) as app:
        listed = sa.list_groups({app_id: "app"})
    assert app.protocol == "classic"
    assert listed == [{"GROUP": "app", "TYPE": "Classic", "PROTOCOL": "consumer"}]


# ------------------------------------------------------------------------------ kill -9 before the first commit
@pytest.mark.parametrize("guarantee", [sa.AT_LEAST_ONCE, sa.EXACTLY_ONCE])
def test_crash_and_restart_counts_twice_only_under_at_least_once(guarantee, prefix):
    pays = [payment(i, c, a) for i, (c, a) in enumerate([("C001", 12.5), ("C002", 30.0), ("C003", 11.0),
                                                          ("C001", 15.0), ("C002", 20.0), ("C003", 40.0)])]
    run = sa.crash_and_restart(guarantee, pays, first_batch=3, prefix=prefix)
    try:
        assert run.ended == "killed" and run.processed_before_kill == 3
        truth = {"C001": 2, "C002": 2, "C003": 2}
        if guarantee == sa.AT_LEAST_ONCE:
            assert run.after_kill == {"all records": 3, "read_committed": 3}
            assert run.counts == {"C001": 3, "C002": 3, "C003": 3}  # the first batch, counted again
            assert len(run.restored) == 2 and all("<application.id>-totals-store-changelog" in r for r in run.restored)
        else:
            assert run.after_kill == {"all records": 3, "read_committed": 0}  # an open transaction, then aborted
            assert run.counts == truth
    finally:
        sa.delete_application(run.application_id)
        sa.cleanup_dir(run.state_dir)
        assert jvms(run.application_id) == []


# ------------------------------------------------------------------------------ a Quix pipeline written elsewhere
def test_run_pipeline_returns_what_the_pipeline_wrote(prefix):
    topics = sa.create_topics(prefix)
    sa.produce_payments(topics["payments"], SMALL)
    got = sa.run_pipeline(lambda sdf: sdf.filter(lambda p: p["amount"] >= sa.MIN_AMOUNT).apply(sa.slim),
                          topics["payments"], topics["enriched"])
    want = [(p["customer_id"], sa.slim(p)) for p in SMALL if p["amount"] >= sa.MIN_AMOUNT]
    assert sorted(got, key=lambda kv: kv[1]["payment_id"]) == want
    with pytest.raises(TypeError, match="returned None"):
        sa.run_pipeline(lambda sdf: None, topics["payments"], topics["totals"])
    with pytest.raises(KeyError):  # a failing row: the error itself comes out, Quix's log of it does not
        sa.run_pipeline(lambda sdf: sdf.apply(lambda p: p["nope"]), topics["payments"], topics["totals"])

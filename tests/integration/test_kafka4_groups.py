"""Chapter 12 on the real broker: share groups through Kafka's Java share consumer, transactions with kafka-python
and confluent-kafka, and each group protocol as the broker reports it."""
from __future__ import annotations

import contextlib
import subprocess
import time
import uuid

import pytest

from kafkalab import share, transactions
from kafkalab.io.clients import producer
from kafkalab.io.groups import configure_group, delete_group, group_types
from kafkalab.io.topics import delete_topic, recreate_topic
from kafkalab.rebalance.scenario import group_run, scenario
from kafkalab.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def group():
    name = f"test-kafka4-{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(Exception):
        delete_group(name, timeout_s=15)


def fill(topic: str, n: int, partitions: int = 1) -> None:
    recreate_topic(topic, partitions=partitions)
    with producer() as p:
        for i in range(n):
            p.send(topic, value=f"job-{i:02d}".encode())
        p.flush(timeout=30)


# ------------------------------------------------------------------------------------------ share groups
def test_all_accepted_every_record_is_consumed_exactly_once_across_share_consumers(topic, group):
    fill(topic, 60)
    configure_group(group, **share.CLASSROOM)
    with share.run(group, topic, consumers=3, handle=lambda job: "accept",
                   configs={"max.poll.records": 5, "share.acquire.mode": "record_limit"}) as w:
        w.wait_for(lambda w: len(w.accepted()) >= 60, timeout_s=60, what="60 records accepted")
        time.sleep(1)  # anything delivered twice would show up now
    assert sorted(d.offset for d in w.deliveries) == list(range(60))
    assert {d.delivery_count for d in w.deliveries} == {1}
    assert len(w.per_member()) >= 2, w.per_member()  # one partition, several consumers took part
    assert not [a for a in w.acks if a["error"]], w.acks


def test_a_released_record_comes_back_with_delivery_count_2(topic, group):
    fill(topic, 5)
    configure_group(group, **share.CLASSROOM)

    def release_job_2_once(job):
        return "release" if job.offset == 2 and job.delivery_count == 1 else "accept"

    with share.run(group, topic, consumers=2, handle=release_job_2_once) as w:
        w.wait_for(lambda w: len(w.accepted()) >= 5, timeout_s=60, what="5 records accepted")
    job_2 = sorted((d.delivery_count, d.decision) for d in w.deliveries if d.offset == 2)
    assert job_2 == [(1, "release"), (2, "accept")]


def test_rejected_and_over_delivered_records_are_archived_to_the_dead_letter_topic(topic, group):
    fill(topic, 6)
    dlq = f"dlq.{topic}"
    recreate_topic(dlq, configs={"errors.deadletterqueue.group.enable": "true"})
    configure_group(group, **share.CLASSROOM, **{"errors.deadletterqueue.topic.name": dlq,
                                                 "share.delivery.count.limit": 3})

    def decide(job):
        return {1: "reject", 4: "release"}.get(job.offset, "accept")

    try:
        with share.run(group, topic, handle=decide) as w:
            w.wait_for(lambda w: len(w.deliveries) >= 8 and all(d.decision for d in w.deliveries), timeout_s=60,
                       what="job 1 rejected and job 4 delivered 3 times")
            time.sleep(1)
        assert sorted(d.delivery_count for d in w.deliveries if d.offset == 4) == [1, 2, 3]  # the limit: then archived
        dead = sorted(share.dead_letters(dlq, expect=2), key=lambda r: int(r["offset"]))
        assert [(r["offset"], r["delivery_count"], r["group"]) for r in dead] == [("1", "1", group), ("4", "3", group)]
        assert "rejected" in dead[0]["reason"] and "delivery count" in dead[1]["reason"]
    finally:
        delete_topic(dlq)


def test_a_killed_share_consumers_records_come_back_before_the_lock_runs_out(topic, group):
    fill(topic, 10)
    configure_group(group, **share.CLASSROOM)  # the lock stays at Kafka's 30 s
    small = {"max.poll.records": 5, "share.acquire.mode": "record_limit"}
    doomed = share.ShareWorker(group, topic, handle=lambda job: time.sleep(60) or "accept", name="doomed",
                               configs=small)
    try:
        doomed.wait_for(lambda w: len(w.received) >= 1, timeout_s=60, what="the doomed consumer holding a batch")
        held = sorted({d.offset for d in doomed.received})
        with share.run(group, topic, handle=lambda job: "accept", name="survivor") as survivor:
            survivor.wait_for(lambda w: len(w.accepted()) >= 10 - len(held), timeout_s=60, what="the rest accepted")
            killed_at = time.time()
            doomed.kill()
            survivor.wait_for(lambda w: len(w.accepted()) >= 10, timeout_s=25, what="the dead consumer's records")
        back = [d for d in survivor.deliveries if d.delivery_count == 2]
        assert sorted(d.offset for d in back) == held
        assert min(d.t for d in back) - killed_at < 20  # the connection closed: no wait for the 30 s lock
    finally:
        doomed.kill()


def test_the_java_share_worker_compiles_against_the_pinned_clients(tmp_path):
    from kafkalab.cluster.maven import classpath

    res = subprocess.run(["javac", "-cp", classpath("streams", quiet=True), "-d", str(tmp_path),
                          str(share.WORKER_SOURCE)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


# ------------------------------------------------------------------------------------------ transactions
def test_an_aborted_transaction_is_invisible_to_read_committed_and_visible_to_read_uncommitted(topic):
    recreate_topic(topic, partitions=1)
    tx = transactions.transactional_producer(f"{topic}-tx")
    try:
        tx.begin_transaction()
        tx.send(topic, value=b"kept")
        tx.commit_transaction()
        tx.begin_transaction()
        tx.send(topic, value=b"dropped")
        tx.flush()
        tx.abort_transaction()
    finally:
        tx.close(timeout=5)
    views = {r["value"]: r for r in transactions.both_views(topic)}
    assert views["kept"]["read_committed"] and views["kept"]["read_uncommitted"]
    assert not views["dropped"]["read_committed"] and views["dropped"]["read_uncommitted"]


def test_consume_transform_produce_output_is_seen_once_after_an_abort(topic, group):
    source, sink = f"{topic}-in", f"{topic}-out"
    fill(source, 20)
    recreate_topic(sink, partitions=1)
    from kafkalab.io.clients import consumer

    c = consumer(source, group_id=group, enable_auto_commit=False, isolation_level="read_committed",
                 max_poll_records=10)
    p = transactions.transactional_producer(f"{topic}-relay")
    failed, done = False, 0
    try:
        deadline = time.monotonic() + 60
        while done < 20 and time.monotonic() < deadline:
            batch = [r for rs in c.poll(timeout_ms=1000).values() for r in rs]
            if not batch:
                continue
            p.begin_transaction()
            for r in batch:
                p.send(sink, value=r.value)
            p.flush()
            if not failed:  # the first batch fails after its output was written
                failed = True
                p.abort_transaction()
                transactions.rewind(c)
                continue
            p.send_offsets_to_transaction(transactions.next_offsets(batch), c.group_metadata())
            p.commit_transaction()
            done += len(batch)
    finally:
        c.close()
        p.close(timeout=5)
        with contextlib.suppress(Exception):
            delete_topic(source)
    try:
        views = transactions.both_views(sink)
        committed = sorted(r["value"] for r in views if r["read_committed"])
        assert committed == [f"job-{i:02d}" for i in range(20)]
        assert len(views) > 20  # the aborted attempt is in the log, for read_uncommitted readers
    finally:
        delete_topic(sink)


def test_a_second_producer_with_the_same_transactional_id_fences_the_first(topic):
    from kafka.errors import ProducerFencedError

    recreate_topic(topic, partitions=1)
    first = transactions.transactional_producer(f"{topic}-tx")
    first.begin_transaction()
    first.send(topic, value=b"zombie")
    first.flush()
    second = transactions.transactional_producer(f"{topic}-tx")
    try:
        with pytest.raises(ProducerFencedError):
            first.commit_transaction()
    finally:
        second.close(timeout=5)
        first.close(timeout=5)
    assert [r["read_committed"] for r in transactions.both_views(topic)] == [False]


def test_confluent_kafka_reports_a_fenced_producer_as_fatal(topic):
    from confluent_kafka import KafkaError, KafkaException, Producer

    from kafkalab.config import bootstrap_servers

    recreate_topic(topic, partitions=1)
    conf = {"bootstrap.servers": bootstrap_servers(), "transactional.id": f"{topic}-c", "log_level": 0}
    first = Producer(conf)
    first.init_transactions(20)
    first.begin_transaction()
    first.produce(topic, b"zombie")
    first.flush(10)
    second = Producer(conf)
    second.init_transactions(20)
    with pytest.raises(KafkaException) as e:
        first.produce(topic, b"again")
        first.commit_transaction(20)
    assert e.value.args[0].code() == KafkaError._FENCED and e.value.args[0].fatal()


# ------------------------------------------------------------------------------------------ group protocols
def test_each_protocols_group_reports_its_type_and_protocol(topic):
    recreate_topic(topic, partitions=2)
    groups = {protocol: f"test-kafka4-{protocol}-{uuid.uuid4().hex[:6]}" for protocol in ("eager", "consumer")}
    share_group = f"test-kafka4-share-{uuid.uuid4().hex[:6]}"
    try:
        with group_run("eager", topic, groups["eager"], 2) as classic, \
                group_run("consumer", topic, groups["consumer"], 2) as kip848:
            for run in (classic, kip848):
                run.start("c1", what="start")
            for run in (classic, kip848):
                run.wait_settled(45)
            with share.run(share_group, topic):
                listed = wait_until(lambda: (lambda found: found if len(found) == 3 else None)(
                    group_types([*groups.values(), share_group])), timeout_s=30, what="the three groups listed")
        assert listed == {groups["eager"]: ("classic", "consumer"), groups["consumer"]: ("consumer", "consumer"),
                          share_group: ("share", "share")}
    finally:
        for g in [*groups.values(), share_group]:
            with contextlib.suppress(Exception):
                delete_group(g, timeout_s=15)


def test_the_consumer_protocol_moves_only_what_must_move_and_a_kill_waits_for_the_session(topic, group):
    recreate_topic(topic, partitions=6)
    run = scenario("consumer", topic, group)
    rows = {row["step"]: row for row in run.measure()}
    assert rows["join"]["moved"] >= 1 and rows["join"]["partitions_paused"] <= 2, rows["join"]
    assert run.emptied(run.step("join")) == []  # nobody gave everything back
    assert 8 <= rows["kill"]["max_pause_s"] <= 20, rows["kill"]  # the group's 10 s session

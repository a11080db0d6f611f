"""Chapter 8's alerting service and throughput measurement against the live broker."""
import uuid

import pytest

from kafkalab.datagen import payments
from kafkalab.io.clients import json_producer, producer
from kafkalab.io.groups import delete_group
from kafkalab.io.topics import delete_topic, recreate_topic
from kafkalab.processing import scaleout
from kafkalab.processing.rules import AlertEngine, Rules, first_per_id, incident_stream
from kafkalab.processing.service import read_alerts, run_service


@pytest.fixture
def topics(topic):
    names = {"payments": f"{topic}-pay", "alerts": f"{topic}-alerts", "dlq": f"{topic}-dlq"}
    yield names
    for name in names.values():
        try:
            delete_topic(name)
        except Exception:
            pass


def same_merchant_again(payment, state):
    """A rule of one's own, kept per customer by the service: the merchant of the customer's previous payment."""
    previous, state["merchant"] = state.get("merchant"), payment["merchant"]
    return "same merchant again" if previous == payment["merchant"] else None


def test_two_members_raise_the_offline_alerts_and_route_poison(topics):
    stream = incident_stream(300)
    recreate_topic(topics["payments"], partitions=3)
    recreate_topic(topics["alerts"], partitions=3)
    recreate_topic(topics["dlq"])
    with json_producer() as p:
        for pay in stream:
            p.send(topics["payments"], key=pay["customer_id"], value=pay)
    with producer() as p:
        p.send(topics["payments"], key=b"C004", value=b"{broken")
    group = f"test-processing-{uuid.uuid4().hex[:6]}"
    rules = Rules(max_per_minute=5, amount_factor=6)
    try:
        run = run_service(topics["payments"], topics["alerts"], topics["dlq"], members=2, group=group, rules=rules,
                          custom={"same-merchant": same_merchant_again})
    finally:
        delete_group(group)
    offline = sorted(AlertEngine(rules, custom={"same-merchant": same_merchant_again}).run(stream),
                     key=lambda a: a.alert_id)
    assert {a.rule for a in offline} == {"velocity", "amount", "same-merchant"}, "the test needs alerts of each rule"
    assert [a.to_dict() for a in run.alerts] == [a.to_dict() for a in offline]
    assert [reason for _, _, reason in run.poison] == ["not JSON (JSONDecodeError)"]
    assert sorted(len(m.partitions) for m in run.group_run.members) == [1, 2]
    assert sum(m.records for m in run.group_run.members) == len(stream) + 1
    stored = read_alerts(topics["alerts"])
    assert sorted(a["alert_id"] for a in first_per_id(stored)) == [a.alert_id for a in offline]


def test_measure_one_reads_with_processes(topic):
    topics = scaleout.fill_topics(topic, (2,), payments(3000))
    with scaleout.WorkerPool(2) as pool:
        m = pool.measure_one(topics[2], partitions=2, consumers=2, seconds=5)
        idle = pool.measure_one(topics[2], partitions=2, consumers=1, seconds=5)
    assert (m.busy, m.records) == (2, 3000)
    assert (idle.busy, idle.records) == (1, 3000)
    assert m.per_s > 0 and m.cpu_seconds > 0 and m.per_cpu_s > 0
    delete_topic(topics[2])

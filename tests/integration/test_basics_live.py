"""kafkalab.basics against the live course cluster: keyed sends land where the partitioner says, a bounded poll
leaves the position right after what it returned, and a group's members are listed while they are in it."""
from __future__ import annotations

import contextlib
import uuid

import pytest
from kafka import TopicPartition

from kafkalab import basics, datagen
from kafkalab.io import clients, groups, topics
from kafkalab.partitioner import partition_for

pytestmark = pytest.mark.integration


@pytest.fixture
def group():
    name = f"test-basics-{uuid.uuid4().hex[:8]}"
    yield name
    with contextlib.suppress(Exception):
        groups.delete_group(name, timeout_s=5)


def test_send_keyed_returns_every_acknowledgement_in_send_order(topic):
    topics.recreate_topic(topic, partitions=3)
    events = datagen.payments(30)
    placed = basics.send_keyed(topic, events)
    assert [e["payment_id"] for e, _ in placed] == [e["payment_id"] for e in events]
    assert all(m.partition == partition_for(e["customer_id"], 3) for e, m in placed)
    assert sum(topics.end_offsets(topic).values()) == 30


def test_poll_records_leaves_the_position_after_the_last_record_and_tracing_shows_it(topic, group):
    topics.recreate_topic(topic, partitions=1)
    basics.send_keyed(topic, datagen.payments(12))
    tp = TopicPartition(topic, 0)
    trace = basics.OffsetTrace(tp)
    with contextlib.closing(clients.consumer(group_id=group, enable_auto_commit=False)) as c:
        c.assign([tp])
        trace.record("assigned", c)
        got = basics.poll_records(c, want=5)
        trace.record("read 5", c)
        c.commit()
        trace.record("commit", c)
    assert [r.offset for r in got] == [0, 1, 2, 3, 4]
    rows = trace.table()
    assert rows.loc["assigned"].tolist() == ["none", 0, 12]
    assert rows.loc["read 5"].tolist() == ["none", 5, 12]
    assert rows.loc["commit"].tolist() == [5, 5, 12]


def test_group_members_lists_a_subscribed_consumer_and_nobody_after_close(topic, group):
    topics.recreate_topic(topic, partitions=1)
    c = clients.consumer(group_id=group, client_id="basics-probe", enable_auto_commit=False)
    try:
        c.subscribe([topic])
        groups.settle([c])
        assert basics.group_members(group) == ["basics-probe"]
    finally:
        c.close()
    assert basics.group_members(group) == []
    assert basics.group_members(f"{group}-never-used") == []

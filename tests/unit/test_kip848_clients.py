"""The two mistakes of switching to the consumer protocol (KIP-848) give one line with the fix; no broker needed
(the client refuses these settings before it connects)."""
from __future__ import annotations

import pytest

from kafkalab.errors import LabError
from kafkalab.rebalance.clients import kip848_consumer


def test_kafka_python_is_told_to_use_confluent_kafka():
    with pytest.raises(LabError) as e:
        kip848_consumer("g", client="kafka-python")
    assert "only the classic group protocol" in str(e.value) and "confluent-kafka" in str(e.value)


@pytest.mark.parametrize("key, where", [("session.timeout.ms", "consumer.session.timeout.ms"),
                                        ("heartbeat.interval.ms", "consumer.heartbeat.interval.ms"),
                                        ("partition.assignment.strategy", "group.consumer.assignors")])
def test_settings_that_moved_to_the_group_name_their_new_place(key, where):
    with pytest.raises(LabError) as e:
        kip848_consumer("g", **{key: "range" if "strategy" in key else 10000})
    text = str(e.value)
    assert text.startswith(f"{key} is not a client setting under group.protocol=consumer: remove it")
    assert where in text and "\n" not in text


def test_a_plain_kip848_consumer_is_created():
    c = kip848_consumer("g", **{"auto.offset.reset": "earliest"})
    c.close()

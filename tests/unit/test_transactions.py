"""kafkalab.transactions without Kafka: what a consume-transform-produce loop commits."""
from __future__ import annotations

from collections import namedtuple

from kafka import OffsetAndMetadata, TopicPartition

from kafkalab import transactions

Rec = namedtuple("Rec", "topic partition offset")


def test_next_offsets_are_one_past_the_last_record_per_partition():
    batch = [Rec("orders", 0, 4), Rec("orders", 1, 9), Rec("orders", 0, 7), Rec("orders", 0, 5)]
    assert transactions.next_offsets(batch) == {TopicPartition("orders", 0): OffsetAndMetadata(8, "", -1),
                                                TopicPartition("orders", 1): OffsetAndMetadata(10, "", -1)}
    assert transactions.next_offsets([]) == {}


class FakeConsumer:
    def __init__(self, committed):
        self._committed = committed
        self.seeks = []

    def assignment(self):
        return {TopicPartition("orders", p) for p in self._committed}

    def committed(self, tp):
        return self._committed[tp.partition]

    def seek(self, tp, offset):
        self.seeks.append((tp.partition, offset))

    def seek_to_beginning(self, tp):
        self.seeks.append((tp.partition, "beginning"))

    def position(self, tp):
        return 0


def test_rewind_goes_back_to_the_committed_offsets_or_the_beginning():
    c = FakeConsumer({0: 10, 1: None})
    assert transactions.rewind(c) == {0: 10, 1: 0}
    assert sorted(c.seeks, key=str) == [(0, 10), (1, "beginning")]

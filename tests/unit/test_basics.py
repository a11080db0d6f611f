"""kafkalab.basics, the helpers of Chapter 3 (Kafka's building blocks), on stand-in consumers: no Kafka needed.

The same helpers against the live cluster are in tests/integration/test_basics_live.py.
"""
from __future__ import annotations

from collections import namedtuple

import pytest

from kafkalab import basics
from kafkalab.errors import LabError

Record = namedtuple("Record", "partition offset key value")


class ScriptedConsumer:
    """Hands out scripted poll results (one list of records per call, empty afterwards) and notes the max_records
    each poll asked for."""

    def __init__(self, *polls: list) -> None:
        self.polls = list(polls)
        self.asked: list = []

    def poll(self, timeout_ms: int = 0, max_records=None) -> dict:
        self.asked.append(max_records)
        batch = self.polls.pop(0) if self.polls else []
        if max_records is not None:
            batch = batch[:max_records]
        return {"tp": batch} if batch else {}


def records(n: int, start: int = 0) -> list[Record]:
    return [Record(0, i, b"k", b"v") for i in range(start, start + n)]


def test_poll_records_stops_at_want_and_never_asks_for_more():
    c = ScriptedConsumer(records(3), records(10, 3))
    got = basics.poll_records(c, want=5, seconds=5)
    assert [r.offset for r in got] == [0, 1, 2, 3, 4]
    assert c.asked == [5, 2]  # the second poll asks only for what is missing


def test_poll_records_without_want_keeps_everything_until_the_time_is_up():
    c = ScriptedConsumer(records(2), records(1, 2))
    got = basics.poll_records(c, seconds=0.3)
    assert [r.offset for r in got] == [0, 1, 2] and c.asked[0] is None


def test_poll_records_gives_up_after_seconds_with_what_it_has():
    got = basics.poll_records(ScriptedConsumer(records(2)), want=10, seconds=0.2)
    assert len(got) == 2


def test_poll_records_refuses_a_negative_want():
    with pytest.raises(LabError, match="want"):
        basics.poll_records(ScriptedConsumer(), want=-1)


class OffsetsConsumer:
    """Answers committed(), position() and end_offsets() from fixed numbers."""

    def __init__(self, committed, position, end) -> None:
        self.numbers = committed, position, end

    def committed(self, tp):
        return self.numbers[0]

    def position(self, tp):
        return self.numbers[1]

    def end_offsets(self, tps):
        return {tp: self.numbers[2] for tp in tps}


def test_offset_trace_records_the_three_offsets_per_step():
    trace = basics.OffsetTrace("tp0")
    trace.record("assigned", OffsetsConsumer(None, 0, 106))
    row = trace.record("committed 5", OffsetsConsumer(5, 5, 106))
    assert row == {"step": "committed 5", "committed": 5, "position": 5, "end offset": 106}
    table = trace.table()
    assert list(table.index) == ["assigned", "committed 5"]
    assert table.loc["assigned", "committed"] == "none"  # the group never committed there
    assert list(table.columns) == ["committed", "position", "end offset"]


def test_counts_by_key_decodes_and_sorts_and_keeps_records_without_key():
    rs = [Record(0, 0, b"C002", b""), Record(1, 0, b"C001", b""), Record(0, 1, b"C002", b""), Record(0, 2, None, b"")]
    assert basics.counts_by_key(rs) == {"C001": 1, "C002": 2, None: 1}
    assert list(basics.counts_by_key(rs)) == ["C001", "C002", None]

"""Kafka's range assignor, as Chapter 8's throughput measurement hands out partitions, and how the measurement keeps
the best of its repeats."""
import pytest

from kafkalab.errors import LabError
from kafkalab.processing import scaleout
from kafkalab.processing.scaleout import Measurement, measurements_table, range_assignment


@pytest.mark.parametrize("partitions, consumers, expected", [
    (1, 1, [[0]]),
    (1, 4, [[0], [], [], []]),
    (2, 4, [[0], [1], [], []]),
    (3, 2, [[0, 1], [2]]),
    (4, 2, [[0, 1], [2, 3]]),
    (4, 4, [[0], [1], [2], [3]]),
    (7, 3, [[0, 1, 2], [3, 4], [5, 6]]),
])
def test_range_assignment(partitions, consumers, expected):
    assert range_assignment(partitions, consumers) == expected


def test_every_partition_once():
    for p in range(1, 12):
        for c in range(1, 12):
            shares = range_assignment(p, c)
            assert sorted(x for s in shares for x in s) == list(range(p))
            assert sum(1 for s in shares if s) == min(p, c)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, None])
def test_bad_counts(bad):
    with pytest.raises(LabError):
        range_assignment(bad, 1)
    with pytest.raises(LabError):
        range_assignment(1, bad)


def test_speed_up_is_against_one_consumer_on_the_same_topic():
    table = measurements_table([Measurement(2, 1, 1, 1000, 1.0, 0.9), Measurement(2, 2, 2, 1500, 1.0, 1.8),
                                Measurement(4, 1, 1, 900, 1.0)])
    assert table["speed-up"].tolist() == [1.0, 1.5, 1.0]
    assert table["records/s"].tolist() == [1000, 1500, 900]
    assert table["cores used"].tolist() == [0.9, 1.8, 0.0]
    assert table["records per CPU second"].tolist() == [1111, 833, 0]


class FakePool:
    """Stands in for the measuring processes: each pair reads nothing on its first run, ``later`` on the next."""

    def __init__(self, later: int) -> None:
        self.later, self.runs = later, {}

    def __call__(self, size):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def measure_one(self, topic, partitions, consumers, seconds):
        n = self.runs[(partitions, consumers)] = self.runs.get((partitions, consumers), 0) + 1
        records = 0 if n == 1 else self.later
        return Measurement(partitions, consumers, min(partitions, consumers), records, seconds, 0.5)


def test_a_run_that_read_nothing_loses_to_a_later_repeat(monkeypatch):
    monkeypatch.setattr(scaleout, "WorkerPool", FakePool(later=1000))
    measured = scaleout.measure({1: "t1", 2: "t2"}, consumer_counts=(1, 2), seconds=1.0, repeats=2)
    assert [m.records for m in measured] == [1000] * 4


def test_a_pair_that_never_read_anything_is_one_line(monkeypatch):
    monkeypatch.setattr(scaleout, "WorkerPool", FakePool(later=0))
    with pytest.raises(LabError, match="read no record of the 1-partition topic in 2 run"):
        scaleout.measure({1: "t1"}, consumer_counts=(1,), seconds=1.0, repeats=2)

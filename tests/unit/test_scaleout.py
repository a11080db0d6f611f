"""Kafka's range assignor, as Chapter 8's throughput measurement hands out partitions."""
import pytest

from kafkalab.errors import LabError
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

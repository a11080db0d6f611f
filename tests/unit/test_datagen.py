import pytest

from kafkalab import datagen
from kafkalab.errors import LabError


def test_same_seed_same_events_other_seed_other_events():
    assert datagen.payments(50, seed=1) == datagen.payments(50, seed=1)
    assert datagen.payments(50, seed=1) != datagen.payments(50, seed=2)


def test_events_have_increasing_ids_and_times():
    events = datagen.payments(20)
    assert [e["payment_id"] for e in events] == [f"P{i:05d}" for i in range(20)]
    assert [e["ts_ms"] for e in events] == sorted(e["ts_ms"] for e in events)
    assert all(e["customer_id"] in datagen.CUSTOMERS and e["amount"] > 0 for e in events)


def test_negative_count_is_a_clear_error():
    with pytest.raises(LabError, match="n=-1"):
        datagen.payments(-1)

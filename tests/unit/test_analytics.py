"""Revenue per event-time minute and top merchants (Chapter 8's dashboard), without Kafka."""
import random

import pytest

from kafkalab.datagen import EPOCH_MS, payments
from kafkalab.errors import LabError
from kafkalab.processing.analytics import LiveAggregate, aggregate, merchants_table, minute_of, revenue_table, to_cents


def p(ts, merchant="cafe", amount=1.0):
    return {"ts_ms": ts, "merchant": merchant, "amount": amount}


def test_minute_boundaries():
    assert minute_of(EPOCH_MS + 59_999) == EPOCH_MS
    assert minute_of(EPOCH_MS + 60_000) == EPOCH_MS + 60_000


@pytest.mark.parametrize("amount, cents", [(0.1, 10), (0.29, 29), (12.345, 1235), (2.675, 268), (0, 0), (-1.005, -101)])
def test_cents(amount, cents):
    assert to_cents(amount) == cents


def test_revenue_per_minute_by_event_time():
    agg = aggregate([p(EPOCH_MS, amount=1.10), p(EPOCH_MS + 59_999, amount=2.20), p(EPOCH_MS + 60_000, amount=3.30)])
    assert agg.revenue_per_minute() == [(EPOCH_MS, 3.30), (EPOCH_MS + 60_000, 3.30)]
    assert agg.payments_per_minute[EPOCH_MS] == 2
    assert agg.total == 6.60
    assert agg.last_event_ms == EPOCH_MS + 60_000


def test_float_sums_are_exact_in_cents():
    agg = aggregate([p(EPOCH_MS, amount=0.1)] * 3)
    assert agg.revenue_per_minute() == [(EPOCH_MS, 0.3)]  # 0.1 + 0.1 + 0.1 would be 0.30000000000000004


def test_arrival_order_and_batching_do_not_matter():
    data = payments(500)
    whole = aggregate(data)
    shuffled = data[:]
    random.Random(3).shuffle(shuffled)
    for batch in (1, 7, 64, None):
        other = aggregate(shuffled, batch_size=batch)
        assert other.revenue_per_minute() == whole.revenue_per_minute()
        assert other.top_merchants(8) == whole.top_merchants(8)
    assert aggregate(data, batch_size=64).batches == 8
    assert whole.payments == 500


def test_top_merchants_ranked_with_ties_by_name():
    agg = aggregate([p(EPOCH_MS, "b", 5), p(EPOCH_MS, "a", 5), p(EPOCH_MS, "c", 9), p(EPOCH_MS, "a", 0)])
    assert agg.top_merchants(2) == [("c", 9.0, 1), ("a", 5.0, 2)]
    assert agg.top_merchants(10) == [("c", 9.0, 1), ("a", 5.0, 2), ("b", 5.0, 1)]
    with pytest.raises(LabError):
        agg.top_merchants(0)


def test_tables():
    agg = aggregate(payments(100))
    rt = revenue_table(agg)
    assert list(rt.columns) == ["minute (UTC)", "payments", "revenue (EUR)"]
    assert rt["minute (UTC)"].iloc[0] == "09:00" and rt["payments"].sum() == 100
    assert rt["revenue (EUR)"].sum() == pytest.approx(agg.total)
    assert merchants_table(agg, 3).shape == (3, 3)
    assert revenue_table(LiveAggregate()).empty


def test_a_payment_without_its_fields_is_refused():
    with pytest.raises(LabError, match="needs ts_ms"):
        LiveAggregate().add({"merchant": "cafe", "amount": 1})
    with pytest.raises(LabError):
        aggregate([], batch_size=0)

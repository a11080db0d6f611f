"""The pure logic of Chapter 5 (kafkalab.streams.reference and friends, kafkalab.checks.streams): no Kafka, no JVM."""
from __future__ import annotations

from collections import Counter

import pytest

from kafkalab import streams as sa
from kafkalab.checks import streams as checks
from kafkalab.datagen import payments


def test_table_keeps_the_latest_value_and_honours_tombstones():
    log = [("a", {"v": 1}), ("b", {"v": 1}), ("a", {"v": 2}), ("b", None), ("c", None)]
    assert sa.table_of(log) == {"a": {"v": 2}}


def test_customer_changelog_describes_18_customers():
    table = sa.table_of(sa.customer_changelog())
    assert len(table) == 18 and "C019" not in table and "C020" not in table
    assert table["C003"] == {"tier": "gold"} and table["C007"] == {"tier": "basic"}
    assert sa.customer_changelog() == sa.customer_changelog()  # deterministic


def test_slim_rounds_to_whole_cents():
    pay = {"payment_id": "P1", "merchant": "cafe", "amount": 19.99}
    assert sa.slim(pay) == {"payment_id": "P1", "merchant": "cafe", "amount_cents": 1999}
    assert sa.slim({**pay, "amount": 0.29})["amount_cents"] == 29  # 0.29 * 100 is 28.999999999999996


def test_expected_filters_joins_and_counts():
    table = {"C1": {"tier": "gold"}}
    pays = [
        {"payment_id": "a", "customer_id": "C1", "merchant": "m", "amount": 10.0},
        {"payment_id": "b", "customer_id": "C1", "merchant": "m", "amount": 9.99},
        {"payment_id": "c", "customer_id": "C2", "merchant": "m", "amount": 50.0},
        {"payment_id": "d", "customer_id": "C1", "merchant": "m", "amount": 2.5 + 10},
    ]
    enriched, updates = sa.expected(pays, table)
    assert [v["payment_id"] for _, v in enriched] == ["a", "d"]
    assert all(v["tier"] == "gold" for _, v in enriched)
    assert updates == {"C1": [{"count": 1, "sum_cents": 1000}, {"count": 2, "sum_cents": 2250}]}


def test_updates_and_latest_per_key_read_in_offset_order():
    msgs = [sa.Message(1, 1, "k", {"n": 2}), sa.Message(0, 0, "j", {"n": 9}), sa.Message(1, 0, "k", {"n": 1})]
    assert sa.updates_per_key(msgs) == {"j": [{"n": 9}], "k": [{"n": 1}, {"n": 2}]}
    assert sa.latest_per_key(msgs) == {"j": {"n": 9}, "k": {"n": 2}}


def test_topic_names_use_hyphens_only():
    names = sa.topic_names("streams")
    assert names == {"payments": "streams-payments", "customers": "streams-customers",
                     "enriched": "streams-enriched", "totals": "streams-totals"}
    assert not any("." in n or "_" in n for n in names.values())


def test_new_application_ids_differ():
    assert sa.new_application_id() != sa.new_application_id()


def test_check_customer_table():
    checks.check_customer_table(sa.table_of(sa.customer_changelog()))
    first_values = {}
    for k, v in sa.customer_changelog():
        first_values.setdefault(k, v)
    with pytest.raises(AssertionError, match="tombstone"):
        checks.check_customer_table({k: v for k, v in first_values.items()})
    wrong = {**sa.table_of(sa.customer_changelog()), "C003": {"tier": "basic"}}
    with pytest.raises(AssertionError, match="LAST"):
        checks.check_customer_table(wrong)


def test_check_changelog_topic():
    checks.check_changelog_topic("shop-app", "spend-store", "shop-app-spend-store-changelog")
    with pytest.raises(AssertionError, match="application.id"):
        checks.check_changelog_topic("shop-app", "spend-store", "spend-store-changelog")


def test_check_duplicates():
    batch, _ = sa.expected(payments(60, 6)[:30], sa.table_of(sa.customer_changelog()))
    twice = dict(Counter(k for k, _ in batch))
    checks.check_duplicates(twice)
    with pytest.raises(AssertionError, match="counted twice too"):
        checks.check_duplicates(dict(list(twice.items())[1:]))
    with pytest.raises(AssertionError, match="no payment in the first batch"):
        checks.check_duplicates({**twice, "C020": 1})

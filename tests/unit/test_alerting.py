"""The alerting rules of Chapter 8, without Kafka: boundaries pinned to the millisecond and the alert."""
import json
import random

import pytest

from kafkalab.datagen import EPOCH_MS
from kafkalab.errors import LabError
from kafkalab.partitioner import partition_for
from kafkalab.processing.rules import (
    MINUTE_MS,
    AlertEngine,
    PoisonMessage,
    Rules,
    alerts_table,
    first_per_id,
    incident_stream,
    minute_of,
    parse_payment,
)

T0 = EPOCH_MS + 3_600_000  # 10:00:00.000 UTC, a minute boundary


def pay(i, ts, amount=10.0, customer="C001"):
    return {"payment_id": f"T{i:04d}", "customer_id": customer, "merchant": "cafe", "method": "card",
            "amount": amount, "currency": "EUR", "ts_ms": ts}


def velocity(alerts):
    return [a for a in alerts if a.rule == "velocity"]


def amount(alerts):
    return [a for a in alerts if a.rule == "amount"]


# ---------------------------------------------------------------------------------------------- velocity
def test_minutes_are_utc_minutes():
    assert minute_of(T0) == T0
    assert minute_of(T0 + 59_999) == T0
    assert minute_of(T0 + 60_000) == T0 + MINUTE_MS
    assert minute_of(T0 - 1) == T0 - MINUTE_MS


def test_exactly_the_limit_raises_nothing_one_more_raises_one():
    rules = Rules(max_per_minute=3)
    assert velocity(AlertEngine(rules).run([pay(i, T0 + i * 1000) for i in range(3)])) == []
    alerts = velocity(AlertEngine(rules).run([pay(i, T0 + i * 1000) for i in range(4)]))
    assert [(a.payment_id, a.value, a.threshold) for a in alerts] == [("T0003", 4, 3)]
    assert alerts[0].alert_id == f"velocity-C001-{T0}"


def test_a_burst_gives_one_alert_not_a_storm():
    alerts = velocity(AlertEngine(Rules(max_per_minute=3)).run([pay(i, T0 + i * 1000) for i in range(20)]))
    assert len(alerts) == 1


def test_window_edge_to_the_millisecond():
    rules = Rules(max_per_minute=3)
    # three in the minute from 10:00, the fourth one millisecond into the next minute: no alert
    edge = [pay(0, T0), pay(1, T0 + 30_000), pay(2, T0 + 59_999), pay(3, T0 + 60_000)]
    assert velocity(AlertEngine(rules).run(edge)) == []
    # the same fourth payment one millisecond earlier is in the same minute: alert
    edge[3] = pay(3, T0 + 59_999)
    assert [a.payment_id for a in velocity(AlertEngine(rules).run(edge))] == ["T0003"]


def test_tumbling_not_sliding():
    # 4 payments within 20 seconds, but across a minute boundary (2 + 2): no alert with a limit of 3
    rules = Rules(max_per_minute=3)
    burst = [pay(0, T0 - 10_000), pay(1, T0 - 5_000), pay(2, T0 + 1_000), pay(3, T0 + 9_000)]
    assert velocity(AlertEngine(rules).run(burst)) == []


def test_each_minute_can_alert_again():
    rules = Rules(max_per_minute=2)
    stream = [pay(i, T0 + i * 10_000) for i in range(12)]  # six per minute for two minutes
    assert [a.alert_id for a in velocity(AlertEngine(rules).run(stream))] == [
        f"velocity-C001-{T0}", f"velocity-C001-{T0 + MINUTE_MS}"]


def test_customers_are_counted_apart():
    rules = Rules(max_per_minute=3)
    stream = [pay(i, T0 + i * 1000, customer="C001" if i % 2 else "C002") for i in range(7)]  # 3 and 4
    assert [a.customer_id for a in velocity(AlertEngine(rules).run(stream))] == ["C002"]


def test_a_late_payment_counts_in_its_own_minute_while_kept():
    rules = Rules(max_per_minute=2, keep_minutes=2)
    stream = [pay(0, T0 + 1_000), pay(1, T0 + 2_000),  # minute 10:00 has 2
              pay(2, T0 + MINUTE_MS + 1_000),  # 10:01 arrives
              pay(3, T0 + 3_000)]  # late, but 10:00 is still kept: the third payment in 10:00
    assert [a.alert_id for a in velocity(AlertEngine(rules).run(stream))] == [f"velocity-C001-{T0}"]


def test_a_payment_older_than_the_kept_minutes_is_skipped_by_the_velocity_rule():
    rules = Rules(max_per_minute=2, keep_minutes=2)
    stream = [pay(0, T0 + 1_000), pay(1, T0 + 2_000),
              pay(2, T0 + 2 * MINUTE_MS),  # 10:02: minute 10:00 is now dropped
              pay(3, T0 + 3_000)]  # too late to count
    engine = AlertEngine(rules)
    assert velocity(engine.run(stream)) == []
    assert sorted(engine.state["C001"].minutes) == [T0 + 2 * MINUTE_MS]


# ---------------------------------------------------------------------------------------------- amount
def test_no_amount_alert_during_warmup():
    rules = Rules(amount_factor=3, warmup=4)
    # four previous payments are needed: the 4th payment (3 known) is not judged, the 5th (4 known) is
    assert amount(AlertEngine(rules).run([pay(i, T0 + i * 20_000, a) for i, a in enumerate([10, 10, 10, 1000])])) == []
    alerts = amount(AlertEngine(rules).run([pay(i, T0 + i * 20_000, a) for i, a in enumerate([10, 10, 10, 10, 31])]))
    assert [(a.payment_id, a.threshold) for a in alerts] == [("T0004", 30.0)]


def test_amount_equal_to_the_limit_is_not_an_alert():
    rules = Rules(amount_factor=3, warmup=4)
    stream = [pay(i, T0 + i * 20_000, a) for i, a in enumerate([10, 10, 10, 10, 30])]
    assert amount(AlertEngine(rules).run(stream)) == []
    stream[-1] = pay(4, T0 + 80_000, 30.01)
    assert len(amount(AlertEngine(rules).run(stream))) == 1


def test_median_of_an_even_history_and_a_bounded_history():
    rules = Rules(amount_factor=2, warmup=4, history=4)
    # history 10, 20, 30, 40 -> median 25, limit 50
    base = [pay(i, T0 + i * 20_000, a) for i, a in enumerate([10, 20, 30, 40])]
    assert amount(AlertEngine(rules).run(base + [pay(9, T0 + 90_000, 50)])) == []
    assert len(amount(AlertEngine(rules).run(base + [pay(9, T0 + 90_000, 50.5)]))) == 1
    # only the last 4 amounts count: an old 1000 has left the history
    old = [pay(i, T0 + i * 20_000, a) for i, a in enumerate([1000, 10, 10, 10, 10])]
    assert amount(AlertEngine(rules).run(old + [pay(9, T0 + 200_000, 21)]))[0].threshold == 20.0


def test_outliers_join_the_history():
    rules = Rules(amount_factor=3, warmup=3, history=3)
    stream = [pay(i, T0 + i * 20_000, a) for i, a in enumerate([10, 10, 10, 100, 100, 100])]
    # the first 100 alerts; after it the history is 10, 10, 100 (median 10) and then 10, 100, 100 (median 100)
    assert [a.payment_id for a in amount(AlertEngine(rules).run(stream))] == ["T0003", "T0004"]


def test_alert_ids_are_deterministic_and_json_ready():
    alerts = AlertEngine().run(incident_stream(300))
    again = AlertEngine().run(incident_stream(300))
    assert [a.to_dict() for a in alerts] == [a.to_dict() for a in again]
    json.dumps([a.to_dict() for a in alerts])
    assert len({a.alert_id for a in alerts}) == len(alerts)


# ---------------------------------------------------------------------------------------------- the course stream
def test_incident_stream_is_ordered_and_plants_both_incidents():
    stream = incident_stream(900)
    assert len(stream) == 909
    assert [p["ts_ms"] for p in stream] == sorted(p["ts_ms"] for p in stream)
    alerts = AlertEngine().run(stream)
    assert f"velocity-C007-{minute_of(next(p for p in stream if p['payment_id'] == 'X0000')['ts_ms'])}" in {
        a.alert_id for a in alerts}
    assert "amount-X0100" in {a.alert_id for a in alerts}
    assert sorted({a.rule for a in alerts}) == ["amount", "velocity"]
    assert len(alerts) == 8  # pinned: the chapter's tables show these


def alerts_by_partition(payments, partition_of, rules=Rules()):
    """Alerts when each partition (``partition_of(customer_id)``) has its own engine, sorted by id: what a group
    of consumers computes, however the partitions are shared among its members."""
    engines = {}
    out = []
    for p in payments:
        out.extend(engines.setdefault(partition_of(p["customer_id"]), AlertEngine(rules)).process(p))
    return sorted(out, key=lambda a: a.alert_id)


@pytest.mark.parametrize("partitions", [1, 2, 3, 4, 7])
def test_alerts_do_not_depend_on_how_keys_are_split(partitions):
    stream = incident_stream(900)
    whole = sorted(AlertEngine().run(stream), key=lambda a: a.alert_id)
    split = alerts_by_partition(stream, lambda key: partition_for(key, partitions))
    assert split == whole


def test_alerts_do_depend_on_key_order():
    # the guarantee rests on per-key order: shuffling one customer's payments changes what the rules see
    stream = incident_stream(900)
    shuffled = stream[:]
    random.Random(1).shuffle(shuffled)
    assert AlertEngine().run(shuffled) != AlertEngine().run(stream)


def test_alerts_table_sorted_by_time():
    table = alerts_table(AlertEngine().run(incident_stream(900)))
    assert list(table.columns)[:3] == ["time (UTC)", "rule", "customer_id"]
    assert table["time (UTC)"].tolist() == sorted(table["time (UTC)"].tolist())


# ---------------------------------------------------------------------------------------------- poison
@pytest.mark.parametrize("value, why", [
    (None, "empty"),
    (b"{not json", "not JSON"),
    (b"\xff\xfe", "not JSON"),
    (b"[1, 2]", "not an object"),
    (b'{"payment_id": "P1"}', "no field 'customer_id'"),
    (json.dumps({**pay(0, T0), "amount": "12.50"}).encode(), "field 'amount' is str"),
    (json.dumps({**pay(0, T0), "ts_ms": True}).encode(), "field 'ts_ms' is bool"),
    (json.dumps({**pay(0, T0), "amount": -1}).encode(), "negative amount"),
])
def test_poison_messages_are_named(value, why):
    with pytest.raises(PoisonMessage, match=why):
        parse_payment(value)


def test_a_good_payment_parses():
    assert parse_payment(json.dumps(pay(0, T0)).encode()) == pay(0, T0)
    assert parse_payment(json.dumps({**pay(0, T0), "amount": 12}))["amount"] == 12


@pytest.mark.parametrize("kwargs", [{"max_per_minute": 0}, {"warmup": 0}, {"history": 2, "warmup": 3},
                                    {"amount_factor": 1}, {"amount_factor": "5"}, {"keep_minutes": True}])
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(LabError):
        Rules(**kwargs)


def test_first_per_id_drops_repeats_in_order():
    docs = [a.to_dict() for a in AlertEngine().run(incident_stream(900))]
    assert first_per_id(docs + docs[::-1] + docs) == docs
    assert first_per_id([]) == []


# ---------------------------------------------------------------------------------------------- rules of your own
def remembers_repeats(payment, state):
    """A rule of one's own: the same amount as the customer's previous payment."""
    previous = state.get("last")
    state["last"] = payment["amount"]
    return f"{payment['amount']} again" if previous == payment["amount"] else None


def test_a_custom_rule_gets_each_customers_own_state_and_deterministic_ids():
    stream = [pay(0, T0, 5.0, "C001"), pay(1, T0 + 1000, 5.0, "C002"), pay(2, T0 + 2000, 5.0, "C001"),
              pay(3, T0 + 3000, 7.0, "C002")]
    alerts = [a for a in AlertEngine(custom={"repeat": remembers_repeats}).run(stream) if a.rule == "repeat"]
    assert [(a.alert_id, a.customer_id, a.detail, a.value, a.threshold) for a in alerts] == [
        ("repeat-T0002", "C001", "5.0 again", 5.0, 0.0)]


def same_merchant_again(payment, state):
    """A rule of one's own: the customer pays the merchant of their previous payment again."""
    previous, state["merchant"] = state.get("merchant"), payment["merchant"]
    return "same merchant" if previous == payment["merchant"] else None


def test_custom_rules_run_beside_the_built_in_ones_and_do_not_depend_on_the_split():
    stream = incident_stream(300)
    rules = {"repeat": same_merchant_again}
    whole = AlertEngine(custom=rules).run(stream)
    assert {a.rule for a in whole} >= {"velocity", "amount", "repeat"}
    parts = {}
    for p in stream:
        parts.setdefault(partition_for(p["customer_id"], 3), []).append(p)
    split = [a for part in parts.values() for a in AlertEngine(custom=rules).run(part)]
    assert sorted(a.alert_id for a in split) == sorted(a.alert_id for a in whole)


@pytest.mark.parametrize("custom", [{"Velocity": remembers_repeats}, {"amount": remembers_repeats},
                                    {"double charge": remembers_repeats}, {"repeat": 3}])
def test_bad_custom_rules_are_refused(custom):
    with pytest.raises(LabError, match="custom rule"):
        AlertEngine(custom=custom)


def test_an_exception_in_a_custom_rule_reaches_the_caller():
    def broken(payment, state):
        return payment["shop"]

    with pytest.raises(KeyError):
        AlertEngine(custom={"broken": broken}).run([pay(0, T0)])

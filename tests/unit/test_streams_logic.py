"""The pure logic of Chapter 5 (kafkalab.streams.reference, the group tools' tables): no Kafka, no JVM.

The chapter's exercises run three ways in tests/unit/test_exercises_three_ways.py and
tests/integration/test_exercises_live.py."""
from __future__ import annotations

import pytest

from kafkalab import streams as sa
from kafkalab.errors import LabError


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


#: What kafka-streams-groups 4.4 printed for one running PaymentsApp (--describe --members, then --state).
MEMBERS = """
GROUP             MEMBER                 PROCESS                              CLIENT-ID                                                                      ASSIGNMENTS
exp1-app-548c3b18 R3jNQy6WSOqme3brQAlxPg 71efe61b-19ed-4ba4-a2c8-de3598ce4d09 exp1-app-548c3b18-71efe61b-19ed-4ba4-a2c8-de3598ce4d09-StreamThread-1-consumer ACTIVE: 0:[0,1]; 
 
"""
STATE = """
GROUP             COORDINATOR (ID)          ASSIGNOR        STATE                     #MEMBERS
exp1-app-548c3b18 127.0.0.1:40300 (1)       sticky          Stable                    1
"""


def test_group_tool_tables_are_cut_where_the_header_names_start():
    (row,) = sa.parse_table(MEMBERS)
    assert row["ASSIGNMENTS"] == "ACTIVE: 0:[0,1];"  # the last column keeps its spaces
    assert row["PROCESS"] == "71efe61b-19ed-4ba4-a2c8-de3598ce4d09"
    (state,) = sa.parse_table(STATE)
    assert state == {"GROUP": "exp1-app-548c3b18", "COORDINATOR (ID)": "127.0.0.1:40300 (1)", "ASSIGNOR": "sticky",
                     "STATE": "Stable", "#MEMBERS": "1"}
    assert sa.parse_table("\n \n") == []


def test_mask_hides_the_ids_a_run_makes_up():
    from kafkalab.streams.groups import mask

    (row,) = sa.parse_table(MEMBERS)
    assert mask(row["CLIENT-ID"], "exp1-app-548c3b18") == "<application.id>-<process>-StreamThread-1-consumer"


def test_group_protocol_values():
    assert sa.protocol_configs("streams") == {"group.protocol": "streams"}
    with pytest.raises(LabError, match="classic"):
        sa.protocol_configs("consumer")

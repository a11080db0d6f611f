"""Checkers for "Building real-time stream processing applications" (notebooks/05_stream_apps.ipynb)."""
from __future__ import annotations

from collections import Counter

from ..datagen import payments
from ..streams.reference import customer_changelog, expected, table_of
from . import passed


def check_customer_table(answer: dict) -> None:
    """Exercise 1: the customer table that the records of the compacted customers topic describe."""
    assert isinstance(answer, dict), "answer with a dict {customer id: value}, e.g. {'C001': {'tier': 'basic'}, ...}"
    table = table_of(customer_changelog())
    assert "C020" not in answer, "C020 never had a record in the topic: a table only holds keys it has seen"
    assert "C019" not in answer, (
        "C019's last record is a tombstone (a record without a value): it deletes the key from the table"
    )
    for key in ("C003", "C007"):
        assert answer.get(key) == table[key], (
            f"{key} has several records; the table holds the LAST one, {table[key]}, not {answer.get(key)}"
        )
    assert answer == table, f"the table has {len(table)} keys; compare yours with latest_per_key(read_topic(...))"
    passed(f"{len(table)} customers: the latest value per key, without the deleted C019")


def check_changelog_topic(application_id: str, store: str, answer: str) -> None:
    """Exercise 2: the name of the changelog topic Kafka Streams creates for a state store."""
    assert isinstance(answer, str), "answer with the topic name, a str"
    name = f"{application_id}-{store}-changelog"
    assert answer.startswith(application_id), (
        "internal topics start with the application.id: that is why two applications never share them, and why "
        "a reused application.id finds its old state"
    )
    assert answer == name, f"the changelog of store {store!r} is {name!r}: <application.id>-<store name>-changelog"
    passed(f"{name}, compacted, one partition per input partition")


def check_duplicates(answer: dict, seed: int = 6, n: int = 60, first_batch: int = 30) -> None:
    """Exercise 3: after the at-least-once crash, how many payments were counted twice, per customer?"""
    assert isinstance(answer, dict), "answer with a dict {customer id: payments counted twice}"
    answer = {k: v for k, v in answer.items() if v}
    batch, _ = expected(payments(n, seed)[:first_batch], table_of(customer_changelog()))
    twice = dict(sorted(Counter(key for key, _ in batch).items()))
    missing = sorted(set(twice) - set(answer))
    assert not missing, (
        f"customers {missing} were counted twice too. Every payment processed before the kill (the first batch, "
        f"after the filter and the join) was processed again after the restart"
    )
    extra = sorted(set(answer) - set(twice))
    assert not extra, f"{extra} had no payment in the first batch: nothing of theirs was processed twice"
    for key, count in twice.items():
        assert answer[key] == count, (
            f"{key}: {count} payment(s) counted twice, not {answer[key]}. Compare the final count with the true "
            f"count (expected(...)) rather than with the number of output records"
        )
    passed(f"{sum(twice.values())} payments of {len(twice)} customers were counted twice: the whole first batch")

"""Exercises of "Building real-time stream processing applications" (notebooks/05_stream_apps.ipynb)."""
from __future__ import annotations

from collections import Counter

from . import _lab
from .answers import type_name
from .core import Mistake, exercise
from .verdicts import NotYet, WrongType

CHAPTER = "stream_apps"


# ----------------------------------------------------------------------------------------------- Exercise 1


def _replayed(tombstones: bool = True) -> dict:
    """The customers topic replayed by hand: the last value per key, tombstones deleting their key (a mistake
    ignores them)."""
    table: dict = {}
    for key, value in _lab.streams_app().customer_changelog():
        if value is None:
            if tombstones:
                table.pop(key, None)
        else:
            table[key] = value
    return table


@exercise(
    CHAPTER,
    title="Build the customer table from its topic",
    kind="concept",
    expects="a dict {customer id: value}",
    hints=[
        "A table holds one value per key: the LAST record read for that key wins.",
        "A record without a value (a tombstone, `m.value is None`) deletes its key from the table.",
    ],
    solution='''
table_solution = {}
for m in sa.read_topic(T["customers"]):  # partition by partition, in offset order
    if m.value is None:
        table_solution.pop(m.key, None)  # a tombstone deletes the key
    else:
        table_solution[m.key] = m.value  # a later record replaces an earlier one
''',
    reference=lambda ctx: _replayed(),
    mistakes=[
        Mistake("C020 never had a record in the topic", make=lambda ctx: {**_replayed(), "C020": {"tier": "basic"}}),
        Mistake("C019's last record is a tombstone", make=lambda ctx: _replayed(tombstones=False)),
        Mistake("the table holds the LAST one", make=lambda ctx: {**_replayed(), "C003": {"tier": "silver"}}),
        Mistake("compare yours with latest_per_key(read_topic(...))",
                make=lambda ctx: {k: v for k, v in _replayed().items() if k != "C001"}),
        Mistake("answer with a dict {customer id: value}",
                make=lambda ctx: list(_lab.streams_app().customer_changelog()), kind="wrong type"),
    ],
)
def customer_table(answer) -> str:
    """Exercise 1: the customer table that the records of the compacted customers topic describe."""
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict {{customer id: value}}, e.g. {{'C001': {{'tier': 'basic'}}, ...}}, not "
                        f"{type_name(answer)}")
    sa = _lab.streams_app()
    table = sa.table_of(sa.customer_changelog())
    if "C020" in answer:
        raise NotYet("C020 never had a record in the topic: a table only holds keys it has seen")
    if "C019" in answer:
        raise NotYet("C019's last record is a tombstone (a record without a value): it deletes the key from the table")
    for key in ("C003", "C007"):
        if answer.get(key) != table[key]:
            raise NotYet(f"{key} has several records; the table holds the LAST one, {table[key]}, not "
                         f"{answer.get(key)}")
    if answer != table:
        raise NotYet(f"the table has {len(table)} keys; compare yours with latest_per_key(read_topic(...))")
    return (f"{len(table)} customers: the latest value per key, without the deleted C019. That is what a KTable "
            f"(and a compacted topic, in the end) keeps")


# ----------------------------------------------------------------------------------------------- Exercise 2


@exercise(
    CHAPTER,
    title="Name a state store's changelog topic",
    kind="concept",
    expects="the topic name, a str",
    hints=[
        "Kafka Streams names its internal topics after the application, so that two applications never share them.",
        "The pattern is `<application.id>-<store name>-changelog`.",
    ],
    solution='''
changelog_solution = "shop-app-spend-store-changelog"  # <application.id>-<store>-changelog
''',
    reference=lambda ctx: "shop-app-spend-store-changelog",
    mistakes=[
        Mistake("internal topics start with the application.id", answer="spend-store-changelog"),
        Mistake("<application.id>-<store name>-changelog", answer="shop-app-spend-store"),
        Mistake("a repartition topic", answer="shop-app-spend-store-repartition"),
        Mistake("answer with the topic name, a str", answer=["shop-app-spend-store-changelog"], kind="wrong type"),
    ],
)
def changelog_topic(answer, *, application_id: str = "shop-app", store: str = "spend-store") -> str:
    """Exercise 2: the name of the changelog topic Kafka Streams creates for a state store."""
    if not isinstance(answer, str):
        raise WrongType(f"answer with the topic name, a str, not {type_name(answer)}")
    name = f"{application_id}-{store}-changelog"
    if not answer.startswith(application_id):
        raise NotYet("internal topics start with the application.id: that is why two applications never share them, "
                     "and why a reused application.id finds its old state")
    if answer.endswith("-repartition"):
        raise NotYet("that names a repartition topic, which carries records between two parts of a topology; a "
                     "store's backup is its changelog: <application.id>-<store name>-changelog")
    if answer != name:
        raise NotYet(f"the changelog of store {store!r} is {name!r}: <application.id>-<store name>-changelog")
    return f"{name}, compacted, one partition per input partition: a restarted instance rebuilds the store from it"


# ----------------------------------------------------------------------------------------------- Exercise 3


def _counted_twice(seed: int = 6, n: int = 60, first_batch: int = 30) -> dict[str, int]:
    """The reference, written out: the first batch's payments that pass the filter and the join, per customer."""
    sa = _lab.streams_app()
    table = _replayed()
    first = _lab.datagen().payments(n, seed)[:first_batch]
    return dict(Counter(p["customer_id"] for p in first if p["amount"] >= sa.MIN_AMOUNT and p["customer_id"] in table))


@exercise(
    CHAPTER,
    title="Count the payments processed twice after the crash",
    kind="concept",
    expects="a dict {customer id: payments counted twice}",
    hints=[
        "At-least-once: every payment processed after the last commit before the kill is processed again after the "
        "restart. Here that is the whole first batch.",
        "Compare each customer's final count (`alos[\"counts\"]`) with the true count of the 60 payments "
        "(`sa.expected(FIRST, customers)`); the difference is what was counted twice.",
    ],
    solution='''
true_counts = {k: v[-1]["count"] for k, v in sa.expected(FIRST, customers)[1].items()}
duplicates_solution = {k: n - true_counts.get(k, 0) for k, n in alos["counts"].items() if n != true_counts.get(k, 0)}
''',
    reference=lambda ctx: _counted_twice(),
    mistakes=[
        Mistake("were counted twice too", make=lambda ctx: dict(list(_counted_twice().items())[1:])),
        Mistake("had no payment in the first batch", make=lambda ctx: {**_counted_twice(), "C020": 1}),
        Mistake("counted twice, not", make=lambda ctx: {k: v + 1 for k, v in _counted_twice().items()}),
        Mistake("had no payment in the first batch",
                make=lambda ctx: dict(Counter(p["customer_id"] for p in _lab.datagen().payments(60, 6)[:30]))),
        Mistake("answer with a dict {customer id: payments counted twice}", answer=[("C001", 1)], kind="wrong type"),
    ],
)
def duplicates(answer, *, seed: int = 6, n: int = 60, first_batch: int = 30) -> str:
    """Exercise 3: after the at-least-once crash, how many payments were counted twice, per customer?"""
    if not isinstance(answer, dict):
        raise WrongType(f"answer with a dict {{customer id: payments counted twice}}, not {type_name(answer)}")
    sa = _lab.streams_app()
    answer = {k: v for k, v in answer.items() if v}
    batch, _ = sa.expected(_lab.datagen().payments(n, seed)[:first_batch], sa.table_of(sa.customer_changelog()))
    twice = dict(sorted(Counter(key for key, _ in batch).items()))
    missing = sorted(set(twice) - set(answer))
    if missing:
        raise NotYet(f"customers {missing} were counted twice too. Every payment processed before the kill (the first "
                     f"batch, after the filter and the join) was processed again after the restart")
    extra = sorted(set(answer) - set(twice))
    if extra:
        raise NotYet(f"{extra} had no payment in the first batch: nothing of theirs was processed twice")
    for key, count in twice.items():
        if answer[key] != count:
            raise NotYet(f"{key}: {count} payment(s) counted twice, not {answer[key]}. Compare the final count with "
                         f"the true count (expected(...)) rather than with the number of output records")
    return (f"{sum(twice.values())} payments of {len(twice)} customers were counted twice: the whole first batch, "
            f"because the crash came before its offsets were committed")

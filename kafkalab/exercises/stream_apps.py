"""Exercises of "Building real-time stream processing applications" (notebooks/05_stream_apps.ipynb).

Exercise 2 runs the learner's Quix Streams pipeline on topics of its own (deleted afterwards); Exercise 3 reads the
session timeout the broker applies to a streams group. The others are worked out from the chapter's data.
"""
from __future__ import annotations

from collections import Counter

from ..errors import LabError
from . import _lab
from .answers import real_number, type_name
from .core import Mistake, call_learner, exercise
from .scratch import scratch_topic, unique_name
from .verdicts import NotYet, WrongType

CHAPTER = "stream_apps"
#: Topics of the Quix exercise hold payments with past event times: the broker must not delete them by age.
KEEP = {"retention.ms": "-1"}


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


def pipeline_payments() -> list[dict]:
    """The payments Exercise 2's checker sends through the learner's pipeline: 24 seeded ones and three at the
    edges (exactly 10.00 EUR, 9.99 EUR, and 19.99 EUR, whose ``amount * 100`` is 1998.9999999999998)."""
    seeded = _lab.datagen().payments(24, 11)
    last = seeded[-1]
    edges = [{**last, "payment_id": f"P9000{i}", "customer_id": customer, "amount": amount,
              "ts_ms": last["ts_ms"] + 1000 * i}
             for i, (customer, amount) in enumerate((("C004", 10.0), ("C005", 9.99), ("C006", 19.99)), start=1)]
    return seeded + edges


def _expected_pipeline(payments: list[dict]) -> list[tuple[str, dict]]:
    """What PaymentsApp's filter and mapValues make of ``payments`` (plain Python: the reference)."""
    sa = _lab.streams_app()
    return [(p["customer_id"], sa.slim(p)) for p in payments if p["amount"] >= sa.MIN_AMOUNT]


def _cents(p: dict) -> dict:
    return {"payment_id": p["payment_id"], "merchant": p["merchant"], "amount_cents": round(p["amount"] * 100)}


def _no_filter(sdf):
    return sdf.apply(_cents)


def _strict_filter(sdf):
    return sdf.filter(lambda p: p["amount"] > 10).apply(_cents)


def _inverted_filter(sdf):
    return sdf.filter(lambda p: p["amount"] < 10).apply(_cents)


def _no_map(sdf):
    return sdf.filter(lambda p: p["amount"] >= 10)


def _truncated_cents(sdf):
    return sdf.filter(lambda p: p["amount"] >= 10).apply(
        lambda p: {"payment_id": p["payment_id"], "merchant": p["merchant"], "amount_cents": int(p["amount"] * 100)})


def _float_cents(sdf):
    return sdf.filter(lambda p: p["amount"] >= 10).apply(
        lambda p: {"payment_id": p["payment_id"], "merchant": p["merchant"], "amount_cents": p["amount"] * 100})


def _euros(sdf):
    return sdf.filter(lambda p: p["amount"] >= 10).apply(
        lambda p: {"payment_id": p["payment_id"], "merchant": p["merchant"], "amount_cents": p["amount"]})


def _map_first(sdf):
    return sdf.apply(_cents).filter(lambda p: p["amount"] >= 10)


def _no_return(sdf):
    sdf.filter(lambda p: p["amount"] >= 10).apply(_cents)


def _nothing_passes(sdf):
    return sdf.filter(lambda p: p["amount"] >= 1000).apply(_cents)


@exercise(
    CHAPTER,
    title="Write the filter and map of the topology in Quix Streams",
    kind="code",
    expects="a function payments_pipeline(sdf) that returns a StreamingDataFrame",
    hints=[
        "Two steps, in this order: `sdf.filter(...)` keeps the records for which its function returns True; "
        "`sdf.apply(...)` replaces each value by what its function returns. Each returns a new dataframe: chain them "
        "and return the result.",
        "Filter on the payment's amount, `lambda payment: payment[\"amount\"] >= 10`, BEFORE the map removes the "
        "field.",
        "The map builds {\"payment_id\": ..., \"merchant\": ..., \"amount_cents\": round(payment[\"amount\"] * 100)}: "
        "round(), because int() cuts 1998.9999999999998 down to 1998.",
    ],
    solution='''
def payments_pipeline_solution(sdf):
    """Keep payments of at least 10 EUR, reshaped: what PaymentsApp's filter and mapValues do."""
    return (sdf.filter(lambda payment: payment["amount"] >= 10)
               .apply(lambda payment: {"payment_id": payment["payment_id"], "merchant": payment["merchant"],
                                       "amount_cents": round(payment["amount"] * 100)}))
''',
    reference="payments_pipeline_solution",
    live=True,
    mistakes=[
        Mistake("under 10 EUR came through", answer=_no_filter),
        Mistake("exactly 10.00 EUR is missing", answer=_strict_filter),
        Mistake("kept the small payments", answer=_inverted_filter),
        Mistake("still carry the payment's other fields", answer=_no_map),
        Mistake("int() cuts", answer=_truncated_cents),
        Mistake("is a float", answer=_float_cents),
        Mistake("that is euros", answer=_euros),
        Mistake("KeyError: 'amount'", answer=_map_first),
        Mistake("returned None", answer=_no_return),
        Mistake("nothing came out", answer=_nothing_passes),
        Mistake("pass a function, not str", answer="sdf.filter(...)", kind="wrong type"),
    ],
)
def quix_pipeline(payments_pipeline, *, payments: list[dict] | None = None) -> str:
    """Exercise 2: ``payments_pipeline(sdf)`` takes the StreamingDataFrame of a payments topic and returns one that
    keeps payments of at least 10 EUR, each as ``{"payment_id", "merchant", "amount_cents"}``. The checker runs it
    with Quix Streams on a topic of its own, reads what it wrote to another, and compares with the reference."""
    sa = _lab.streams_app()
    payments = [dict(p) for p in (payments or pipeline_payments())]
    with scratch_topic(CHAPTER, "quix-in", partitions=2, configs=KEEP) as source, \
            scratch_topic(CHAPTER, "quix-out", partitions=2, configs=KEEP) as sink:
        sa.produce_payments(source, payments)
        try:
            got = sa.run_pipeline(lambda sdf: call_learner(payments_pipeline, sdf), source, sink)
        except TypeError as e:
            if "StreamingDataFrame" not in str(e):
                raise NotYet(f"your pipeline raised TypeError: {e}") from None
            raise NotYet(f"your function {str(e).removeprefix('the function ')}: end it with `return` and the "
                         f"dataframe that filter(...) and apply(...) gave back") from None
        except (LabError, NotYet):
            raise
        except Exception as e:  # raised inside the learner's filter or map while a record went through
            detail = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
            why = (": filter before you map, since after the map the value has amount_cents, not amount"
                   if isinstance(e, KeyError) and "amount" in str(e) else "")
            raise NotYet(f"your pipeline raised {type(e).__name__}" + (f": {detail}" if detail else "")
                         + f" while processing a payment{why}") from None
    return _judge_pipeline(got, payments)


def _judge_pipeline(got: list[tuple[str | None, object]], payments: list[dict]) -> str:
    sa = _lab.streams_app()
    want = _expected_pipeline(payments)
    by_id = {p["payment_id"]: p for p in payments}
    if not got:
        raise NotYet(f"nothing came out of your pipeline; {len(want)} of the {len(payments)} payments are at least "
                     f"{sa.MIN_AMOUNT:g} EUR and should")
    if not all(isinstance(v, dict) and v.get("payment_id") in by_id for _, v in got):
        raise NotYet("some values are not dicts with the payment's payment_id: the map must return "
                     "{\"payment_id\": ..., \"merchant\": ..., \"amount_cents\": ...}")
    ids = Counter(v["payment_id"] for _, v in got)
    twice = sorted(i for i, n in ids.items() if n > 1)
    if twice:
        raise NotYet(f"payment {twice[0]} came out {ids[twice[0]]} times: each payment goes through once")
    small = sorted(i for i in ids if by_id[i]["amount"] < sa.MIN_AMOUNT)
    big = {v["payment_id"] for _, v in want}
    if small and not set(ids) & big:
        raise NotYet(f"your filter kept the small payments (under {sa.MIN_AMOUNT:g} EUR) and dropped the others: "
                     f"keep amount >= {sa.MIN_AMOUNT:g}")
    if small:
        raise NotYet(f"{len(small)} payments under {sa.MIN_AMOUNT:g} EUR came through (e.g. {small[0]} of "
                     f"{by_id[small[0]]['amount']:.2f} EUR): filter them out before the map")
    missing = sorted(big - set(ids))
    if missing:
        exact = [i for i in missing if by_id[i]["amount"] == sa.MIN_AMOUNT]
        if exact:
            raise NotYet(f"the payment of exactly {sa.MIN_AMOUNT:.2f} EUR is missing ({exact[0]}): the topology keeps "
                         f"amounts of at least {sa.MIN_AMOUNT:g}, so use >=, not >")
        raise NotYet(f"{len(missing)} payments of {sa.MIN_AMOUNT:g} EUR or more are missing (e.g. {missing[0]})")
    fields = {"payment_id", "merchant", "amount_cents"}
    extra = sorted({k for _, v in got for k in v} - fields)
    if extra:
        raise NotYet(f"the values still carry the payment's other fields {extra}: map each payment to "
                     f"{{payment_id, merchant, amount_cents}} only")
    lacking = sorted(fields - {k for _, v in got for k in v})
    if lacking:
        raise NotYet(f"the values lack {lacking}: map each payment to {{payment_id, merchant, amount_cents}}")
    want_by_id = {v["payment_id"]: (k, v) for k, v in want}
    for key, value in sorted(got, key=lambda kv: kv[1]["payment_id"]):
        pid, cents = value["payment_id"], value["amount_cents"]
        amount, right = by_id[pid]["amount"], want_by_id[pid][1]["amount_cents"]
        if isinstance(cents, bool) or not isinstance(cents, (int, float)):
            raise NotYet(f"amount_cents of {pid} is {cents!r}: a whole number of cents, round(amount * 100)")
        if isinstance(cents, float) and cents != right:
            if abs(cents - amount) < 1e-9:
                raise NotYet(f"amount_cents of {pid} is {cents}: that is euros; multiply by 100 and round")
            raise NotYet(f"amount_cents of {pid} is {cents}, which is a float: round(amount * 100) gives the whole "
                         f"number {right}")
        if cents != right:
            raise NotYet(f"amount_cents of {pid} is {cents}, not {right}: {amount} * 100 is {amount * 100!r}, and "
                         f"int() cuts that down; round() it")
        if value != want_by_id[pid][1]:
            raise NotYet(f"{pid} came out as {value}, not {want_by_id[pid][1]}")
        if key != want_by_id[pid][0]:
            raise NotYet(f"{pid} came out with the key {key!r}, not its customer {want_by_id[pid][0]!r}: filter and "
                         f"apply change the value only, the key stays")
    return (f"{len(got)} of the {len(payments)} payments came out, reshaped exactly as PaymentsApp's filter and "
            f"mapValues do (the plain-Python reference, sa.slim): the one of exactly {sa.MIN_AMOUNT:.2f} EUR kept, "
            f"19.99 EUR as 1999 cents, keys unchanged")


# ----------------------------------------------------------------------------------------------- Exercise 3


def _session_timeout_s() -> float:
    """The session timeout the broker gives a streams group that sets none itself, in seconds."""
    found = _lab.group_config_origins(unique_name(CHAPTER, "session"), ["streams.session.timeout.ms"])
    return found["streams.session.timeout.ms"][0] / 1000


@exercise(
    CHAPTER,
    title="How long does a killed instance keep its tasks?",
    kind="concept",
    expects="a number of seconds",
    hints=[
        "Under group.protocol=streams, who decides when a member that stopped sending heartbeats is gone: the "
        "application's settings or the broker?",
        "`group_config_origins(APP_ID, [name])` shows the value that applies to the chapter's group, and where it comes from.",
    ],
    solution='''
applies = group_config_origins(APP_ID, ["streams.session.timeout.ms"])["streams.session.timeout.ms"]
print(applies)
kept_for_solution = applies[0] / 1000  # in seconds
''',
    reference=lambda ctx: _session_timeout_s(),
    live=True,
    mistakes=[
        Mistake("the streams protocol ignores", answer=6),
        Mistake("heartbeat interval", answer=5),
        Mistake("the most a group may", answer=60),
        Mistake("initial rebalance delay", answer=3),
        Mistake("not 30", answer=30),
        Mistake("answer with a number", answer="45 s", kind="wrong type"),
    ],
)
def session_timeout(answer, *, group: str | None = None) -> str:
    """Exercise 3: under ``group.protocol=streams``, after how many seconds does the broker give the tasks of an
    instance killed with ``kill -9`` to another instance? The answer is read from the broker: the session timeout
    that applies to the group (a scratch group name by default: the broker default)."""
    seconds = real_number(answer, "seconds")
    sa = _lab.streams_app()
    group = group or unique_name(CHAPTER, "session")
    live = _lab.group_config_origins(group, [*sa.LIVENESS, "streams.initial.rebalance.delay.ms"])
    session_ms, where = live["streams.session.timeout.ms"]
    heartbeat_ms = live["streams.heartbeat.interval.ms"][0]
    delay_ms = live["streams.initial.rebalance.delay.ms"][0]
    if abs(seconds * 1000 - session_ms) < 1:
        return (f"{session_ms / 1000:g} s: the session timeout that applies to the group, {where}. The app's "
                f"own session.timeout.ms=6000 counts only under the classic protocol")
    if seconds == 6:
        raise NotYet("6 s is the app's session.timeout.ms, a client setting that the streams protocol ignores: the "
                     "broker keeps the session timeout of a streams group")
    if abs(seconds * 1000 - heartbeat_ms) < 1:
        raise NotYet(f"{heartbeat_ms / 1000:g} s is the heartbeat interval: how often a member reports. It is gone "
                     f"when no heartbeat came for a whole session timeout")
    if seconds == 60:
        raise NotYet("60 s is the most a group may ask for (group.streams.max.session.timeout.ms); nobody set it "
                     "for this group, so the broker's default applies")
    if abs(seconds * 1000 - delay_ms) < 1:
        raise NotYet(f"{delay_ms / 1000:g} s is the initial rebalance delay of a new group, not how long a dead "
                     f"member is waited for")
    raise NotYet(f"not {seconds:g} s: read the group's streams.session.timeout.ms from the broker "
                 f"(group_config_origins)")


# ----------------------------------------------------------------------------------------------- Exercise 4


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
    """Exercise 4: the name of the changelog topic Kafka Streams creates for a state store."""
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


# ----------------------------------------------------------------------------------------------- Exercise 5


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
        "Compare each customer's final count (`alos.counts`) with the true count of the 60 payments "
        "(`sa.expected(FIRST, customers)`); the difference is what was counted twice.",
    ],
    solution='''
true_counts = {k: v[-1]["count"] for k, v in sa.expected(FIRST, customers)[1].items()}
duplicates_solution = {k: n - true_counts.get(k, 0) for k, n in alos.counts.items() if n != true_counts.get(k, 0)}
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
    """Exercise 5: after the at-least-once crash, how many payments were counted twice, per customer?"""
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

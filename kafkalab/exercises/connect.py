"""Exercises of "Kafka Connect: a database in and out" (notebooks/06_connect.ipynb).

Exercise 1 runs the learner's JDBC sink configuration on the live Connect worker, under names of its own, against a
topic of known records (updates of a key, a tombstone, one record that is not JSON), and judges what lands in the
table and in the dead-letter topic. Exercise 2 asks which change events a primary-key update produces; its answer is
known from Debezium's documented behaviour (the chapter's solution cell shows it live).
"""
from __future__ import annotations

import contextlib
import json

from . import _lab
from .answers import need, type_name
from .core import Mistake, exercise
from .scratch import unique_name
from .verdicts import NotYet, WrongType

CHAPTER = "connect"
#: The names the chapter gives Exercise 1 (the checker runs the answer on names of its own instead).
SCORES_TOPIC = "connect-scores"
SCORES_TABLE = "shop.scores"
SCORES_DLQ = "connect-scores-dlq"
_JSON = "org.apache.kafka.connect.json.JsonConverter"

#: Exercise 1's records, in order: (player id, points); None is a tombstone, "poison" a value that is not JSON.
SCORES = [(1, 10), (2, 20), (3, "poison"), (1, 15), (4, 40), (2, None)]
#: What the table must hold afterwards: player 1's newer score, player 4, and no player 2 (deleted by its tombstone).
EXPECTED_SCORES = {(1, 15), (4, 40)}


def fill_scores(topic: str) -> int:
    """(Re)create ``topic`` and write :data:`SCORES` into it: keys and values in Connect's JSON envelope with schemas
    (what a JsonConverter with ``schemas.enable=true`` writes); returns the number of records."""
    cdc = _lab.cdc()
    _lab.recreate_topic(topic)
    with contextlib.closing(_lab.producer()) as p:
        for player, points in SCORES:
            key = cdc.envelope({"id": player}, {"id": "int32"})
            if points is None:
                value = None
            elif points == "poison":
                value = b"this is not JSON"
            else:
                value = cdc.envelope({"id": player, "points": points}, {"id": "int32", "points": "int32"})
            p.send(topic, key=key, value=value)
        p.flush()
    return len(SCORES)


# ----------------------------------------------------------------------------------------------- Exercise 1


def _reference_config(ctx: dict | None = None) -> dict:
    """A right answer: the chapter's names, the course database, upserts by key, deletes, a dead-letter queue."""
    cdc = _lab.cdc()
    return {
        "connector.class": cdc.DEBEZIUM_JDBC_SINK,
        "tasks.max": "1",
        "topics": SCORES_TOPIC,
        **cdc.jdbc_connection(),
        "collection.name.format": SCORES_TABLE,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "delete.enabled": "true",
        "schema.evolution": "basic",
        "key.converter": _JSON,
        "key.converter.schemas.enable": "true",
        "value.converter": _JSON,
        "value.converter.schemas.enable": "true",
        "errors.tolerance": "all",
        "errors.deadletterqueue.topic.name": SCORES_DLQ,
        "errors.deadletterqueue.topic.replication.factor": "1",
        "errors.deadletterqueue.context.headers.enable": "true",
    }


def _changed(**changes):
    """A mistake: the reference with some settings changed (a value of None removes the setting)."""
    def make(ctx: dict) -> dict:
        cfg = _reference_config()
        for key, value in changes.items():
            key = key.replace("__", ".")
            if value is None:
                cfg.pop(key, None)
            else:
                cfg[key] = value
        return cfg
    return make


def _source_with_dlq(ctx: dict) -> dict:
    cdc = _lab.cdc()
    cfg = cdc.source_config(cdc.Source("exercise", ("shop.scores",)))
    cfg.update({k: v for k, v in _reference_config().items() if k.startswith("errors.")})
    return cfg


def _falsy(value) -> bool:
    return str(value).strip().lower() != "true"


def _schemas_on(config: dict) -> bool:
    """Do both converters read the {schema, payload} envelope? A connector that names no converter gets the worker's
    (JsonConverter with schemas.enable=false here); one that names JsonConverter gets its default, schemas on."""
    for side in ("key", "value"):
        converter = config.get(f"{side}.converter")
        if converter != _JSON or _falsy(config.get(f"{side}.converter.schemas.enable", "true")):
            return False
    return True


def _run_sink(config: dict, timeout_s: float = 30) -> dict:
    """Run ``config`` on scratch names (topic with :data:`SCORES`, schema, dead-letter topic) until the sink has
    consumed every record or its task failed; return what happened. Everything is removed afterwards."""
    from ..errors import LabError
    from ..wait import wait_until

    cdc, connect = _lab.cdc(), _lab.connect()
    connect.worker()  # a stopped worker is "cannot check" with the fix, not the learner's mistake
    name = unique_name(CHAPTER, "sink")
    topic, dlq = unique_name(CHAPTER, "scores"), unique_name(CHAPTER, "dlq")
    schema = name.replace("-", "_")
    table = f"{schema}.scores"
    cfg = {**{k: str(v) for k, v in config.items()}, "topics": topic, "collection.name.format": table}
    if cfg.get("errors.deadletterqueue.topic.name"):
        cfg["errors.deadletterqueue.topic.name"] = dlq
    seen: dict = {"failure": None, "consumed": 0}
    try:
        n = fill_scores(topic)
        cdc.execute(f"CREATE SCHEMA {schema}")
        try:
            connect.create(name, cfg)
        except LabError as e:
            raise NotYet(f"Connect did not accept your configuration: {e}") from None

        def settled() -> bool:
            with contextlib.suppress(LabError):  # just created: no status or offsets yet
                seen["failure"] = connect.failure(name)
                seen["consumed"] = sum(int(o.get("offset", {}).get("kafka_offset", 0)) for o in connect.offsets(name))
            return seen["failure"] is not None or seen["consumed"] >= n

        with contextlib.suppress(LabError):  # not settled in time: the checks below say what is missing
            wait_until(settled, timeout_s=timeout_s, interval_s=0.5, what="the sink consuming the scores")
        try:
            rows = sorted(cdc.rows(f"SELECT id, points FROM {table}"))
        except Exception:  # noqa: BLE001  no such table (or not those columns): the sink did not create it
            rows = None
        return {"failure": seen["failure"], "rows": rows, "dead_letters": cdc.dead_letters(dlq, timeout_s=5),
                "consumed": seen["consumed"]}
    finally:
        with contextlib.suppress(Exception):
            connect.delete(name)
        with contextlib.suppress(Exception):
            _lab.delete_group(f"connect-{name}", timeout_s=5)
        for t in (topic, dlq):
            with contextlib.suppress(Exception):
                _lab.delete_topic(t)
        with contextlib.suppress(Exception):
            cdc.drop_schema(schema)


def _why_it_failed(config: dict, failure: str) -> str:
    """The likely mistake behind a FAILED sink task, from its configuration and its one-line failure."""
    pk_mode = str(config.get("primary.key.mode", "none"))
    if not _falsy(config.get("delete.enabled", "false")) and pk_mode != "record_key":
        return (f"the task failed at start: delete.enabled=true needs primary.key.mode=record_key (you have "
                f"{pk_mode}). A tombstone has no value, so only its key can say which row to delete")
    if "dead letter queue" in failure or "InvalidReplicationFactor" in failure:
        return ("Connect could not create the dead-letter topic: errors.deadletterqueue.topic.replication.factor "
                "defaults to 3, and this cluster has one broker. Set it to 1")
    if not _schemas_on(config):
        return ("the sink received records without schemas, so it cannot map fields to columns (the task failed). "
                "Set key.converter and value.converter to JsonConverter, each with schemas.enable=true: the topic's "
                "records carry the {schema, payload} envelope, and the worker's default converter ignores it")
    if "Tolerance exceeded" in failure:
        return ("the record that is not JSON stopped the task (Tolerance exceeded): errors.tolerance=all lets the "
                "sink skip a record it cannot convert, and the dead-letter topic keeps it")
    return f"the sink's task failed: {failure}"


@exercise(
    CHAPTER,
    title="A JDBC sink that upserts, deletes and keeps a dead-letter queue",
    kind="code",
    function=False,
    expects="the sink connector's configuration, a dict",
    hints=[
        "Start from sink_config in section 6: the Debezium JDBC sink, `topics`, `collection.name.format`, the "
        "connection settings (`**cdc.jdbc_connection()`), and `schema.evolution` = basic so it creates the table.",
        "One row per key: `insert.mode` = upsert with `primary.key.mode` = record_key; tombstones delete with "
        "`delete.enabled` = true. Both converters: JsonConverter with `schemas.enable` = true.",
        "The dead-letter queue: `errors.tolerance` = all, `errors.deadletterqueue.topic.name`, its "
        "`.topic.replication.factor` = 1 (one broker) and `.context.headers.enable` = true for the error headers.",
    ],
    solution='''
scores_sink_solution = {
    "connector.class": DEBEZIUM_JDBC_SINK,
    "tasks.max": "1",
    "topics": SCORES_TOPIC,
    **cdc.jdbc_connection(),
    "collection.name.format": SCORES_TABLE,
    "schema.evolution": "basic",
    "insert.mode": "upsert",
    "primary.key.mode": "record_key",
    "delete.enabled": "true",
    "key.converter": connect.JSON_CONVERTER,
    "key.converter.schemas.enable": "true",
    "value.converter": connect.JSON_CONVERTER,
    "value.converter.schemas.enable": "true",
    "errors.tolerance": "all",
    "errors.deadletterqueue.topic.name": SCORES_DLQ,
    "errors.deadletterqueue.topic.replication.factor": "1",
    "errors.deadletterqueue.context.headers.enable": "true",
}
''',
    reference=_reference_config,
    live=True,
    services=("postgres", "connect"),
    mistakes=[
        Mistake("dead-letter queues exist for sink connectors only", make=_source_with_dlq),
        Mistake("the sink must read the topic connect-scores", make=_changed(topics="scores")),
        Mistake("one row per key",
                make=_changed(insert__mode="insert", primary__key__mode="none", delete__enabled="false")),
        Mistake("delete.enabled=true needs primary.key.mode=record_key",
                make=_changed(primary__key__mode="record_value", primary__key__fields="id")),
        Mistake("a tombstone did not delete its row", make=_changed(delete__enabled="false")),
        Mistake("records without schemas", make=_changed(key__converter=None, key__converter__schemas__enable=None,
                                                         value__converter=None, value__converter__schemas__enable=None)),
        Mistake("records without schemas", make=_changed(value__converter="org.apache.kafka.connect.storage."
                                                                          "StringConverter")),
        Mistake("stopped the task", make=_changed(errors__tolerance=None)),
        Mistake("replication.factor defaults to 3",
                make=_changed(errors__deadletterqueue__topic__replication__factor=None)),
        Mistake("vanished without a trace", make=_changed(errors__deadletterqueue__topic__name=None,
                                                          errors__deadletterqueue__topic__replication__factor=None,
                                                          errors__deadletterqueue__context__headers__enable=None)),
        Mistake("no error headers", make=_changed(errors__deadletterqueue__context__headers__enable=None)),
        Mistake("answer with the connector's configuration", answer="cdc-sink-scores", kind="wrong type"),
    ],
)
def jdbc_sink(config, *, topic: str = SCORES_TOPIC, table: str = SCORES_TABLE, dlq: str = SCORES_DLQ) -> str:
    """Exercise 1: a JDBC sink configuration that keeps ``table`` equal to ``topic`` (upserts by key, deletes on
    tombstones) and parks records it cannot read in ``dlq`` with the error in headers.

    The checker validates it through Connect's REST API, then runs it under names of its own on a topic holding
    :data:`SCORES`, and compares the table with :data:`EXPECTED_SCORES` and the dead-letter topic with the one poison
    record. Everything it creates is removed afterwards.
    """
    if not isinstance(config, dict):
        raise WrongType(f"answer with the connector's configuration, a dict like sink_config in section 6, not "
                        f"{type_name(config)}")
    cdc, connect = _lab.cdc(), _lab.connect()
    cls = config.get("connector.class")
    if cls == cdc.DEBEZIUM_POSTGRES:
        raise NotYet("that is Debezium's PostgreSQL source, which reads the database into topics; dead-letter queues "
                     "exist for sink connectors only (a source has no Kafka record to park). Use the JDBC sink, "
                     f"{cdc.DEBEZIUM_JDBC_SINK}")
    if cls != cdc.DEBEZIUM_JDBC_SINK:
        raise NotYet(f"connector.class is {cls!r}; a topic-to-table copy is Debezium's JDBC sink, "
                     f"{cdc.DEBEZIUM_JDBC_SINK}")
    for key, want, what in (("topics", topic, "read the topic"), ("collection.name.format", table, "write the table")):
        if str(config.get(key, "")) != want:
            raise NotYet(f"the sink must {what} {want} (`{key}`), not {config.get(key)!r}")
    named_dlq = config.get("errors.deadletterqueue.topic.name")
    if named_dlq and str(named_dlq) != dlq:
        raise NotYet(f"name the dead-letter topic {dlq} (`errors.deadletterqueue.topic.name`), not {named_dlq!r}")
    problems = connect.validate(config)
    if problems:
        raise NotYet(f"Connect's validation refuses it: {'; '.join(problems)}")

    seen = _run_sink(config)
    if seen["failure"]:
        raise NotYet(_why_it_failed(config, seen["failure"]))
    rows = seen["rows"]
    if rows is None:
        raise NotYet("the table was never created: `schema.evolution` = basic lets the sink create it (and add "
                     "columns later)")
    ids = [r[0] for r in rows]
    if len(ids) != len(set(ids)):
        raise NotYet(f"the table holds {len(rows)} rows with repeated ids, {rows}: every record became a new row. "
                     "For one row per key use insert.mode=upsert with primary.key.mode=record_key")
    if any(r[0] == 2 for r in rows):
        raise NotYet("a tombstone did not delete its row (player 2 is still there): set delete.enabled=true")
    if set(rows) != EXPECTED_SCORES:
        raise NotYet(f"the table holds {rows}, expected {sorted(EXPECTED_SCORES)}")
    letters = seen["dead_letters"]
    if not named_dlq or not letters:
        raise NotYet("the table is right, but the record that is not JSON vanished without a trace: with "
                     "errors.tolerance=all the sink skips it, and errors.deadletterqueue.topic.name keeps it")
    headers = letters[0]["headers"]
    if "exception.message" not in headers:
        raise NotYet("the dead letter arrived with no error headers: set errors.deadletterqueue.context.headers.enable"
                     "=true to learn why each record was parked (and from which topic and offset)")
    return (f"the table holds {sorted(EXPECTED_SCORES)}: one row per key, player 2 deleted by its tombstone, and the "
            f"record that is not JSON sits in the dead-letter topic with its error "
            f"({headers.get('exception.class.name', '?').rsplit('.', 1)[-1]}) in the headers")


# ----------------------------------------------------------------------------------------------- Exercise 2

#: What Debezium writes for ``UPDATE ... SET id = <new>``: a delete and its tombstone for the old key, then a create.
KEY_CHANGE_OPS = ["d", None, "c"]


@exercise(
    CHAPTER,
    title="The change events of a primary-key update",
    kind="concept",
    expects="a list of op codes such as ['c', 'u'], with None for a tombstone",
    hints=[
        "A record's key is the row's primary key. After this UPDATE, which key does the row have, and what should "
        "a consumer that keeps one row per key do with the old key?",
        "Debezium cannot send one update that moves a row from one key to another: it ends the old key as a delete "
        "does, and starts the new key as an insert does.",
    ],
    solution='''
before = len(cdc.change_events(payments_topic))
cdc.execute("UPDATE shop.payments SET id = 60 WHERE id = 6")
events = cdc.wait_for_events(payments_topic, lambda ev: any(e["op"] == "c" and e["after"]["id"] == 60
                                                            for e in ev[before:]), "the events of the key change")
key_change_ops = [e["op"] for e in events[before:]]
print(key_change_ops)
''',
    reference=lambda ctx: list(KEY_CHANGE_OPS),
    mistakes=[
        Mistake("the key changed", answer=["u"]),
        Mistake("the tombstone", answer=["d", "c"]),
        Mistake("comes first", answer=["c", "d", None]),
        Mistake("op codes are", answer=["delete", None, "create"]),
        Mistake("answer with a list", answer="d, c", kind="wrong type"),
    ],
)
def key_change(answer) -> str:
    """Exercise 2: the records the payments topic receives for ``UPDATE shop.payments SET id = 60 WHERE id = 6``."""
    need(answer, list, "answer with a list of op codes such as ['c', 'u'], with None for a tombstone")
    codes = {"c", "u", "d", "r", "t", None}
    if any(a not in codes for a in answer):
        raise NotYet(f"op codes are single letters (c, u, d, r, t) or None for a tombstone; you gave {answer!r}")
    if answer == KEY_CHANGE_OPS:
        return ("d, tombstone, c: the old key ends as a delete (and its tombstone lets compaction forget it), the new "
                "key starts as a create. An upsert sink then deletes row 6 and inserts row 60")
    if answer == ["u"] or answer == ["u", None]:
        raise NotYet("an update of a non-key column is one 'u' event, but here the key changed: a consumer keyed by "
                     "id must forget key 6 and learn key 60")
    if answer == ["d", "c"]:
        raise NotYet("right order, but the delete of key 6 is followed by the tombstone (None), as for any delete "
                     "(tombstones.on.delete is on)")
    if answer and answer[0] == "c":
        raise NotYet("the create comes first in your list; Debezium ends the old key before it starts the new one")
    raise NotYet(f"not quite: {json.dumps(answer)}. Think of what happens to key 6 and to key 60")

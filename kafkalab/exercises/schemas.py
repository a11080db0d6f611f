"""Exercises of "Managing and evolving data schemas" (notebooks/04_schemas.ipynb).

Each checker asks the real schema registry (and, for the wire format, the broker) rather than a stored answer.
Subjects the checkers create have run-unique names and are deleted again.
"""
from __future__ import annotations

import contextlib
import copy
import json
from typing import Iterator

from . import _lab
from .answers import type_name
from .core import Mistake, exercise
from .scratch import scratch_topic, unique_name
from .verdicts import NotYet, WrongType

CHAPTER = "schemas"
TOPIC = "schemas-payments"
SUBJECT = f"{TOPIC}-value"


def _registry(registry=None):
    return registry or _lab.schemas().registry_client()


# ----------------------------------------------------------------------------------------------- Exercise 1


def float_amount_change() -> tuple[dict, dict]:
    """(payment v2, payment v2 with ``amount`` as a float): the change Exercise 1 asks about."""
    s = _lab.schemas()
    v2 = s.load_schema("payment-v2")
    return v2, s.with_field_type(v2, "amount", "float")


def _modes(answer) -> set[str]:
    modes = _lab.schemas().MODES
    if not isinstance(answer, (set, list, tuple, frozenset)):
        raise WrongType(f'answer with a set of modes, e.g. {{"NONE", "FULL"}}, not {type_name(answer)}')
    given = {str(m).strip().upper() for m in answer}
    unknown = sorted(given - set(modes))
    if unknown:
        raise NotYet(f"{unknown} are not modes of this exercise; choose among {', '.join(modes)}")
    return given


def _offline_modes(ctx: dict) -> set[str]:
    """The reference: fastavro-based reasoning of the chapter, without the registry."""
    s = _lab.schemas()
    old, new = float_amount_change()
    return {mode for mode in s.MODES if s.compatible(mode, new, old)}


@exercise(
    CHAPTER,
    title="Under which modes may amount become a float?",
    kind="concept",
    expects='a set of mode names, e.g. {"NONE", "FULL"}',
    hints=[
        "Ask for each mode who must read whose data: BACKWARD, new readers read old data; FORWARD, old readers read "
        "new data; FULL, both; NONE checks nothing.",
        "Avro promotes a float to a double when reading, never a double to a float.",
    ],
    solution='''
double_v2, float_v2 = V2, schemas.with_field_type(V2, "amount", "float")
float_modes_solution = {mode for mode in schemas.MODES if schemas.compatible(mode, float_v2, double_v2)}
print(sorted(float_modes_solution))
''',
    reference=_offline_modes,
    live=True,
    services=("registry",),
    mistakes=[
        Mistake("BACKWARD refuses it", answer={"NONE", "BACKWARD", "FORWARD"}),
        Mistake("FORWARD accepts it", answer={"NONE"}),
        Mistake("NONE accepts every change: it checks nothing", answer={"FORWARD"}),
        Mistake("FULL needs both directions to work", answer={"NONE", "FORWARD", "FULL"}),
        Mistake("are not modes of this exercise", answer={"NONE", "SIDEWAYS"}),
        Mistake("answer with a set of modes", answer="FORWARD", kind="wrong type"),
    ],
)
def float_amount_modes(answer, *, registry=None) -> str:
    """Exercise 1: under which of NONE, BACKWARD, FORWARD, FULL does the registry accept ``amount`` as a float
    after payment v2? Checked live: each mode on a fresh subject of its own."""
    given = _modes(answer)
    s = _lab.schemas()
    registry = _registry(registry)
    old, new = float_amount_change()
    expected = {m for m in s.MODES
                if s.try_change(registry, unique_name(CHAPTER, f"float-{m.lower()}"), m, old, new)[0]}
    if given == expected:
        return (f"the registry accepts the change under {', '.join(m for m in s.MODES if m in expected)} only: old "
                f"readers (double) can read new floats, new readers (float) cannot read old doubles")
    if "BACKWARD" in given and "BACKWARD" not in expected:
        raise NotYet("BACKWARD refuses it: under BACKWARD, readers on the NEW schema (float) must read data written "
                     "with the OLD one (double), and Avro promotes float -> double, never double -> float")
    if "FORWARD" not in given and "FORWARD" in expected:
        raise NotYet("FORWARD accepts it: under FORWARD, readers on the OLD schema (double) read data written with "
                     "the NEW one (float), and a float widens to a double without loss")
    if "NONE" not in given:
        raise NotYet("NONE accepts every change: it checks nothing")
    raise NotYet(f"not quite: the registry accepts it under {sorted(expected)}, you said {sorted(given)}. FULL needs "
                 f"both directions to work")


# ----------------------------------------------------------------------------------------------- Exercise 2


@contextlib.contextmanager
def _subject_with_v1_v2() -> Iterator[dict]:
    """A scratch subject like the chapter's: payment v1 and v2 registered under BACKWARD."""
    s = _lab.schemas()
    registry = _registry()
    subject = unique_name(CHAPTER, "v3") + "-value"
    _lab.schemas().set_compatibility(registry, subject, "BACKWARD")
    try:
        for version in ("payment-v1", "payment-v2"):
            _lab.schemas().register(registry, subject, s.load_schema(version))
        yield {"subject": subject}
    finally:
        with contextlib.suppress(Exception):
            _lab.schemas().delete_subject(registry, subject)


def _v3_with(**changes) -> dict:
    """payment v3 with its risk_score field changed as given (``None`` values delete a key)."""
    v3 = copy.deepcopy(_lab.schemas().load_schema("payment-v3"))
    for field in v3["fields"]:
        if field["name"] == "risk_score":
            for key, value in changes.items():
                if value is _DELETE:
                    field.pop(key, None)
                else:
                    field[key] = value
    return v3


_DELETE = object()


def _fixed_v3(ctx: dict | None = None) -> dict:
    return _v3_with(type=["null", "double"], default=None)


def _renamed(ctx: dict) -> dict:
    return {**_fixed_v3(), "name": "PaymentV3"}


def _without(name: str):
    def make(ctx: dict) -> dict:
        v3 = _fixed_v3()
        v3["fields"] = [f for f in v3["fields"] if f["name"] != name]
        return v3
    return make


def _amount_as_string(ctx: dict) -> dict:
    v3 = _fixed_v3()
    for f in v3["fields"]:
        if f["name"] == "amount":
            f["type"] = "string"
    return v3


@exercise(
    CHAPTER,
    title="Fix version 3 so that the registry accepts it",
    kind="code",
    function=False,
    expects="the schema as a dict",
    hints=[
        "The registry's 409 says why v3 is refused: a reader on v3 meets v1 and v2 records that have no "
        "risk_score, and the field has no default.",
        "Give risk_score a default. For a score that may be missing, use the union [\"null\", \"double\"] with "
        "\"default\": None: a union's default must match its FIRST branch.",
    ],
    solution='''
v3_solution = json.loads(json.dumps(V3))  # a deep copy
for field in v3_solution["fields"]:
    if field["name"] == "risk_score":
        field["type"] = ["null", "double"]  # null first: a union's default must match its first branch
        field["default"] = None
''',
    reference=_fixed_v3,
    rehearsal=_subject_with_v1_v2,
    live=True,
    services=("registry",),
    mistakes=[
        Mistake("risk_score has no default", make=lambda ctx: _v3_with()),
        Mistake("must match the FIRST branch", make=lambda ctx: _v3_with(type=["double", "null"], default=None)),
        Mistake("a renamed record is a different type", make=_renamed),
        Mistake("your schema drops ['channel']", make=_without("channel")),
        Mistake("there is no field named risk_score", make=_without("risk_score")),
        Mistake("risk_score should hold a double", make=lambda ctx: _v3_with(type="string", default="")),
        Mistake("the registry refuses it", make=_amount_as_string),
        Mistake("fastavro cannot parse your schema",
                answer={"type": "record", "name": "Payment", "fields": [{"name": "amount", "type": "dbl"}]}),
        Mistake("answer with the schema as a dict", make=lambda ctx: json.dumps(_fixed_v3()), kind="wrong type"),
    ],
)
def v3_schema(answer, *, subject: str = SUBJECT, registry=None) -> str:
    """Exercise 2: a payment schema that adds ``risk_score`` (a double) and that the registry accepts after the
    versions already in ``subject`` (asked with the registry's compatibility check: nothing is registered)."""
    from ..errors import LabError

    s = _lab.schemas()
    if not isinstance(answer, dict):
        raise WrongType(f"answer with the schema as a dict (json.loads of the .avsc text, or a literal), not "
                        f"{type_name(answer)}")
    try:
        s.parse(answer)
    except LabError as e:
        raise NotYet(f"fastavro cannot parse your schema: {e}") from None
    registry = _registry(registry)
    latest = _lab.schemas().latest_schema(registry, subject)
    names = s.field_names(answer)
    missing = [n for n in s.field_names(latest) if n not in names]
    if missing:
        raise NotYet(f"your schema drops {missing}: start from payment-v2 and only add risk_score")
    if answer.get("name") != latest["name"]:
        raise NotYet(f"the record is named {answer.get('name')!r}, not {latest['name']!r}: a renamed record is a "
                     f"different type to Avro readers")
    field = next((f for f in answer["fields"] if f["name"] == "risk_score"), None)
    if field is None:
        raise NotYet("there is no field named risk_score")
    branches = field["type"] if isinstance(field["type"], list) else [field["type"]]
    if "double" not in branches:
        raise NotYet(f"risk_score should hold a double (alone or in a union with null), not {field['type']!r}")
    if "default" not in field:
        raise NotYet("risk_score has no default: a reader on your schema meets v1 and v2 records that lack the field "
                     "and has nothing to put there, so BACKWARD refuses it (the 409 above). Add a default")
    first = branches[0]
    bad_default = s.find_mismatch({"risk_score": field["default"]},
                                  {"type": "record", "name": "D", "fields": [{"name": "risk_score", "type": first}]})
    if bad_default is not None:
        raise NotYet(f"the default {field['default']!r} does not match the field's first type {first!r}: in a union "
                     f"the default must match the FIRST branch (put 'null' first for a null default)")
    problems = s.compatibility_problems("BACKWARD", answer, latest)
    if not _lab.schemas().is_compatible(registry, subject, answer):
        raise NotYet(f"the registry refuses it: {problems[0] if problems else 'see its message when registering'}")
    v1_record = {"payment_id": "P00000", "customer_id": "C001", "merchant": "cafe", "method": "card",
                 "amount": 4.5, "currency": "EUR", "ts_ms": 0}
    old = s.load_schema("payment-v1")
    read = s.avro_decode(s.avro_encode(v1_record, old), old, answer)
    return (f"the registry would accept it under {_lab.schemas().compatibility(registry, subject)}; a v1 record read with it gets "
            f"risk_score = {json.dumps(read['risk_score'])}")


# ----------------------------------------------------------------------------------------------- Exercise 3


def raw_value(topic: str, partition: int = 0, offset: int = 0) -> bytes:
    """The raw bytes of one record's value (no deserializer): what Exercise 3 takes apart by hand."""
    from kafka import TopicPartition

    from ..errors import LabError
    from ..wait import wait_until

    tp = TopicPartition(topic, partition)
    with contextlib.closing(_lab.consumer(enable_auto_commit=False, group_id=None)) as c:
        if partition not in (c.partitions_for_topic(topic) or set()):
            raise LabError(f"topic {topic} has no partition {partition}: run the chapter's sections first")
        c.assign([tp])
        c.seek(tp, offset)

        def fetch():
            for records in c.poll(timeout_ms=500).values():
                for r in records:
                    if r.offset == offset:
                        return [r.value]
            return None

        return wait_until(fetch, timeout_s=10, what=f"reading {topic} partition {partition} offset {offset}",
                          fix="run the chapter's sections first, so the record exists")[0]


@contextlib.contextmanager
def _one_framed_record() -> Iterator[dict]:
    """A scratch topic whose first record is a payment in the wire format, under a scratch subject."""
    s = _lab.schemas()
    registry = _registry()
    subject = unique_name(CHAPTER, "wire") + "-value"
    v1 = s.load_schema("payment-v1")
    try:
        schema_id = _lab.schemas().register(registry, subject, v1)
        data = s.frame(schema_id, s.avro_encode(_lab.datagen().payments(1)[0], v1))
        with scratch_topic(CHAPTER, "wire") as topic:
            with contextlib.closing(_lab.producer()) as p:
                p.send(topic, value=data, partition=0).get(timeout=10)
            yield {"topic": topic, "_data": data}
    finally:
        with contextlib.suppress(Exception):
            _lab.schemas().delete_subject(registry, subject)


def _by_hand(data: bytes) -> dict:
    length = data[5] // 2  # zigzag: 0x0c -> 6
    return {"schema_id": int.from_bytes(data[1:5], "big"), "payment_id": data[6:6 + length].decode()}


@exercise(
    CHAPTER,
    title="Read the wire format by hand",
    kind="concept",
    expects='a dict {"schema_id": <int>, "payment_id": <str>}',
    hints=[
        "Byte 0 is the magic byte; bytes 1 to 4 are the schema id, big-endian: `int.from_bytes(data[1:5], \"big\")`.",
        "The Avro body starts at byte 5 with the first field, payment_id: one byte of zigzag length (0x0c is 6 "
        "characters), then the characters: `data[6:6 + data[5] // 2].decode()`.",
    ],
    solution='''
from kafkalab.exercises.schemas import raw_value

first_bytes = raw_value(TOPIC)
id_length = first_bytes[5] // 2  # zigzag: 0x0c -> 6
header_solution = {"schema_id": int.from_bytes(first_bytes[1:5], "big"),
                   "payment_id": first_bytes[6:6 + id_length].decode()}
print(header_solution)
''',
    reference=lambda ctx: _by_hand(ctx["_data"]),
    rehearsal=_one_framed_record,
    live=True,
    services=("registry",),
    mistakes=[
        Mistake("you read the id little-endian",
                make=lambda ctx: {**_by_hand(ctx["_data"]), "schema_id": int.from_bytes(ctx["_data"][1:5], "little")}),
        Mistake("you included the magic byte",
                make=lambda ctx: {**_by_hand(ctx["_data"]), "schema_id": int.from_bytes(ctx["_data"][0:4], "big")}),
        Mistake("it is the 4 bytes after the magic byte, big-endian",
                make=lambda ctx: {**_by_hand(ctx["_data"]), "schema_id": _by_hand(ctx["_data"])["schema_id"] + 1000}),
        Mistake("a zigzag varint length",
                make=lambda ctx: {**_by_hand(ctx["_data"]), "payment_id": ctx["_data"][5:11].decode("latin-1")}),
        Mistake("the schema id is an int, not str",
                make=lambda ctx: {**_by_hand(ctx["_data"]), "schema_id": str(_by_hand(ctx["_data"])["schema_id"])},
                kind="wrong type"),
        Mistake('answer with a dict {"schema_id": <int>, "payment_id": <str>}', answer={"schema_id": 1},
                kind="wrong type"),
    ],
)
def header_by_hand(answer, *, topic: str = TOPIC, registry=None) -> str:
    """Exercise 3: ``{"schema_id": ..., "payment_id": ...}`` of the record at partition 0, offset 0 of ``topic``,
    found from its raw bytes."""
    if not (isinstance(answer, dict) and {"schema_id", "payment_id"} <= set(answer)):
        raise WrongType('answer with a dict {"schema_id": <int>, "payment_id": <str>}')
    s = _lab.schemas()
    data = raw_value(topic)
    schema_id, body = s.unframe(data)
    given = answer["schema_id"]
    if isinstance(given, bool) or not isinstance(given, int):
        raise WrongType(f"the schema id is an int, not {type_name(given)}")
    if given != schema_id:
        if given == int.from_bytes(data[1:5], "little"):
            raise NotYet("you read the id little-endian: the wire format stores it big-endian "
                         "(int.from_bytes(data[1:5], 'big'))")
        if given == int.from_bytes(data[0:4], "big"):
            raise NotYet("you included the magic byte: the id is bytes 1 to 4 (data[1:5]), after byte 0")
        raise NotYet(f"the schema id is not {given}: it is the 4 bytes after the magic byte, big-endian")
    writer = _lab.schemas().writer_schema(_registry(registry), schema_id)
    payment_id = s.avro_decode(body, writer)["payment_id"]
    if answer["payment_id"] != payment_id:
        raise NotYet(f"the payment id is not {answer['payment_id']!r}. The body's first field is a string: a zigzag "
                     f"varint length (byte 0x{body[0]:02x} = {body[0] // 2} characters), then the UTF-8 bytes")
    return (f"bytes 1-4 hold the id the registry gave the writer's schema, and the record is payment {payment_id} "
            f"({len(body)}-byte Avro body after the 5-byte header)")

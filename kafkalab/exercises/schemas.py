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

#: Exercise 3's task: version 4 adds this symbol to ``method`` and this field, which records written before v4 read
#: as :data:`OLD_COUNTRY`.
NEW_SYMBOL, NEW_FIELD, OLD_COUNTRY = "crypto", "country", "unknown"


def accepted_v3() -> dict:
    """Payment v3 as the registry accepts it after v1 and v2 (Exercise 2's solution): ``risk_score`` is
    ``["null", "double"]`` with the default null. A fresh copy on every call."""
    return _fixed_v3()


@contextlib.contextmanager
def _history_subject(what: str, registry=None) -> Iterator[tuple[object, str]]:
    """A scratch subject under BACKWARD holding payment v1, v2 and the accepted v3, deleted afterwards."""
    s = _lab.schemas()
    registry = _registry(registry)
    subject = unique_name(CHAPTER, what) + "-value"
    s.set_compatibility(registry, subject, "BACKWARD")
    try:
        for schema in (s.load_schema("payment-v1"), s.load_schema("payment-v2"), accepted_v3()):
            s.register(registry, subject, schema)
        yield registry, subject
    finally:
        with contextlib.suppress(Exception):
            s.delete_subject(registry, subject)


def _v4(method_symbols=("card", "wallet", "transfer", "crypto"), country: dict | None = None, **record) -> dict:
    """A version 4 built from the accepted v3: ``method`` with ``method_symbols``, the field ``country`` (``None``
    leaves it out), and top-level keys of ``record`` replaced."""
    s = _lab.schemas()
    v4 = s.with_field_type(accepted_v3(), "method", {"type": "enum", "name": "Method", "symbols": list(method_symbols)})
    if country is not None:
        v4 = s.with_field(v4, {"name": NEW_FIELD, **country})
    return {**v4, **record}


_COUNTRY = {"type": "string", "default": OLD_COUNTRY}


def _reference_v4(ctx: dict | None = None) -> dict:
    return _v4(country=_COUNTRY)


def _default_problem(field: dict) -> str | None:
    """Why ``field``'s default does not fit its type (for a union: its FIRST branch), or None."""
    if not isinstance(field, dict) or "default" not in field or not field.get("type"):
        return None
    branches = field["type"] if isinstance(field["type"], list) else [field["type"]]
    first = branches[0]
    try:
        bad = _lab.schemas().find_mismatch({field["name"]: field["default"]},
                                           {"type": "record", "name": "D", "fields": [{"name": field["name"],
                                                                                       "type": first}]})
    except Exception:  # a type fastavro will not parse either: its message comes next
        return None
    if bad is None:
        return None
    return (f"the default {field['default']!r} of {field['name']} does not match its type {first!r}"
            + (": in a union the default must match the FIRST branch" if len(branches) > 1 else ""))


def _enum_symbols(schema: dict, field_name: str) -> list[str]:
    field = next(f for f in schema["fields"] if f["name"] == field_name)
    t = field["type"]
    return list(t.get("symbols", [])) if isinstance(t, dict) else []


@exercise(
    CHAPTER,
    title="Write version 4 of the payment schema",
    kind="code",
    function=False,
    expects="the schema as a dict",
    hints=[
        "Start from `accepted_v3()` (a dict), add the symbol to the enum inside the `method` field, and append a "
        "field named country to `fields`.",
        "Under BACKWARD a reader on v4 must read every record already written with v1 to v3. Those records have no "
        "country: the field's default is what such a reader puts there.",
        'The field: `{"name": "country", "type": "string", "default": "unknown"}`. Adding a symbol to an enum is '
        "fine for new readers: they know every old symbol.",
    ],
    solution='''
v4_solution = accepted_v3()  # a fresh copy of v3 as the registry accepted it
for field in v4_solution["fields"]:
    if field["name"] == "method":
        field["type"]["symbols"].append("crypto")  # a new reader still knows every old symbol
v4_solution["fields"].append({"name": "country", "type": "string", "default": "unknown"})
''',
    reference=_reference_v4,
    live=True,
    services=("registry",),
    mistakes=[
        Mistake("country has no default", make=lambda ctx: _v4(country={"type": "string"})),
        Mistake("does not match its type", make=lambda ctx: _v4(country={"type": "string", "default": None})),
        Mistake("FIRST branch", make=lambda ctx: _v4(country={"type": ["string", "null"], "default": None})),
        Mistake("gets country = null", make=lambda ctx: _v4(country={"type": ["null", "string"], "default": None})),
        Mistake("should hold a string", make=lambda ctx: _v4(country={"type": "int", "default": 0})),
        Mistake("has no symbol 'crypto'", make=lambda ctx: _v4(method_symbols=("card", "wallet", "transfer"),
                                                                country=_COUNTRY)),
        Mistake("symbol(s) transfer", make=lambda ctx: _v4(method_symbols=("card", "wallet", "crypto"),
                                                           country=_COUNTRY)),
        Mistake("there is no field named country", make=lambda ctx: _v4()),
        Mistake("your schema drops ['channel']", make=lambda ctx: _lab.schemas().without_field(_reference_v4(),
                                                                                                "channel")),
        Mistake("a renamed record is a different type", make=lambda ctx: _v4(country=_COUNTRY, name="PaymentV4")),
        Mistake("risk_score: written as null", make=lambda ctx: _lab.schemas().with_field_type(
            _reference_v4(), "risk_score", "double", default=0.0)),
        Mistake("fastavro cannot parse your schema",
                answer={"type": "record", "name": "Payment", "fields": [{"name": "country", "type": "text"}]}),
        Mistake("answer with the schema as a dict", make=lambda ctx: json.dumps(_reference_v4()), kind="wrong type"),
    ],
)
def v4_schema(answer, *, registry=None) -> str:
    """Exercise 3: version 4 adds the symbol ``crypto`` to ``method`` and a string field ``country`` that older
    records read as ``"unknown"``. Checked live: registered after v1, v2 and the accepted v3 in a scratch subject
    under BACKWARD (deleted afterwards), then an old record is read with it."""
    from ..errors import LabError

    s = _lab.schemas()
    if not isinstance(answer, dict):
        raise WrongType(f"answer with the schema as a dict (start from accepted_v3()), not {type_name(answer)}")
    fields = answer.get("fields") if isinstance(answer.get("fields"), list) else []
    bad_default = next(filter(None, (_default_problem(f) for f in fields if isinstance(f, dict)
                                     and f.get("name") == NEW_FIELD)), None)
    if bad_default:  # before fastavro, whose message for it is less direct
        raise NotYet(bad_default)
    try:
        s.parse(answer)
    except LabError as e:
        raise NotYet(f"fastavro cannot parse your schema: {e}") from None
    v3 = accepted_v3()
    if answer.get("name") != v3["name"]:
        raise NotYet(f"the record is named {answer.get('name')!r}, not {v3['name']!r}: a renamed record is a "
                     f"different type to Avro readers, and the registry refuses it")
    names = s.field_names(answer)
    missing = [n for n in s.field_names(v3) if n not in names]
    if missing:
        raise NotYet(f"your schema drops {missing}: version 4 keeps every field of v3 and adds {NEW_FIELD}")
    country = next((f for f in answer["fields"] if f["name"] == NEW_FIELD), None)
    if country is None:
        raise NotYet(f"there is no field named {NEW_FIELD}: append it to the schema's fields")
    branches = country["type"] if isinstance(country["type"], list) else [country["type"]]
    if "string" not in branches:
        raise NotYet(f"{NEW_FIELD} should hold a string (an ISO country code), not {country['type']!r}")
    if NEW_SYMBOL not in _enum_symbols(answer, "method"):
        raise NotYet(f"method's enum has no symbol {NEW_SYMBOL!r}: add it to the symbols of the enum Method")
    with _history_subject("v4", registry) as (reg, subject):
        accepted, said = s.try_register(reg, subject, answer)
        if not accepted:
            if "default" not in country:
                raise NotYet(f"{NEW_FIELD} has no default: a reader on v4 meets v1 to v3 records that lack it and has "
                             f"nothing to put there, so the registry refuses it under BACKWARD (409)")
            problems = s.compatibility_problems("BACKWARD", answer, v3)
            raise NotYet(f"the registry refuses it under BACKWARD (409): "
                         f"{problems[0] if problems else str(said).rsplit('diff types: ', 1)[-1]}")
        version = s.versions(reg, subject)[-1]
    old_record = {"payment_id": "P00000", "customer_id": "C001", "merchant": "cafe", "method": "transfer",
                  "amount": 4.5, "currency": "EUR", "ts_ms": 0, "channel": "web", "risk_score": None}
    read = s.avro_decode(s.avro_encode(old_record, v3), v3, answer)
    if read.get(NEW_FIELD) != OLD_COUNTRY:
        raise NotYet(f"the registry accepts it, but a v3 record read with your schema gets {NEW_FIELD} = "
                     f"{json.dumps(read.get(NEW_FIELD))}: the default is what old records show, and the task asks "
                     f"for {OLD_COUNTRY!r}")
    return (f"the registry registered it as version {version} under BACKWARD; a v3 record read with it gets "
            f"{NEW_FIELD} = {json.dumps(read[NEW_FIELD])}. New readers know every old symbol; an old reader meeting "
            f"{NEW_SYMBOL!r} would not, which is why FORWARD would refuse the new symbol")


# ----------------------------------------------------------------------------------------------- Exercise 4

#: Exercise 4: the change, and the explanations to choose from.
REFUSED_CHANGE = "remove the symbol 'transfer' from the enum of method"
REASONS = {
    "A": "BACKWARD forbids removing anything from a schema",
    "B": "records already written may hold 'transfer', and a reader on the new schema has no symbol for it",
    "C": "consumers still on the old schema cannot read the records the new schema writes",
    "D": "Avro stores a symbol as its position, and removing one shifts the positions of the symbols after it",
}


def _without_transfer(**enum_extra) -> dict:
    return _lab.schemas().with_field_type(accepted_v3(), "method", {"type": "enum", "name": "Method",
                                                                    "symbols": ["card", "wallet"], **enum_extra})


@exercise(
    CHAPTER,
    title="Why is this change refused?",
    kind="concept",
    expects='one letter of REASONS, e.g. "A"',
    hints=[
        "Under BACKWARD the registry asks one question: can a reader on the NEW schema read data written with the "
        "OLD one?",
        "Old data may hold any of the old symbols. What does a new reader do with a symbol it does not have?",
    ],
    solution='''
refused_because = "B"  # old records may hold 'transfer'; a reader on the new schema has no such symbol
''',
    reference=lambda ctx: "B",
    live=True,
    services=("registry",),
    mistakes=[
        Mistake("removing a field passes BACKWARD", answer="A"),
        Mistake("that is what FORWARD checks", answer="C"),
        Mistake("by name, not by position", answer="D"),
        Mistake("choose one of A, B, C, D", answer="E"),
        Mistake("answer with one letter of REASONS", answer=2, kind="wrong type"),
    ],
)
def refused_reason(answer, *, registry=None) -> str:
    """Exercise 4: why the registry refuses, under BACKWARD, a v4 whose ``method`` lost the symbol ``transfer``.
    Checked live: the change is tried in a scratch subject after v1 to v3 (deleted afterwards)."""
    from ..errors import LabError

    s = _lab.schemas()
    if not isinstance(answer, str):
        raise WrongType(f'answer with one letter of REASONS, e.g. "A", not {type_name(answer)}')
    letter = answer.strip().upper()
    if letter not in REASONS:
        raise NotYet(f"{answer!r} is not a letter of REASONS: choose one of {', '.join(REASONS)}")
    with _history_subject("refused", registry) as (reg, subject):
        if letter == "D":
            reordered = s.with_field_type(accepted_v3(), "method", {"type": "enum", "name": "Method",
                                                                    "symbols": ["transfer", "wallet", "card"]})
            if s.is_compatible(reg, subject, reordered):
                raise NotYet("Avro resolves enum symbols by name, not by position: the registry accepts the same "
                             "symbols in another order (the checker just asked it), so positions are not the problem")
        accepted, said = s.try_register(reg, subject, _without_transfer())
        if accepted:
            raise LabError("this registry accepted the removal of 'transfer' under BACKWARD: its compatibility rules "
                           "seem off. Restart it with `python -m kafkalab down` and `python -m kafkalab up --with "
                           "registry`")
        with_default = s.is_compatible(reg, subject, _without_transfer(default="card"))
    if letter == "A":
        raise NotYet("removing a field passes BACKWARD (section 7's matrix): a new reader just skips what it does not "
                     "know. What fails here is old data holding a value that the new reader cannot represent")
    if letter == "C":
        raise NotYet("that is what FORWARD checks (old readers, new data), and an old reader knows every symbol the new "
                     "schema can write. BACKWARD checks new readers on old data")
    if letter == "D":
        raise LabError("the registry refused reordered symbols too; the explanation B holds nonetheless")
    diff = str(said).rsplit("diff types: ", 1)[-1]
    fix = ("makes the registry accept the removal: old transfers are then read as card" if with_default else
           "is what Avro allows, although this registry still refuses it")
    return (f"old records may hold 'transfer', which a reader on the new schema cannot represent; the registry's 409 "
            f"points at it: {diff}. Giving the enum a default symbol (\"default\": \"card\") {fix}")


# ----------------------------------------------------------------------------------------------- Exercise 5


def raw_value(topic: str, partition: int = 0, offset: int = 0) -> bytes:
    """The raw bytes of one record's value (no deserializer): what Exercise 5 takes apart by hand."""
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
    """Exercise 5: ``{"schema_id": ..., "payment_id": ...}`` of the record at partition 0, offset 0 of ``topic``,
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

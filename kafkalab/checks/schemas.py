"""Checkers for "Managing and evolving data schemas" (notebooks/04_schemas.ipynb).

Each one asks the real schema registry (and, for the wire format, the broker) rather than a stored answer.
"""
from __future__ import annotations

import json

from .. import schemas
from ..errors import LabError
from . import passed

#: Exercise 1's change: the payment's amount narrowed from double to float.
FLOAT_SUBJECT = "schemas-exercise-float"


def float_amount_change() -> tuple[dict, dict]:
    """(payment v2, payment v2 with ``amount`` as a float): the change Exercise 1 asks about."""
    v2 = schemas.load_schema("payment-v2")
    return v2, schemas.with_field_type(v2, "amount", "float")


def _modes(answer) -> set[str]:
    assert isinstance(answer, (set, list, tuple)), 'answer with a set of modes, e.g. {"NONE", "FULL"}'
    given = {str(m).strip().upper() for m in answer}
    unknown = sorted(given - set(schemas.MODES))
    assert not unknown, f"{unknown} are not modes of this exercise; choose among {', '.join(schemas.MODES)}"
    return given


def check_float_amount_modes(answer, registry=None) -> None:
    """Exercise 1: under which of NONE, BACKWARD, FORWARD, FULL does the registry accept ``amount`` as a float
    after payment v2? Checked live: each mode on a fresh subject."""
    given = _modes(answer)
    registry = registry or schemas.registry_client()
    old, new = float_amount_change()
    expected = {m for m in schemas.MODES if schemas.try_change(registry, FLOAT_SUBJECT, m, old, new)[0]}
    if given == expected:
        passed(f"the registry accepts the change under {', '.join(m for m in schemas.MODES if m in expected)} "
               f"only: old readers (double) can read new floats, new readers (float) cannot read old doubles")
        return
    if "BACKWARD" in given and "BACKWARD" not in expected:
        raise AssertionError("BACKWARD refuses it: under BACKWARD, readers on the NEW schema (float) must read data "
                             "written with the OLD one (double), and Avro promotes float -> double, never double -> "
                             "float")
    if "FORWARD" not in given and "FORWARD" in expected:
        raise AssertionError("FORWARD accepts it: under FORWARD, readers on the OLD schema (double) read data "
                             "written with the NEW one (float), and a float widens to a double without loss")
    if "NONE" not in given:
        raise AssertionError("NONE accepts every change: it checks nothing")
    raise AssertionError(f"not quite: the registry accepts it under {sorted(expected)}, you said {sorted(given)}. "
                         f"FULL needs both directions to work")


def check_v3_schema(answer, subject: str, registry=None) -> None:
    """Exercise 2: a payment schema that adds ``risk_score`` (a double) and that the registry accepts after the
    versions already in ``subject`` (asked with the registry's compatibility check: nothing is registered)."""
    assert isinstance(answer, dict), "answer with the schema as a dict (json.loads of the .avsc text, or a literal)"
    try:
        schemas.parse(answer)
    except LabError as e:
        raise AssertionError(f"fastavro cannot parse your schema: {e}") from None
    registry = registry or schemas.registry_client()
    latest = schemas.latest_schema(registry, subject)
    names = schemas.field_names(answer)
    missing = [n for n in schemas.field_names(latest) if n not in names]
    assert not missing, f"your schema drops {missing}: start from payment-v2 and only add risk_score"
    assert answer.get("name") == latest["name"], (
        f"the record is named {answer.get('name')!r}, not {latest['name']!r}: a renamed record is a different type "
        f"to Avro readers")
    field = next((f for f in answer["fields"] if f["name"] == "risk_score"), None)
    assert field is not None, "there is no field named risk_score"
    branches = field["type"] if isinstance(field["type"], list) else [field["type"]]
    assert "double" in branches, f"risk_score should hold a double (alone or in a union with null), not {field['type']!r}"
    assert "default" in field, (
        "risk_score has no default: a reader on your schema meets v1 and v2 records that lack the field and has "
        "nothing to put there, so BACKWARD refuses it (the 409 above). Add a default")
    first = branches[0]
    bad_default = schemas.find_mismatch({"risk_score": field["default"]},
                                        {"type": "record", "name": "D", "fields": [{"name": "risk_score",
                                                                                   "type": first}]})
    assert bad_default is None, (
        f"the default {field['default']!r} does not match the field's first type {first!r}: in a union the default "
        f"must match the FIRST branch (put 'null' first for a null default)")
    problems = schemas.compatibility_problems("BACKWARD", answer, latest)
    accepted = schemas.is_compatible(registry, subject, answer)
    assert accepted, f"the registry refuses it: {problems[0] if problems else 'see its message when registering'}"
    v1_record = {"payment_id": "P00000", "customer_id": "C001", "merchant": "cafe", "method": "card",
                 "amount": 4.5, "currency": "EUR", "ts_ms": 0}
    old = schemas.load_schema("payment-v1")
    read = schemas.avro_decode(schemas.avro_encode(v1_record, old), old, answer)
    passed(f"the registry would accept it under {schemas.compatibility(registry, subject)}; a v1 record read with it gets "
           f"risk_score = {json.dumps(read['risk_score'])}")


def raw_value(topic: str, partition: int = 0, offset: int = 0) -> bytes:
    """The raw bytes of one record's value (no deserializer)."""
    from ..io.read import read_to_end
    from ..io.topics import end_offsets

    if offset >= end_offsets(topic).get(partition, 0):
        raise LabError(f"no record at {topic} partition {partition} offset {offset}: run the chapter's sections first")
    (record,) = read_to_end(topic, partitions=[partition], start={partition: offset}, until={partition: offset + 1})
    return record.value


def check_header_by_hand(topic: str, answer, registry=None) -> None:
    """Exercise 3: ``{"schema_id": ..., "payment_id": ...}`` of the record at partition 0, offset 0 of ``topic``,
    found from its raw bytes."""
    assert isinstance(answer, dict) and {"schema_id", "payment_id"} <= set(answer), \
        'answer with a dict {"schema_id": <int>, "payment_id": <str>}'
    data = raw_value(topic)
    schema_id, body = schemas.unframe(data)
    given = answer["schema_id"]
    assert isinstance(given, int), f"the schema id is an int, not {type(given).__name__}"
    if given != schema_id:
        if given == int.from_bytes(data[1:5], "little"):
            raise AssertionError("you read the id little-endian: the wire format stores it big-endian "
                                 "(int.from_bytes(data[1:5], 'big'))")
        if given == int.from_bytes(data[0:4], "big"):
            raise AssertionError("you included the magic byte: the id is bytes 1 to 4 (data[1:5]), after byte 0")
        raise AssertionError(f"the schema id is not {given}: it is the 4 bytes after the magic byte, big-endian")
    writer = schemas.writer_schema(registry or schemas.registry_client(), schema_id)
    payment_id = schemas.avro_decode(body, writer)["payment_id"]
    assert answer["payment_id"] == payment_id, (
        f"the payment id is not {answer['payment_id']!r}. The body's first field is a string: a zigzag varint "
        f"length (byte 0x{body[0]:02x} = {body[0] // 2} characters), then the UTF-8 bytes")
    passed(f"bytes 1-4 hold the id the registry gave the writer's schema, and the record is payment {payment_id} "
           f"({len(body)}-byte Avro body after the 5-byte header)")

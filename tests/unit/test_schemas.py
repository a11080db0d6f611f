"""kafkalab.schemas, pure parts: Avro bodies, the wire format, validation, compatibility reasoning.

The live registry and broker are in tests/integration/test_schemas_registry.py, which also checks that the offline
compatibility reasoning agrees with the registry on every cell of the chapter's matrix.
"""
from __future__ import annotations

import json
import struct

import pytest

from kafkalab import datagen, schemas
from kafkalab.errors import LabError

V1, V2, V3 = (schemas.load_schema(f"payment-v{n}") for n in (1, 2, 3))


# --------------------------------------------------------------------------------------------- schema files
def test_course_schema_files_parse_and_describe_the_generated_payments():
    for schema in (V1, V2, V3):
        schemas.parse(schema)
        assert schema["name"] == "Payment" and schema["namespace"] == "course.payments"
    assert schemas.field_names(V1) == list(datagen.payments(1)[0])
    assert schemas.field_names(V2) == schemas.field_names(V1) + ["channel"]
    assert schemas.field_names(V3) == schemas.field_names(V2) + ["risk_score"]
    assert all(schemas.find_mismatch(p, V1) is None for p in datagen.payments(200))


def test_unknown_schema_file_is_one_line_naming_the_ones_that_exist():
    with pytest.raises(LabError, match="payment-v1"):
        schemas.load_schema("payment-v9")


def test_bad_schema_is_one_line():
    with pytest.raises(LabError, match="not a valid Avro schema"):
        schemas.parse({"type": "record", "name": "X", "fields": [{"name": "a", "type": "strnig"}]})


# ------------------------------------------------------------------------------------------- avro and json
def test_avro_round_trip_is_exact_and_smaller_than_json():
    events = datagen.payments(100, seed=3)
    for e in events:
        body = schemas.avro_encode(e, V1)
        assert schemas.avro_decode(body, V1) == e
        assert json.loads(schemas.json_encode(e)) == e
        assert len(body) < len(schemas.json_encode(e)) / 2


def test_avro_body_layout_strings_are_zigzag_length_prefixed():
    body = schemas.avro_encode(datagen.payments(1)[0], V1)
    assert body[0] == 2 * len("P00000")  # zigzag varint of 6
    assert body[1:7] == b"P00000"


def test_avro_layout_splits_the_body_by_field():
    event = datagen.payments(1)[0]
    rows = schemas.avro_layout(event, V1)
    assert [r["field"] for r in rows] == schemas.field_names(V1)
    assert b"".join(bytes.fromhex(r["hex"]) for r in rows) == schemas.avro_encode(event, V1)
    by = {r["field"]: r for r in rows}
    assert by["amount"]["bytes"] == 8 and by["method"]["bytes"] == 1  # a double; an enum index
    assert by["payment_id"]["hex"].startswith("0c ")  # zigzag length 6
    assert by["method"]["Avro type"] == "enum Method (card, wallet, transfer)"


def test_size_comparison_is_deterministic_and_consistent():
    events = datagen.payments(50)
    rows = schemas.size_comparison(events, V1)
    assert rows == schemas.size_comparison(events, V1)
    by = {r["format"]: r for r in rows}
    js, body, wire = by["JSON (compact)"], by["Avro body"], by["Avro, wire format (+5-byte header)"]
    assert js["total bytes"] == sum(len(json.dumps(e, separators=(",", ":"))) for e in events)
    assert wire["total bytes"] == body["total bytes"] + 5 * 50
    assert js["% of JSON"] == 100.0 and body["% of JSON"] < 40
    with pytest.raises(LabError):
        schemas.size_comparison([], V1)


def test_time_codecs_reports_positive_microseconds():
    rows = schemas.time_codecs(datagen.payments(20), V1, rounds=2)
    assert [r["format"] for r in rows] == ["JSON (compact)", "Avro body (fastavro)"]
    assert all(r["encode µs/record"] > 0 and r["decode µs/record"] > 0 for r in rows)


# --------------------------------------------------------------------------------------------- wire format
def test_frame_writes_magic_byte_and_big_endian_id():
    data = schemas.frame(0x01020304, b"body")
    assert data == b"\x00\x01\x02\x03\x04body"
    assert schemas.unframe(data) == (0x01020304, b"body")
    assert schemas.header_hex(data) == "00 | 01 02 03 04"
    assert struct.unpack(">bI", data[:5]) == (0, 0x01020304)


@pytest.mark.parametrize("bad", [-1, 2**32, "7"])
def test_frame_refuses_ids_that_do_not_fit(bad):
    with pytest.raises(LabError, match="4 unsigned bytes"):
        schemas.frame(bad, b"")


def test_unframe_explains_json_text_short_and_empty_values_in_one_line():
    with pytest.raises(schemas.WireFormatError, match=r"0x7b \('\{', it looks like JSON\), not the magic byte") as e:
        schemas.unframe(b'{"payment_id": "P1"}', "a value in t")
    assert "\n" not in str(e.value) and str(e.value).startswith("a value in t starts with byte 0x7b")
    with pytest.raises(schemas.WireFormatError, match="it looks like text"):
        schemas.unframe(b"hello world")
    with pytest.raises(schemas.WireFormatError, match="only 3 byte"):
        schemas.unframe(b"\x00\x00\x01")
    with pytest.raises(schemas.WireFormatError, match="empty"):
        schemas.unframe(None)
    with pytest.raises(schemas.WireFormatError, match="0x05"):
        schemas.unframe(b"\x05\x00\x00\x00\x01xx")


def test_wire_serializer_validates_before_it_asks_the_registry():
    class NoRegistry:
        def register_schema(self, subject, schema):
            raise AssertionError("a bad record must be refused before any registry call")

    ser = schemas.WireSerializer(V1, registry=NoRegistry())
    bad = {**datagen.payments(1)[0], "amount": "12.50"}
    with pytest.raises(schemas.SchemaMismatch, match="field 'amount' expected double"):
        ser.serialize("t", [], bad)
    assert ser.serialize("t", [], None) is None


# ---------------------------------------------------------------------------------------------- validation
GOOD = datagen.payments(1)[0]


@pytest.mark.parametrize("change, field, expected, got", [
    ({"amount": "12.50"}, "amount", "double", "str '12.50'"),
    ({"ts_ms": 1.5e12}, "ts_ms", "long (64-bit int)", "float 1500000000000.0"),
    ({"ts_ms": 2**70}, "ts_ms", "long (64-bit int)", "int"),
    ({"method": "cash"}, "method", "enum Method (card, wallet, transfer)", "str 'cash'"),
    ({"customer_id": None}, "customer_id", "string", "NoneType None"),
    ({"amount": True}, "amount", "double", "bool True"),
])
def test_find_mismatch_names_field_expected_and_got(change, field, expected, got):
    found = schemas.find_mismatch({**GOOD, **change}, V1)
    assert found is not None and found.field == field and found.expected == expected
    assert found.got.startswith(got)


def test_missing_field_without_default_is_a_mismatch_with_default_is_fine():
    record = {k: v for k, v in GOOD.items() if k != "merchant"}
    assert schemas.find_mismatch(record, V1) == schemas.Mismatch("merchant", "string", "nothing (the field is missing)")
    assert schemas.find_mismatch(GOOD, V2) is None  # channel has a default: fastavro writes "unknown"
    assert schemas.avro_decode(schemas.avro_encode(GOOD, V2), V2)["channel"] == "unknown"


def test_unknown_field_suggests_the_close_name():
    record = {**{k: v for k, v in GOOD.items() if k != "amount"}, "ammount": 3.0}
    found = schemas.find_mismatch(record, V1)
    assert found.field == "amount"  # the missing field is reported first, with the likely typo
    assert found.got == "nothing (the record has 'ammount': a typo?)"
    found = schemas.find_mismatch({**GOOD, "ammount": 3.0}, V1)
    assert found.field == "ammount" and "did you mean 'amount'?" in found.expected


def test_validate_raises_one_line():
    with pytest.raises(schemas.SchemaMismatch) as e:
        schemas.validate({**GOOD, "amount": "12.50"}, V1)
    assert str(e.value) == ("record does not match schema course.payments.Payment: field 'amount' expected double, "
                            "got str '12.50'")
    assert isinstance(e.value, LabError)


def test_nested_types_unions_arrays_maps_and_references():
    schema = {"type": "record", "name": "Order", "fields": [
        {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line", "fields": [
            {"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
        {"name": "first", "type": ["null", "Line"], "default": None},
        {"name": "tags", "type": {"type": "map", "values": "string"}},
        {"name": "when", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ]}
    ok = {"lines": [{"sku": "a", "qty": 1}], "first": {"sku": "b", "qty": 2}, "tags": {"k": "v"}, "when": 5}
    assert schemas.find_mismatch(ok, schema) is None
    assert schemas.find_mismatch({**ok, "lines": [{"sku": "a", "qty": "1"}]}, schema).field == "lines[0].qty"
    assert schemas.find_mismatch({**ok, "first": {"sku": "b", "qty": 2.5}}, schema).field == "first.qty"
    assert schemas.find_mismatch({**ok, "first": 3}, schema).expected == "null or record Line"
    assert schemas.find_mismatch({**ok, "tags": {"k": 1}}, schema).field == "tags['k']"
    assert schemas.find_mismatch({**ok, "qty": 1}, schema).field == "qty"


# --------------------------------------------------------------------------------- compatibility reasoning
def rec(*fields):
    return {"type": "record", "name": "R", "fields": list(fields)}


def f(name, type_, **kw):
    return {"name": name, "type": type_, **kw}


@pytest.mark.parametrize("reader, writer, ok", [
    (rec(f("a", "string")), rec(f("a", "string"), f("b", "int")), True),  # extra writer field: skipped
    (rec(f("a", "string"), f("b", "int")), rec(f("a", "string")), False),  # reader needs b, no default
    (rec(f("a", "string"), f("b", "int", default=0)), rec(f("a", "string")), True),
    (rec(f("n", "long")), rec(f("n", "int")), True),  # promotion
    (rec(f("n", "int")), rec(f("n", "long")), False),
    (rec(f("x", "double")), rec(f("x", "float")), True),
    (rec(f("x", "float")), rec(f("x", "double")), False),
    (rec(f("s", "bytes")), rec(f("s", "string")), True),
    (rec(f("x", ["null", "int"], default=None)), rec(f("x", "int")), True),  # reader union has the branch
    (rec(f("x", "int")), rec(f("x", ["null", "int"])), False),  # writer may send null
    (rec(f("new", "int", aliases=["old"])), rec(f("old", "int")), True),  # reader alias
    (rec(f("old", "int")), rec(f("new", "int", aliases=["old"])), False),  # writer aliases do not count
    (rec(f("e", {"type": "enum", "name": "E", "symbols": ["a", "b"]})),
     rec(f("e", {"type": "enum", "name": "E", "symbols": ["a"]})), True),
    (rec(f("e", {"type": "enum", "name": "E", "symbols": ["a"]})),
     rec(f("e", {"type": "enum", "name": "E", "symbols": ["a", "b"]})), False),
    (rec(f("e", {"type": "enum", "name": "E", "symbols": ["a", "z"], "default": "z"})),
     rec(f("e", {"type": "enum", "name": "E", "symbols": ["a", "b"]})), True),
    (rec(f("l", {"type": "array", "items": "long"})), rec(f("l", {"type": "array", "items": "int"})), True),
    (rec(f("m", {"type": "map", "values": "int"})), rec(f("m", {"type": "map", "values": "string"})), False),
    ({"type": "record", "name": "Other", "fields": []}, rec(), False),
    ({"type": "record", "name": "Other", "aliases": ["R"], "fields": []}, rec(), True),
])
def test_reader_problems_follow_avro_resolution_and_agree_with_fastavro(reader, writer, ok):
    assert (not schemas.reader_problems(reader, writer)) is ok, schemas.reader_problems(reader, writer)
    # cross-check with fastavro on a sample record the writer can produce
    sample = {"a": "x", "b": 1, "n": 5, "x": 1, "s": "t", "old": 3, "new": 3, "l": [1, 2], "m": {"k": "v"}}
    for fld in writer["fields"]:
        if isinstance(fld["type"], dict) and fld["type"]["type"] == "enum":
            sample[fld["name"]] = fld["type"]["symbols"][-1]  # the symbol a narrower reader may lack
    record = {fld["name"]: sample[fld["name"]] for fld in writer["fields"]}
    body = schemas.avro_encode(record, writer)
    if ok:
        schemas.avro_decode(body, writer, reader)
    elif writer["fields"] and not any(isinstance(fl["type"], list) for fl in writer["fields"]):
        with pytest.raises(LabError, match="cannot read"):
            schemas.avro_decode(body, writer, reader)


def test_problem_lines_name_the_field():
    (line,) = schemas.reader_problems(V3, V1)
    assert line.startswith("field 'risk_score': the reader needs it")
    assert schemas.reader_problems(V2, V1) == [] and schemas.reader_problems(V1, V2) == []


def test_modes_on_the_course_schemas():
    assert schemas.compatible("BACKWARD", V2, V1) and schemas.compatible("FORWARD", V2, V1)
    assert schemas.compatible("FULL", V2, V1)
    assert not schemas.compatible("BACKWARD", V3, V2)
    assert schemas.compatible("FORWARD", V3, V2) and not schemas.compatible("FULL", V3, V2)
    assert schemas.compatible("NONE", {"type": "string"}, V1)
    (why,) = schemas.compatibility_problems("BACKWARD", V3, V2)
    assert why.startswith("new readers, old data: field 'risk_score'")
    with pytest.raises(LabError, match="unknown compatibility mode"):
        schemas.compatible("SIDEWAYS", V2, V1)


def test_transitive_modes_check_every_earlier_version():
    a = rec(f("x", "string"))
    b = rec(f("x", "string"), f("y", "int", default=0))
    c = rec(f("x", "string"), f("y", "int"))  # drops y's default: fine against b, not against a
    assert schemas.compatible("BACKWARD", c, [a, b])
    assert not schemas.compatible("BACKWARD_TRANSITIVE", c, [a, b])


def test_payment_changes_predictions():
    changes = schemas.payment_changes(V2)
    table = {label: tuple(schemas.compatible(m, new, V2) for m in schemas.MODES) for label, new in changes.items()}
    assert table == {  # NONE, BACKWARD, FORWARD, FULL
        "add a field with a default": (True, True, True, True),
        "add a field without a default": (True, False, True, False),
        "remove a field that has a default": (True, True, True, True),
        "remove a field without a default": (True, True, False, False),
        "add an enum symbol": (True, True, False, False),
        "rename a field, old name as alias": (True, True, False, False),
        "change a field's type (double to string)": (True, False, False, False),
    }


def test_schema_edit_helpers_copy_and_check_names():
    v = schemas.with_field(V1, {"name": "x", "type": "int", "default": 0}, after="payment_id")
    assert schemas.field_names(v)[:2] == ["payment_id", "x"] and "x" not in schemas.field_names(V1)
    with pytest.raises(LabError, match="already has"):
        schemas.with_field(V1, {"name": "amount", "type": "int"})
    with pytest.raises(LabError, match="has no field 'nope'"):
        schemas.without_field(V1, "nope")
    renamed = schemas.with_field_type(V1, "merchant", "string", rename="shop", aliases=["merchant"])
    assert "shop" in schemas.field_names(renamed) and "merchant" in schemas.field_names(V1)

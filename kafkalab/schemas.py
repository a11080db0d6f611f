"""Avro schemas, the Confluent wire format and a small schema-registry client.

Taught in "Managing and evolving data schemas" (notebooks/03_schemas.ipynb). Four ideas, one section each:

- **Avro bodies** with fastavro: :func:`avro_encode` / :func:`avro_decode` (with reader-schema resolution), and the
  size and speed comparison with JSON (:func:`size_comparison`, :func:`time_codecs`).
- **The wire format** every schema-registry serializer writes: magic byte ``0``, a 4-byte big-endian schema id,
  then the Avro body (:func:`frame`, :func:`unframe`). :class:`WireSerializer` / :class:`WireDeserializer` plug it
  into kafka-python, so its records are readable by confluent-kafka's ``AvroDeserializer`` and the reverse.
- **Validation before sending**: :func:`find_mismatch` names the first field that breaks the schema (field,
  expected type, what it got), so a bad record is one clear line, not a traceback from deep inside fastavro.
- **Compatibility**: :class:`Registry` speaks the Confluent REST API (Apicurio serves it under
  ``/apis/ccompat/v7``), and :func:`compatibility_problems` reasons about the same rules offline, from Avro's
  schema-resolution rules.
"""
from __future__ import annotations

import contextlib
import difflib
import io
import json
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from kafka.serializer import DefaultSerializer, Deserializer, Serializer

from .clients import quiet_imports
from .config import REPO
from .errors import LabError

SCHEMA_DIR = REPO / "data" / "schemas"
#: First byte of every value a schema-registry serializer writes (Confluent's wire format, also Apicurio's ccompat).
MAGIC = 0
#: Magic byte + 4-byte schema id.
HEADER_BYTES = 5
#: The content type the Confluent REST API expects (Apicurio accepts it too).
REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
#: Compatibility modes the course uses (each also exists as ``<MODE>_TRANSITIVE``: check every earlier version).
MODES = ("NONE", "BACKWARD", "FORWARD", "FULL")

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")
#: Avro's promotions: a writer's type (key) that a reader of each listed type may read.
PROMOTIONS = {"int": ("long", "float", "double"), "long": ("float", "double"), "float": ("double",),
              "string": ("bytes",), "bytes": ("string",)}
_INT_RANGE = {"int": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1)}


class SchemaMismatch(LabError):
    """A record does not fit its schema; ``field``, ``expected`` and ``got`` say where and how."""

    def __init__(self, mismatch: "Mismatch", schema_name: str):
        self.mismatch = mismatch
        super().__init__(f"record does not match schema {schema_name}: {mismatch}")


class WireFormatError(LabError):
    """Bytes that are not in the schema-registry wire format (no magic byte, too short)."""


class IncompatibleSchema(LabError):
    """The registry refused a schema (HTTP 409): it breaks the subject's compatibility mode."""


class RegistryError(LabError):
    """Any other answer from the registry that is not what we asked for."""


# ------------------------------------------------------------------------------------------------ schemas
def load_schema(name: str | Path) -> dict:
    """A schema from ``data/schemas`` by name (``"payment-v1"``) or any ``.avsc`` path, as a dict."""
    path = Path(name)
    if path.suffix != ".avsc":
        path = SCHEMA_DIR / f"{name}.avsc"
    if not path.exists():
        have = ", ".join(sorted(p.stem for p in SCHEMA_DIR.glob("*.avsc")))
        raise LabError(f"no schema file {path}; the course has: {have}")
    try:
        return json.loads(path.read_text())
    except ValueError as e:
        raise LabError(f"{path.name} is not valid JSON: {e}") from None


def parse(schema: dict | str) -> dict:
    """fastavro's parsed form of ``schema`` (a dict or its JSON text); a bad schema is one clear line."""
    import fastavro

    if isinstance(schema, str):
        schema = json.loads(schema)
    try:
        return fastavro.parse_schema(schema)
    except Exception as e:  # fastavro raises SchemaParseException, ValueError, KeyError ... for bad schemas
        raise LabError(f"not a valid Avro schema: {type(e).__name__}: {e}") from None


def schema_name(schema: dict) -> str:
    """The schema's full name (``course.payments.Payment``) or its type for unnamed schemas."""
    if isinstance(schema, dict) and "name" in schema:
        ns = schema.get("namespace")
        return f"{ns}.{schema['name']}" if ns and "." not in schema["name"] else schema["name"]
    return json.dumps(schema) if not isinstance(schema, str) else schema


def field_names(schema: dict) -> list[str]:
    """The top-level field names of a record schema."""
    return [f["name"] for f in schema.get("fields", [])]


# --------------------------------------------------------------------------------------------- avro / json
def avro_encode(record: dict, schema: dict) -> bytes:
    """The Avro binary body of ``record`` (no header, no schema inside: the reader must know the schema)."""
    import fastavro

    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, _parsed(schema), record)
    return buf.getvalue()


def avro_decode(body: bytes, writer: dict, reader: dict | None = None) -> dict:
    """Decode an Avro body written with ``writer``; with ``reader``, resolve it into the reader's shape
    (fields the reader lacks are skipped, fields only the reader has take their default)."""
    import fastavro
    from fastavro.read import SchemaResolutionError

    w = _parsed(writer)
    r = None if reader is None or reader is writer else _parsed(reader)
    try:
        return fastavro.schemaless_reader(io.BytesIO(body), w, r)
    except SchemaResolutionError as e:
        problems = reader_problems(reader, writer) if reader is not None else []
        why = problems[0] if problems else str(e)
        raise LabError(f"the reader schema cannot read data written with the writer's schema: {why}") from None


def avro_layout(record: dict, schema: dict) -> list[dict]:
    """Which bytes of the Avro body belong to which field of a record schema: one row per field with its value,
    its bytes in hex and their count. Avro writes the fields in schema order with no names and no separators."""
    rows, done = [], b""
    for i, field in enumerate(schema["fields"]):
        partial = {**schema, "fields": schema["fields"][: i + 1]}
        body = avro_encode({f["name"]: record[f["name"]] for f in partial["fields"] if f["name"] in record}, partial)
        part = body[len(done):]
        rows.append({"field": field["name"], "Avro type": type_label(field["type"], _names(schema)),
                     "value": record.get(field["name"], field.get("default")), "bytes": len(part), "hex": part.hex(" ")})
        done = body
    return rows


_PARSED: dict[str, dict] = {}


def _parsed(schema: dict) -> dict:
    """Parsed schemas, cached by their JSON text (parsing costs more than encoding one record)."""
    if isinstance(schema, dict) and schema.get("__fastavro_parsed"):
        return schema
    key = json.dumps(schema, sort_keys=True)
    if key not in _PARSED:
        _PARSED[key] = parse(schema)
    return _PARSED[key]


def json_encode(record: dict) -> bytes:
    """Compact JSON (no spaces), UTF-8: what the earlier chapters send."""
    return json.dumps(record, separators=(",", ":")).encode()


def json_decode(data: bytes) -> dict:
    return json.loads(data)


def size_comparison(records: Sequence[dict], schema: dict) -> list[dict]:
    """Bytes per record as compact JSON, as an Avro body, and as Avro in the wire format (body + 5-byte header).

    Deterministic for given records: the same seed always gives the same table.
    """
    n = len(records)
    if not n:
        raise LabError("size_comparison needs at least one record")
    json_total = sum(len(json_encode(r)) for r in records)
    avro_total = sum(len(avro_encode(r, schema)) for r in records)
    rows = [("JSON (compact)", json_total), ("Avro body", avro_total),
            ("Avro, wire format (+5-byte header)", avro_total + HEADER_BYTES * n)]
    return [{"format": name, "records": n, "total bytes": total, "bytes per record": round(total / n, 1),
             "% of JSON": round(100 * total / json_total, 1)} for name, total in rows]


def time_codecs(records: Sequence[dict], schema: dict, rounds: int = 5) -> list[dict]:
    """Microseconds per record to encode and decode ``records`` with json and fastavro (best of ``rounds``).

    Volatile by nature (machine, load): notebooks show it without comparing it under nbval.
    """
    import fastavro

    parsed = _parsed(schema)
    n = len(records)
    if not n:
        raise LabError("time_codecs needs at least one record")

    def avro_enc():
        out = []
        for r in records:
            buf = io.BytesIO()
            fastavro.schemaless_writer(buf, parsed, r)
            out.append(buf.getvalue())
        return out

    def best(fn):
        times = []
        for _ in range(rounds):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return round(min(times) / n * 1e6, 2)

    json_bodies = [json_encode(r) for r in records]
    avro_bodies = avro_enc()
    return [
        {"format": "JSON (compact)", "encode µs/record": best(lambda: [json_encode(r) for r in records]),
         "decode µs/record": best(lambda: [json.loads(b) for b in json_bodies])},
        {"format": "Avro body (fastavro)", "encode µs/record": best(avro_enc),
         "decode µs/record": best(lambda: [fastavro.schemaless_reader(io.BytesIO(b), parsed, None)
                                           for b in avro_bodies])},
    ]


# ---------------------------------------------------------------------------------------------- wire format
def frame(schema_id: int, body: bytes) -> bytes:
    """Magic byte 0, the schema id as 4 bytes big-endian, then the body: the Confluent wire format."""
    if not isinstance(schema_id, int) or not 0 <= schema_id < 2**32:
        raise LabError(f"schema id {schema_id!r} does not fit the wire format's 4 unsigned bytes")
    return struct.pack(">bI", MAGIC, schema_id) + bytes(body)


def unframe(data: bytes | None, where: str = "value") -> tuple[int, bytes]:
    """(schema id, Avro body) of a wire-format value; anything else is a :class:`WireFormatError` in one line."""
    if data is None:
        raise WireFormatError(f"{where} is empty (a tombstone or a record without a value), not an Avro record")
    data = bytes(data)
    if len(data) < HEADER_BYTES:
        raise WireFormatError(f"{where} has only {len(data)} byte(s): a schema-registry value starts with a "
                              f"{HEADER_BYTES}-byte header (magic byte 0 + 4-byte schema id)")
    if data[0] != MAGIC:
        hint = _guess_format(data)
        raise WireFormatError(f"{where} starts with byte 0x{data[0]:02x}{hint}, not the magic byte 0x00: it was not "
                              f"written by a schema-registry serializer")
    return struct.unpack(">I", data[1:HEADER_BYTES])[0], data[HEADER_BYTES:]


def _guess_format(data: bytes) -> str:
    first = chr(data[0])
    if first in "{[":
        return f" ({first!r}, it looks like JSON)"
    if 32 <= data[0] < 127:
        return f" ({first!r}, it looks like text)"
    return ""


def header_hex(data: bytes) -> str:
    """The first five bytes as hex, split into magic byte | schema id, e.g. ``00 | 00 00 00 07``."""
    data = bytes(data)
    return f"{data[:1].hex(' ')} | {data[1:HEADER_BYTES].hex(' ')}"


# ---------------------------------------------------------------------------------------------- validation
@dataclass(frozen=True)
class Mismatch:
    """Where a record breaks its schema: the field's path, the type the schema expects, what the record holds."""

    field: str
    expected: str
    got: str

    def __str__(self) -> str:
        return f"field {self.field!r} expected {self.expected}, got {self.got}"


def describe_value(value: Any) -> str:
    """``str '12.50'``, ``int 3``, ``nothing (the field is missing)``: what a record holds, for error lines."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def type_label(t: Any, names: dict | None = None) -> str:
    """A short readable name for an Avro type: ``double``, ``enum Method (card, wallet, transfer)``,
    ``null or string``, ``array of string``."""
    names = names or {}
    if isinstance(t, str):
        if t in PRIMITIVES:
            return t
        t = names.get(t, t)
        if isinstance(t, str):
            return t
    if isinstance(t, list):
        return " or ".join(type_label(b, names) for b in t)
    kind = t.get("type")
    if isinstance(kind, (list, dict)):
        return type_label(kind, names)
    if kind == "enum":
        return f"enum {t['name']} ({', '.join(t['symbols'])})"
    if kind == "record":
        return f"record {t['name']}"
    if kind == "array":
        return f"array of {type_label(t['items'], names)}"
    if kind == "map":
        return f"map of {type_label(t['values'], names)}"
    if kind == "fixed":
        return f"fixed {t['name']} ({t['size']} bytes)"
    if t.get("logicalType"):
        return f"{kind} ({t['logicalType']})"
    return str(kind)


def _collect_names(t: Any, names: dict, namespace: str | None = None) -> None:
    """Named types (records, enums, fixed) by full and short name, so references by name can be followed."""
    if isinstance(t, list):
        for b in t:
            _collect_names(b, names, namespace)
    elif isinstance(t, dict):
        kind = t.get("type")
        if kind in ("record", "error", "enum", "fixed") and "name" in t:
            ns = t.get("namespace", namespace)
            full = t["name"] if "." in t["name"] or not ns else f"{ns}.{t['name']}"
            names[full] = t
            names.setdefault(full.rsplit(".", 1)[-1], t)
            namespace = ns
        if kind in ("record", "error"):
            for f in t.get("fields", []):
                _collect_names(f["type"], names, namespace)
        elif kind == "array":
            _collect_names(t["items"], names, namespace)
        elif kind == "map":
            _collect_names(t["values"], names, namespace)
        elif isinstance(kind, (dict, list)):
            _collect_names(kind, names, namespace)


def _names(schema: Any) -> dict:
    names: dict = {}
    _collect_names(schema, names)
    return names


def _deref(t: Any, names: dict) -> Any:
    """Follow a reference by name, and unwrap ``{"type": "string"}`` / logical types to their base type."""
    if isinstance(t, str) and t not in PRIMITIVES:
        if t not in names:
            raise LabError(f"the schema refers to a type {t!r} that it does not define")
        return names[t]
    if isinstance(t, dict) and isinstance(t.get("type"), (str, list)) and t["type"] not in (
            "record", "error", "enum", "fixed", "array", "map"):
        return _deref(t["type"], names)  # {"type": "long", "logicalType": ...} is a long on the wire
    return t


def _kind(t: Any) -> str:
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return "union"
    return "record" if t.get("type") == "error" else t.get("type")


def find_mismatch(record: Any, schema: dict) -> Mismatch | None:
    """The first place where ``record`` does not fit ``schema`` (``None`` if it fits).

    Checks what fastavro would write: missing fields without a default, wrong Python types, ints out of range,
    unknown enum symbols, and fields the schema does not have (usually a typo: fastavro drops them silently).
    """
    return _mismatch(record, schema, "", _names(schema))


def _mismatch(value: Any, t: Any, path: str, names: dict) -> Mismatch | None:
    label = path or "(record)"
    t = _deref(t, names)
    kind = _kind(t)
    if kind == "union":
        if any(_mismatch(value, b, path, names) is None for b in t):
            return None
        if isinstance(value, dict):  # one record branch: say which of its fields is wrong
            records = [b for b in t if _kind(_deref(b, names)) == "record"]
            if len(records) == 1:
                return _mismatch(value, records[0], path, names)
        return Mismatch(label, type_label(t, names), describe_value(value))
    if kind in PRIMITIVES:
        return None if _fits_primitive(value, kind) else Mismatch(label, _expected_primitive(kind), describe_value(value))
    if kind == "enum":
        if isinstance(value, str) and value in t["symbols"]:
            return None
        return Mismatch(label, type_label(t, names), describe_value(value))
    if kind == "fixed":
        if isinstance(value, (bytes, bytearray)) and len(value) == t["size"]:
            return None
        return Mismatch(label, type_label(t, names), describe_value(value))
    if kind == "array":
        if not isinstance(value, (list, tuple)):
            return Mismatch(label, type_label(t, names), describe_value(value))
        for i, item in enumerate(value):
            found = _mismatch(item, t["items"], f"{path}[{i}]", names)
            if found:
                return found
        return None
    if kind == "map":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return Mismatch(label, type_label(t, names), describe_value(value))
        for k, v in value.items():
            found = _mismatch(v, t["values"], f"{path}[{k!r}]", names)
            if found:
                return found
        return None
    if kind == "record":
        if not isinstance(value, dict):
            return Mismatch(label, type_label(t, names), describe_value(value))
        fields = {f["name"]: f for f in t["fields"]}
        prefix = f"{path}." if path else ""
        unknown = [k for k in value if k not in fields]
        for name, f in fields.items():
            if name not in value:
                if "default" in f:
                    continue  # fastavro writes the default
                typo = difflib.get_close_matches(name, unknown, n=1)
                got = f"nothing (the record has {typo[0]!r}: a typo?)" if typo else "nothing (the field is missing)"
                kind = _kind(_deref(f["type"], names))
                expected = _expected_primitive(kind) if kind in PRIMITIVES else type_label(f["type"], names)
                return Mismatch(prefix + name, expected, got)
            found = _mismatch(value[name], f["type"], prefix + name, names)
            if found:
                return found
        for name in unknown[:1]:
            close = difflib.get_close_matches(name, list(fields), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the schema has {', '.join(fields)}"
            return Mismatch(prefix + name, f"no such field in record {t['name']} ({hint})", describe_value(value[name]))
        return None
    raise LabError(f"unsupported Avro type {kind!r} at {label}")


def _fits_primitive(value: Any, kind: str) -> bool:
    if kind == "null":
        return value is None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("int", "long"):
        lo, hi = _INT_RANGE[kind]
        return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str)
    if kind == "bytes":
        return isinstance(value, (bytes, bytearray))
    return False


def _expected_primitive(kind: str) -> str:
    return {"int": "int (32-bit)", "long": "long (64-bit int)"}.get(kind, kind)


def validate(record: Any, schema: dict) -> None:
    """Raise :class:`SchemaMismatch` (one line: field, expected, got) if ``record`` does not fit ``schema``."""
    found = find_mismatch(record, schema)
    if found:
        raise SchemaMismatch(found, schema_name(schema))


# ----------------------------------------------------------------------------------- compatibility reasoning
def reader_problems(reader: dict, writer: dict) -> list[str]:
    """Why a reader on ``reader`` cannot read data written with ``writer`` (empty: it can), after Avro's
    schema-resolution rules: fields matched by name or reader alias, extra writer fields skipped, missing ones
    need a default in the reader, numeric promotions int -> long -> float -> double, string <-> bytes."""
    return _resolve(reader, writer, _names(reader), _names(writer), "", set())


def can_read(reader: dict, writer: dict) -> bool:
    """True if a reader on ``reader`` can read every record written with ``writer``."""
    return not reader_problems(reader, writer)


def _resolve(r: Any, w: Any, rn: dict, wn: dict, path: str, seen: set) -> list[str]:
    r, w = _deref(r, rn), _deref(w, wn)
    rk, wk = _kind(r), _kind(w)
    where = path or "the record"
    if wk == "union":  # every branch the writer may have used must be readable
        out = []
        for b in w:
            out += _resolve(r, b, rn, wn, path, seen)
        return out
    if rk == "union":
        if any(not _resolve(b, w, rn, wn, path, seen) for b in r):
            return []
        return [f"{where}: the writer's {type_label(w, wn)} matches no branch of the reader's {type_label(r, rn)}"]
    if wk in PRIMITIVES and rk in PRIMITIVES:
        if rk == wk or rk in PROMOTIONS.get(wk, ()):
            return []
        return [f"{where}: written as {wk}, the reader expects {rk} (Avro promotes only int -> long -> float -> "
                f"double and string <-> bytes)"]
    if rk != wk:
        return [f"{where}: written as {type_label(w, wn)}, the reader expects {type_label(r, rn)}"]
    if rk in ("record", "enum", "fixed") and not _same_name(r, w):
        return [f"{where}: the writer's {rk} is named {w['name']}, the reader's {r['name']} (and no alias matches)"]
    if rk == "fixed":
        return [] if r["size"] == w["size"] else [f"{where}: fixed of {w['size']} bytes read as {r['size']} bytes"]
    if rk == "enum":
        missing = [s for s in w["symbols"] if s not in r["symbols"]]
        if missing and "default" not in r:
            return [f"{where}: the writer may send symbol(s) {', '.join(missing)} that the reader's enum "
                    f"{r['name']} lacks (and it has no default symbol)"]
        return []
    if rk == "array":
        return _resolve(r["items"], w["items"], rn, wn, f"{path}[]", seen)
    if rk == "map":
        return _resolve(r["values"], w["values"], rn, wn, f"{path}{{}}", seen)
    # records
    pair = (id(r), id(w))
    if pair in seen:  # recursive types: assume the inner occurrence resolves like the outer one
        return []
    seen = seen | {pair}
    written = {f["name"]: f for f in w["fields"]}
    out = []
    prefix = f"{path}." if path else ""
    for f in r["fields"]:
        match = next((written[n] for n in [f["name"], *f.get("aliases", [])] if n in written), None)
        if match is None:
            if "default" not in f:
                out.append(f"field {prefix}{f['name']!r}: the reader needs it, the writer's records do not have it, "
                           f"and the reader's schema gives it no default")
            continue
        out += _resolve(f["type"], match["type"], rn, wn, prefix + f["name"], seen)
    return out


def _same_name(r: dict, w: dict) -> bool:
    short = lambda n: n.rsplit(".", 1)[-1]  # noqa: E731 - Avro compares unqualified names
    return short(w["name"]) in {short(r["name"]), *(short(a) for a in r.get("aliases", []))}


def compatibility_problems(mode: str, new: dict, previous: dict | Sequence[dict]) -> list[str]:
    """Why a registry in ``mode`` would refuse ``new`` after ``previous`` (one schema, or all earlier versions,
    oldest first); empty if it would accept it.

    BACKWARD: readers on ``new`` read data written with the previous schema. FORWARD: readers on the previous
    schema read data written with ``new``. FULL: both. ``*_TRANSITIVE``: against every earlier version, not just
    the latest. NONE: no check.
    """
    mode = mode.upper()
    base = mode.removesuffix("_TRANSITIVE")
    if base not in MODES:
        raise LabError(f"unknown compatibility mode {mode!r}; choose one of {', '.join(MODES)} "
                       f"(or BACKWARD_TRANSITIVE, FORWARD_TRANSITIVE, FULL_TRANSITIVE)")
    earlier = [previous] if isinstance(previous, dict) else list(previous)
    if not earlier or base == "NONE":
        return []
    against = earlier if mode.endswith("_TRANSITIVE") else earlier[-1:]
    out = []
    for old in against:
        if base in ("BACKWARD", "FULL"):
            out += [f"new readers, old data: {p}" for p in reader_problems(new, old)]
        if base in ("FORWARD", "FULL"):
            out += [f"old readers, new data: {p}" for p in reader_problems(old, new)]
    return out


def compatible(mode: str, new: dict, previous: dict | Sequence[dict]) -> bool:
    """True if a registry in ``mode`` accepts ``new`` after ``previous``."""
    return not compatibility_problems(mode, new, previous)


# -------------------------------------------------------------------------------------- schema changes
def with_field(schema: dict, field: dict, after: str | None = None) -> dict:
    """A copy of record ``schema`` with ``field`` added (at the end, or after the field named ``after``)."""
    out = json.loads(json.dumps(schema))
    names = field_names(out)
    if field["name"] in names:
        raise LabError(f"{schema_name(schema)} already has a field {field['name']!r}")
    at = names.index(after) + 1 if after else len(names)
    out["fields"].insert(at, dict(field))
    return out


def without_field(schema: dict, name: str) -> dict:
    """A copy of record ``schema`` without the field ``name``."""
    if name not in field_names(schema):
        raise LabError(f"{schema_name(schema)} has no field {name!r}; it has {', '.join(field_names(schema))}")
    out = json.loads(json.dumps(schema))
    out["fields"] = [f for f in out["fields"] if f["name"] != name]
    return out


def with_field_type(schema: dict, name: str, new_type: Any, **extra: Any) -> dict:
    """A copy of record ``schema`` where field ``name`` has type ``new_type`` (and any ``extra`` keys,
    e.g. ``default=None`` or ``aliases=[...]``; ``rename=`` renames the field)."""
    if name not in field_names(schema):
        raise LabError(f"{schema_name(schema)} has no field {name!r}; it has {', '.join(field_names(schema))}")
    out = json.loads(json.dumps(schema))
    for f in out["fields"]:
        if f["name"] == name:
            f["type"] = new_type
            rename = extra.pop("rename", None)
            f.update(extra)
            if rename:
                f["name"] = rename
    return out


def payment_changes(base: dict | None = None) -> dict[str, dict]:
    """Typical edits of the payment schema (``payment-v2`` unless ``base`` is given): label -> the new schema.

    The chapter's compatibility matrix registers each one after ``base`` under every mode.
    """
    base = base or load_schema("payment-v2")
    return {
        "add a field with a default": with_field(base, {"name": "note", "type": ["null", "string"], "default": None}),
        "add a field without a default": with_field(base, {"name": "risk_score", "type": "double"}),
        "remove a field that has a default": without_field(base, "channel"),
        "remove a field without a default": without_field(base, "merchant"),
        "add an enum symbol": with_field_type(base, "method", {"type": "enum", "name": "Method",
                                                               "symbols": ["card", "wallet", "transfer", "crypto"]}),
        "rename a field, old name as alias": with_field_type(base, "merchant", "string", rename="shop",
                                                              aliases=["merchant"]),
        "change a field's type (double to string)": with_field_type(base, "amount", "string"),
    }


# ---------------------------------------------------------------------------------------- the registry
def registry_url() -> str:
    """The Confluent-compatible API of the course's schema registry (Apicurio: ``/apis/ccompat/v7``)."""
    from .cluster.services import Registry, service

    return service("registry").url + Registry.CCOMPAT


class Registry:
    """A small client for the Confluent schema-registry REST API (what Apicurio serves under ``/apis/ccompat/v7``).

    Only what the chapter needs: register, look up, set a subject's compatibility, delete a subject. Errors come
    back as one-line :class:`LabError` subclasses that quote the registry's own message.
    """

    def __init__(self, url: str | None = None, timeout_s: float = 10):
        self.url = (url or registry_url()).rstrip("/")
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"Registry({self.url!r})"

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, Any]:
        """One REST call: (HTTP status, decoded JSON body)."""
        from .cluster.services import http

        try:
            return http(method, self.url + path, body, timeout=self.timeout_s, content_type=REGISTRY_CONTENT_TYPE)
        except OSError as e:
            raise RegistryError(f"no schema registry answers at {self.url} ({e}); the chapter's first cell starts "
                                f"it (`notebook.start(services=('registry',))`), or run "
                                f"`python -m kafkalab up --with registry`") from None

    @staticmethod
    def message(body: Any) -> str:
        """The registry's error message from an error body (``{"error_code": ..., "message": ...}``)."""
        if isinstance(body, dict):
            return str(body.get("message", body))
        return str(body)

    def try_register(self, subject: str, schema: dict) -> tuple[bool, int | str]:
        """Register ``schema`` under ``subject``: ``(True, schema id)`` or ``(False, the registry's message)``
        when it refuses the schema as incompatible (409). Other errors raise :class:`RegistryError`."""
        status, body = self.call("POST", f"/subjects/{subject}/versions",
                                 {"schemaType": "AVRO", "schema": json.dumps(schema)})
        if status == 200:
            return True, int(body["id"])
        if status == 409:
            return False, self.message(body)
        raise RegistryError(f"registering a schema under {subject} failed: HTTP {status}: {self.message(body)}")

    def register(self, subject: str, schema: dict) -> int:
        """Register ``schema`` under ``subject`` and return its id (the same id if it is already registered)."""
        ok, result = self.try_register(subject, schema)
        if not ok:
            raise IncompatibleSchema(f"the registry refused the schema for {subject} (409): {result}")
        return int(result)

    def check(self, subject: str, schema: dict, version: str = "latest") -> bool:
        """Would ``schema`` be accepted under ``subject``? (Asks the registry; registers nothing.)"""
        status, body = self.call("POST", f"/compatibility/subjects/{subject}/versions/{version}",
                                 {"schemaType": "AVRO", "schema": json.dumps(schema)})
        if status == 404:  # no version yet: the first schema of a subject is always accepted
            return True
        if status != 200:
            raise RegistryError(f"compatibility check for {subject} failed: HTTP {status}: {self.message(body)}")
        return bool(body["is_compatible"])

    def schema(self, schema_id: int) -> dict:
        """The schema registered under ``schema_id``."""
        status, body = self.call("GET", f"/schemas/ids/{schema_id}")
        if status != 200:
            raise RegistryError(f"the registry has no schema with id {schema_id} (HTTP {status}: "
                                f"{self.message(body)}); was the record written against another registry?")
        return json.loads(body["schema"])

    def subjects(self, prefix: str = "") -> list[str]:
        status, body = self.call("GET", "/subjects")
        if status != 200:
            raise RegistryError(f"listing subjects failed: HTTP {status}: {self.message(body)}")
        return sorted(s for s in body if s.startswith(prefix))

    def versions(self, subject: str) -> list[int]:
        """The subject's version numbers (empty if the subject does not exist)."""
        status, body = self.call("GET", f"/subjects/{subject}/versions")
        if status == 404:
            return []
        if status != 200:
            raise RegistryError(f"listing versions of {subject} failed: HTTP {status}: {self.message(body)}")
        return list(body)

    def version(self, subject: str, version: int | str = "latest") -> dict:
        """``{"subject", "version", "id", "schema"}`` of one version (``schema`` decoded to a dict)."""
        status, body = self.call("GET", f"/subjects/{subject}/versions/{version}")
        if status != 200:
            raise RegistryError(f"{subject} has no version {version}: HTTP {status}: {self.message(body)}")
        return {**body, "schema": json.loads(body["schema"])}

    def compatibility(self, subject: str | None = None) -> str:
        """The compatibility mode of ``subject`` or, without one, the registry's global mode."""
        # defaultToGlobal: a subject without its own setting follows the global mode. Without the flag, Apicurio
        # answers NONE for such a subject (Confluent answers 404), although the global mode is what it enforces.
        status, body = self.call("GET", f"/config/{subject}?defaultToGlobal=true" if subject else "/config")
        if status != 200:
            raise RegistryError(f"reading the compatibility of {subject or 'the registry'} failed: HTTP {status}: "
                                f"{self.message(body)}")
        return body.get("compatibilityLevel") or body.get("compatibility")

    def set_compatibility(self, subject: str, mode: str) -> None:
        """Set ``subject``'s compatibility mode (the registry's global mode stays as it is)."""
        mode = mode.upper()
        if mode.removesuffix("_TRANSITIVE") not in MODES:
            raise LabError(f"unknown compatibility mode {mode!r}; choose one of {', '.join(MODES)}")
        status, body = self.call("PUT", f"/config/{subject}", {"compatibility": mode})
        if status != 200:
            raise RegistryError(f"setting {subject} to {mode} failed: HTTP {status}: {self.message(body)}")

    def delete_subject(self, subject: str) -> bool:
        """Delete ``subject`` for good (a soft delete, then ``?permanent=true``); True if it existed.

        A soft delete alone keeps the versions (and blocks nothing); the permanent one removes them and the
        subject's compatibility setting, so a re-run starts from scratch.
        """
        soft, _ = self.call("DELETE", f"/subjects/{subject}")
        hard, body = self.call("DELETE", f"/subjects/{subject}?permanent=true")
        if hard not in (200, 404):
            raise RegistryError(f"deleting {subject} failed: HTTP {hard}: {self.message(body)}")
        return soft == 200 or hard == 200


def try_change(registry: Registry, subject: str, mode: str, old: dict, new: dict) -> tuple[bool, str]:
    """Live: on a fresh ``subject`` in ``mode``, register ``old`` then ``new``. (accepted?, registry's message)."""
    registry.delete_subject(subject)
    registry.set_compatibility(subject, mode)
    try:
        registry.register(subject, old)
        ok, result = registry.try_register(subject, new)
    finally:
        registry.delete_subject(subject)
    return ok, "" if ok else str(result)


# ---------------------------------------------------------------------------- kafka-python (de)serializers
class WireSerializer(Serializer):
    """A kafka-python ``value_serializer``: validate against ``schema``, register it under ``<topic>-value``
    (the topic-name strategy) once, and write magic byte + schema id + Avro body.

    A record that breaks the schema raises :class:`SchemaMismatch` before anything reaches the broker.
    """

    def __init__(self, schema: dict, registry: Registry | None = None, subject: str | None = None):
        parse(schema)  # a broken schema fails here, not on the first send
        self.schema = schema
        self.registry = registry or Registry()
        self.subject = subject
        self.ids: dict[str, int] = {}

    def schema_id(self, topic: str) -> int:
        subject = self.subject or f"{topic}-value"
        if subject not in self.ids:
            self.ids[subject] = self.registry.register(subject, self.schema)
        return self.ids[subject]

    def serialize(self, topic, headers, data):
        if data is None:
            return None
        validate(data, self.schema)
        return frame(self.schema_id(topic), avro_encode(data, self.schema))


class WireDeserializer(Deserializer):
    """A kafka-python ``value_deserializer`` for wire-format values: reads the schema id, fetches the writer's
    schema from the registry (once per id) and decodes, resolved into ``reader_schema`` when one is given."""

    def __init__(self, registry: Registry | None = None, reader_schema: dict | None = None):
        self.registry = registry or Registry()
        self.reader = reader_schema
        self.writers: dict[int, dict] = {}

    def writer_schema(self, schema_id: int) -> dict:
        if schema_id not in self.writers:
            self.writers[schema_id] = self.registry.schema(schema_id)
        return self.writers[schema_id]

    def deserialize(self, topic, headers, data):
        if data is None:
            return None
        schema_id, body = unframe(data, f"a value in {topic}" if topic else "value")
        return avro_decode(body, self.writer_schema(schema_id), self.reader)


def produce_validated(topic: str, records: Iterable[dict], schema: dict, registry: Registry | None = None,
                      key_field: str | None = "customer_id") -> tuple[int, list[str]]:
    """Send ``records`` in the wire format with kafka-python; records that break ``schema`` are not sent.

    Returns (records sent, one line per refused record). Nothing half-written reaches the topic: each record is
    checked before the producer sees it.
    """
    from .clients import producer

    serializer = WireSerializer(schema, registry)
    refused, futures = [], []
    with contextlib.closing(producer(value_serializer=serializer, key_serializer=DefaultSerializer())) as p:
        for i, record in enumerate(records):
            label = record.get("payment_id", f"#{i}") if isinstance(record, dict) else f"#{i}"
            try:
                key = record.get(key_field) if key_field and isinstance(record, dict) else None
                key = None if key is None else str(key)
                futures.append(p.send(topic, key=key, value=record))
            except SchemaMismatch as e:
                refused.append(f"{label}: {e.mismatch}")
        for f in futures:
            f.get(timeout=10)
    return len(futures), refused


def read_wire(topic: str, deserializer: WireDeserializer | None = None, max_records: int | None = None,
              timeout_s: float = 5) -> tuple[list[dict], list[str]]:
    """Read ``topic`` from the beginning with kafka-python and decode each value with ``deserializer``.

    Values that cannot be decoded do not stop the reading: each becomes one line (partition, offset, why) in the
    second list, the way a dead-letter queue keeps one bad record from blocking a consumer.
    """
    from kafka import TopicPartition

    from .clients import consumer

    deserializer = deserializer or WireDeserializer()
    good, bad = [], []
    with contextlib.closing(consumer(enable_auto_commit=False, consumer_timeout_ms=int(timeout_s * 1000))) as c:
        parts = sorted(c.partitions_for_topic(topic) or [])
        if not parts:
            raise LabError(f"topic {topic} does not exist (or has no partitions yet)")
        tps = [TopicPartition(topic, p) for p in parts]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        ends = c.end_offsets(tps)
        want = sum(ends.values()) - sum(c.beginning_offsets(tps).values())
        if max_records is not None:
            want = min(want, max_records)
        deadline = time.monotonic() + timeout_s
        seen = 0
        while seen < want and time.monotonic() < deadline:
            for tp, recs in c.poll(timeout_ms=500).items():
                for rec in recs:
                    if seen >= want:
                        break
                    seen += 1
                    try:
                        good.append(deserializer.deserialize(topic, rec.headers, rec.value))
                    except LabError as e:
                        bad.append(f"partition {tp.partition} offset {rec.offset}: {e}")
    return good, bad


# ----------------------------------------------------------------------------------------- confluent-kafka
def confluent_registry_client(url: str | None = None):
    """confluent-kafka's ``SchemaRegistryClient`` pointed at the course registry's Confluent-compatible URL.

    Any Confluent-API registry works: only the base URL differs (Apicurio adds ``/apis/ccompat/v7``).
    """
    with quiet_imports():
        from confluent_kafka.schema_registry import SchemaRegistryClient
    return SchemaRegistryClient({"url": url or registry_url()})


def confluent_classes():
    """confluent-kafka's ``(SchemaRegistryClient, AvroSerializer, AvroDeserializer)``, imported without the
    deprecation warning its authlib dependency prints at import."""
    with quiet_imports():
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    return SchemaRegistryClient, AvroSerializer, AvroDeserializer


def confluent_avro(schema: dict | None = None, registry_client=None):
    """(AvroSerializer for ``schema``, AvroDeserializer) from confluent-kafka, sharing one registry client."""
    with quiet_imports():
        from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    client = registry_client or confluent_registry_client()
    ser = AvroSerializer(client, json.dumps(schema)) if schema is not None else None
    return ser, AvroDeserializer(client)


def confluent_produce(topic: str, records: Iterable[dict], value_serializer,
                      key_field: str | None = "customer_id") -> int:
    """Send ``records`` with confluent-kafka's ``Producer``, each value through ``value_serializer``
    (e.g. its ``AvroSerializer``). Returns the number of records the broker acknowledged."""
    from confluent_kafka import Producer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from .config import bootstrap_servers

    acked, errors = [], []

    def on_delivery(err, msg):
        (errors if err else acked).append(err or msg.offset())

    p = Producer({"bootstrap.servers": bootstrap_servers(), "socket.timeout.ms": 10000})
    ctx = SerializationContext(topic, MessageField.VALUE)
    n = 0
    for record in records:
        key = str(record[key_field]).encode() if key_field else None
        p.produce(topic, key=key, value=value_serializer(record, ctx), on_delivery=on_delivery)
        n += 1
    left = p.flush(15)
    if left or errors:
        raise LabError(f"confluent-kafka could not deliver {left or len(errors)} of {n} records to {topic}: "
                       f"{errors[0] if errors else 'timed out'}")
    return len(acked)


def confluent_consume(topic: str, count: int, value_deserializer, timeout_s: float = 15,
                      group: str | None = None) -> list:
    """Read ``count`` values of ``topic`` from the beginning with confluent-kafka's ``Consumer``, each through
    ``value_deserializer`` (e.g. its ``AvroDeserializer``). Commits nothing, so a re-run reads the same records."""
    from confluent_kafka import Consumer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from .config import bootstrap_servers

    c = Consumer({"bootstrap.servers": bootstrap_servers(), "group.id": group or "schemas-confluent-reader",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    ctx = SerializationContext(topic, MessageField.VALUE)
    out: list = []
    try:
        c.subscribe([topic])
        deadline = time.monotonic() + timeout_s
        while len(out) < count and time.monotonic() < deadline:
            msg = c.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                raise LabError(f"confluent-kafka could not read {topic}: {msg.error()}")
            out.append(value_deserializer(msg.value(), ctx))
    finally:
        c.close()
    if len(out) < count:
        raise LabError(f"read only {len(out)} of {count} records from {topic} within {timeout_s:.0f} s")
    return out

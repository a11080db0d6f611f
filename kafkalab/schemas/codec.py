"""Avro bodies and the schema-registry wire format (Chapter 4: Managing and evolving data schemas).

- **Avro bodies** with fastavro: :func:`avro_encode` / :func:`avro_decode` (with reader-schema resolution), which
  bytes hold which field (:func:`avro_layout`), and the size and speed comparison with JSON
  (:func:`size_comparison`, :func:`time_codecs`).
- **The wire format** every schema-registry serializer writes: magic byte ``0``, a 4-byte big-endian schema id,
  then the Avro body (:func:`frame`, :func:`unframe`).
"""
from __future__ import annotations

import io
import json
import struct
import time
from pathlib import Path
from typing import Sequence

from ..config import REPO
from ..errors import LabError
from .compatibility import reader_problems
from .types import named_types, type_label

SCHEMA_DIR = REPO / "data" / "schemas"
#: First byte of every value a schema-registry serializer writes (Confluent's wire format, also Apicurio's ccompat).
MAGIC = 0
#: Magic byte + 4-byte schema id.
HEADER_BYTES = 5


class WireFormatError(LabError):
    """Bytes that are not in the schema-registry wire format (no magic byte, too short)."""


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
        rows.append({"field": field["name"], "Avro type": type_label(field["type"], named_types(schema)),
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

"""Validation before sending: does a record fit its Avro schema, and if not, where and why (Chapter 4).

:func:`find_mismatch` names the first field that breaks the schema (field, expected type, what it got), so a bad
record is one clear line, not a traceback from deep inside fastavro. It checks what fastavro would write: missing
fields without a default, wrong Python types, ints out of range, unknown enum symbols, and fields the schema does
not have (usually a typo: fastavro drops them silently).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from ..errors import LabError
from .types import PRIMITIVES, kind_of, named_types, resolve, schema_name, type_label

_INT_RANGE = {"int": (-2**31, 2**31 - 1), "long": (-2**63, 2**63 - 1)}


class SchemaMismatch(LabError):
    """A record does not fit its schema; ``field``, ``expected`` and ``got`` say where and how."""

    def __init__(self, mismatch: "Mismatch", schema_name: str):
        self.mismatch = mismatch
        super().__init__(f"record does not match schema {schema_name}: {mismatch}")


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


def find_mismatch(record: Any, schema: dict) -> Mismatch | None:
    """The first place where ``record`` does not fit ``schema`` (``None`` if it fits).

    Checks what fastavro would write: missing fields without a default, wrong Python types, ints out of range,
    unknown enum symbols, and fields the schema does not have (usually a typo: fastavro drops them silently).
    """
    return _mismatch(record, schema, "", named_types(schema))


def _mismatch(value: Any, t: Any, path: str, names: dict) -> Mismatch | None:
    label = path or "(record)"
    t = resolve(t, names)
    kind = kind_of(t)
    if kind == "union":
        if any(_mismatch(value, b, path, names) is None for b in t):
            return None
        if isinstance(value, dict):  # one record branch: say which of its fields is wrong
            records = [b for b in t if kind_of(resolve(b, names)) == "record"]
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
                kind = kind_of(resolve(f["type"], names))
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

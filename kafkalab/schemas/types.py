"""How the course's Avro helpers see a schema: type names, named types, references (no fastavro, no Kafka).

Shared by :mod:`~kafkalab.schemas.validation` (does a record fit?), :mod:`~kafkalab.schemas.compatibility` (can a
reader read a writer's data?) and :mod:`~kafkalab.schemas.codec` (which bytes hold which field?).
"""
from __future__ import annotations

import json
from typing import Any

from ..errors import LabError

PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


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


def named_types(schema: Any) -> dict:
    """Every named type (record, enum, fixed) of ``schema``, by full and by short name."""
    names: dict = {}
    _collect_names(schema, names)
    return names


def resolve(t: Any, names: dict) -> Any:
    """Follow a reference by name, and unwrap ``{"type": "string"}`` / logical types to their base type."""
    if isinstance(t, str) and t not in PRIMITIVES:
        if t not in names:
            raise LabError(f"the schema refers to a type {t!r} that it does not define")
        return names[t]
    if isinstance(t, dict) and isinstance(t.get("type"), (str, list)) and t["type"] not in (
            "record", "error", "enum", "fixed", "array", "map"):
        return resolve(t["type"], names)  # {"type": "long", "logicalType": ...} is a long on the wire
    return t


def kind_of(t: Any) -> str:
    """The kind of a resolved type: a primitive's name, ``union``, ``record`` (also for ``error``), ``enum`` ..."""
    if isinstance(t, str):
        return t
    if isinstance(t, list):
        return "union"
    return "record" if t.get("type") == "error" else t.get("type")


def schema_name(schema: dict) -> str:
    """The schema's full name (``course.payments.Payment``) or its type for unnamed schemas."""
    if isinstance(schema, dict) and "name" in schema:
        ns = schema.get("namespace")
        return f"{ns}.{schema['name']}" if ns and "." not in schema["name"] else schema["name"]
    return json.dumps(schema) if not isinstance(schema, str) else schema


def field_names(schema: dict) -> list[str]:
    """The top-level field names of a record schema."""
    return [f["name"] for f in schema.get("fields", [])]

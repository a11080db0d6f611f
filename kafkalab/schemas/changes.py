"""Typical edits of a record schema, as new schemas (the originals are left alone): add, remove, retype a field.

The chapter registers each of :func:`payment_changes` under every compatibility mode (Chapter 4, section 7).
"""
from __future__ import annotations

import json
from typing import Any

from ..errors import LabError
from .codec import load_schema
from .types import field_names, schema_name


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

"""Compatibility, reasoned offline from Avro's schema-resolution rules (Chapter 4).

:func:`reader_problems` says why a reader on one schema cannot read data written with another;
:func:`compatibility_problems` applies it the way a registry in BACKWARD, FORWARD or FULL mode does, so the chapter
can set the registry's verdicts beside reasons in words.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import LabError
from .types import PRIMITIVES, kind_of, named_types, resolve, type_label

#: Compatibility modes the course uses (each also exists as ``<MODE>_TRANSITIVE``: check every earlier version).
MODES = ("NONE", "BACKWARD", "FORWARD", "FULL")
#: Avro's promotions: a writer's type (key) that a reader of each listed type may read.
PROMOTIONS = {"int": ("long", "float", "double"), "long": ("float", "double"), "float": ("double",),
              "string": ("bytes",), "bytes": ("string",)}


def reader_problems(reader: dict, writer: dict) -> list[str]:
    """Why a reader on ``reader`` cannot read data written with ``writer`` (empty: it can), after Avro's
    schema-resolution rules: fields matched by name or reader alias, extra writer fields skipped, missing ones
    need a default in the reader, numeric promotions int -> long -> float -> double, string <-> bytes."""
    return _resolve(reader, writer, named_types(reader), named_types(writer), "", set())


def _resolve(r: Any, w: Any, rn: dict, wn: dict, path: str, seen: set) -> list[str]:
    r, w = resolve(r, rn), resolve(w, wn)
    rk, wk = kind_of(r), kind_of(w)
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

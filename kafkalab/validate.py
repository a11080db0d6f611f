"""Checking the numbers a learner passes in: one rule set for the whole course (ground floor: imports only errors).

The rules, everywhere:

- a number is a real number: ``int``, ``float``, ``Decimal``, ``Fraction`` or a numpy number. ``True``/``False``
  are not numbers here (Python counts them as 1 and 0, which hides a mistake), and neither is text: ``"10"`` is
  refused rather than guessed at;
- a whole number is an integer type (``int``, a numpy integer): ``2.0`` is refused as well, so a float that
  slipped in (a division, a ``1e3``) is noticed instead of being rounded silently;
- NaN and infinities are refused; bounds are checked last.

A refusal is one :class:`~kafkalab.errors.LabError` line: ``name=value: what is wrong (allowed: what is)``.
"""
from __future__ import annotations

import math
import numbers
from decimal import Decimal

from .errors import LabError


def shown(value: object) -> str:
    """The bad value as the learner would recognise it, on one short line."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bound(value: float) -> str:
    """A bound as people read it: 2,147,483,647 but 1e+12."""
    return f"{int(value):,}" if value == int(value) and abs(value) < 1e10 else f"{value:g}"


def allowed(*, low: float | None = None, high: float | None = None, low_open: bool = False,
            whole: bool = False, unit: str = "") -> str:
    """What the rule accepts, in words: ``a whole number of 1 or more``, ``a number above 0 and up to 1e+12``."""
    kind = "a whole number" if whole else "a number"
    if low is not None and high is not None:
        lower, upper = ("above", "and up to") if low_open else ("from", "to")
        text = f"{kind} {lower} {_bound(low)} {upper} {_bound(high)}"
    elif low is not None:
        text = f"{kind} above {_bound(low)}" if low_open else f"{kind} of {_bound(low)} or more"
    elif high is not None:
        text = f"{kind} up to {_bound(high)}"
    else:
        text = kind
    return f"{text} {unit}" if unit else text


def problem(value: object, *, low: float | None = None, high: float | None = None, low_open: bool = False,
            whole: bool = False) -> str | None:
    """What is wrong with ``value`` under the rules (a short phrase), or None when it is fine."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "a yes/no value, not a number"
    if isinstance(value, str):
        return "text, not a number"
    if not isinstance(value, (numbers.Real, Decimal)):
        return f"not a number (a {type(value).__name__})"
    try:
        x = float(value)
    except OverflowError:
        return "too large"
    if math.isnan(x):
        return "not a number (NaN)"
    if math.isinf(x):
        return "infinite"
    if whole and not isinstance(value, numbers.Integral):
        return f"a {type(value).__name__}, not a whole number" if x.is_integer() else "not a whole number"
    if low is not None and (x < low or (low_open and x == low)):
        return "too small" if x > 0 else ("zero" if x == 0 else "negative")
    if high is not None and x > high:
        return "too large"
    return None


def number(name: str, value: object, *, low: float | None = None, high: float | None = None, low_open: bool = False,
           whole: bool = False, unit: str = "", where: str = "") -> int | float:
    """``value`` if it obeys the rules (an ``int`` if ``whole``, else a ``float``), else a :class:`LabError` line
    naming ``name`` (and ``where``, e.g. `` (workload 'payments')``), the value and what is allowed."""
    wrong = problem(value, low=low, high=high, low_open=low_open, whole=whole)
    if wrong:
        rule = allowed(low=low, high=high, low_open=low_open, whole=whole, unit=unit)
        raise LabError(f"{name}={shown(value)}{where}: {wrong} (allowed: {rule})")
    return int(value) if whole else float(value)  # type: ignore[arg-type]


def count(name: str, value: object, *, low: int = 1, high: int | None = None, where: str = "") -> int:
    """A whole number of ``low`` or more (and at most ``high``): a count of partitions, members, records."""
    return int(number(name, value, low=low, high=high, whole=True, where=where))


def failures(**checks: tuple[object, dict]) -> list[str]:
    """Check several settings at once, ``name=(value, rules)``: one line per bad one (empty when all are fine)."""
    out = []
    for name, (value, rules) in checks.items():
        try:
            number(name, value, **rules)
        except LabError as e:
            out.append(str(e))
    return out


def check_all(**checks: tuple[object, dict]) -> list[int | float]:
    """Check several settings at once, ``name=(value, rules)``: their values in order, or one :class:`LabError`
    naming every bad one, separated by ``;``."""
    wrong = failures(**checks)
    if wrong:
        raise LabError("; ".join(wrong))
    return [number(name, value, **rules) for name, (value, rules) in checks.items()]

"""What counts as "not answered yet", and small validators that turn a wrong type into one clear line.

A learner's cell starts with ``...`` (Ellipsis) where a value goes, or with a function whose body is only ``...``
(or ``pass``, or a docstring) where code goes. :func:`is_placeholder` recognises both; the function case is
decided from the compiled code, so it works for functions typed in a notebook cell, loaded from a file, or
built with ``exec`` (no source needed).
"""
from __future__ import annotations

import dis
import numbers
import types
from typing import Any

from .verdicts import WrongType

#: What a learner's cell holds before it is answered.
PLACEHOLDER = ...

# Opcodes that only set a frame up; a function made of these plus "return None/..." does nothing.
_PROLOGUE = {"RESUME", "NOP", "COPY_FREE_VARS", "MAKE_CELL", "CACHE", "EXTENDED_ARG"}


def _does_nothing(code: types.CodeType) -> bool:
    """True when ``code`` only returns ``None`` or ``...``: the body was ``...``, ``pass`` or a docstring."""
    if code.co_flags & (0x20 | 0x80 | 0x100 | 0x200):  # generator, coroutine, async generator: has a body
        return False
    steps = [(i.opname, i.argval) for i in dis.get_instructions(code) if i.opname not in _PROLOGUE]
    if len(steps) == 1:  # Python 3.12+: RETURN_CONST None
        return steps[0][0] == "RETURN_CONST" and steps[0][1] in (None, Ellipsis)
    return (len(steps) == 2 and steps[0][0] == "LOAD_CONST" and steps[0][1] in (None, Ellipsis)
            and steps[1][0] == "RETURN_VALUE")


def is_placeholder(answer: Any) -> bool:
    """True for ``...`` and for a function (or lambda, or method) whose body does nothing yet."""
    if answer is PLACEHOLDER:
        return True
    func = getattr(answer, "__func__", answer)  # a bound method counts as its function
    code = getattr(func, "__code__", None)
    return isinstance(code, types.CodeType) and _does_nothing(code)


def type_name(value: Any) -> str:
    """``int``, ``str``, ``None`` ...: the name a learner knows a value's type by."""
    return "None" if value is None else type(value).__name__


def real_number(answer: Any, what: str) -> float:
    """``answer`` as a ``float``; booleans and text are refused with one line."""
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        raise WrongType(f"answer with a number ({what}), not {type_name(answer)} ({answer!r:.40})")
    return float(answer)


def need(answer: Any, types_: type | tuple[type, ...], say: str) -> Any:
    """``answer`` unchanged if it is an instance of ``types_``; otherwise :class:`WrongType` saying ``say``."""
    if not isinstance(answer, types_) or isinstance(answer, bool) and bool not in _as_tuple(types_):
        raise WrongType(f"{say}, not {type_name(answer)}")
    return answer


def _as_tuple(t: type | tuple[type, ...]) -> tuple[type, ...]:
    return t if isinstance(t, tuple) else (t,)

"""kafkalab.validate: the one rule set for the numbers a learner passes in, and the one-line message it gives."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

from kafkalab.errors import LabError
from kafkalab.validate import allowed, check_all, count, failures, number, problem


@pytest.mark.parametrize("value", [3, 3.5, Decimal("3.5"), Fraction(7, 2), np.float64(3.5), np.int64(3)])
def test_real_numbers_of_any_type_are_numbers(value):
    assert number("x", value) == float(value)


@pytest.mark.parametrize(("value", "why"), [
    (True, "a yes/no value, not a number"),
    (False, "a yes/no value, not a number"),
    ("10", "text, not a number"),
    ("", "text, not a number"),
    (None, "missing"),
    ([1], "not a number (a list)"),
    (math.nan, "not a number (NaN)"),
    (math.inf, "infinite"),
])
def test_bools_text_and_non_numbers_are_refused_everywhere(value, why):
    assert problem(value) == why
    assert problem(value, whole=True) == why
    with pytest.raises(LabError, match=r"^x=.*: " + why.replace("(", r"\(").replace(")", r"\)")):
        number("x", value)


@pytest.mark.parametrize(("value", "why"), [(2.0, "a float, not a whole number"), (1.5, "not a whole number"),
                                            (Decimal("2"), "a Decimal, not a whole number")])
def test_a_whole_number_is_an_integer_type(value, why):
    assert problem(value, whole=True) == why
    assert count("n", np.int32(4)) == 4 and isinstance(count("n", np.int32(4)), int)


def test_bounds_and_their_words():
    assert problem(0, low=1) == "zero" and problem(-1, low=0) == "negative" and problem(0.5, low=1) == "too small"
    assert problem(0, low=0, low_open=True) == "zero" and problem(0, low=0) is None
    assert problem(11, high=10) == "too large" and problem(10, high=10) is None
    assert allowed(low=1, whole=True) == "a whole number of 1 or more"
    assert allowed(low=0, low_open=True, high=5, unit="ms") == "a number above 0 and up to 5 ms"
    assert allowed(low=0, high=1) == "a number from 0 to 1"


def test_the_message_is_one_line_naming_value_place_and_rule():
    with pytest.raises(LabError) as e:
        number("rate", -2, low=0, low_open=True, unit="messages/s", where=" (workload 'w')")
    assert str(e.value) == "rate=-2 (workload 'w'): negative (allowed: a number above 0 messages/s)"
    with pytest.raises(LabError) as e:
        count("partitions", "x" * 100)
    assert "\n" not in str(e.value) and len(str(e.value)) < 140  # a long value is cut short


def test_several_settings_give_every_problem_in_one_line():
    assert check_all(a=(1, {}), b=(2, dict(whole=True))) == [1.0, 2]
    assert failures(a=(1, {}), b=(True, {})) == ["b=True: a yes/no value, not a number (allowed: a number)"]
    with pytest.raises(LabError) as e:
        check_all(a=(0, dict(low=1)), b=(-1, dict(low=0)), c=(5, {}))
    assert str(e.value).count(";") == 1 and "a=0" in str(e.value) and "b=-1" in str(e.value)

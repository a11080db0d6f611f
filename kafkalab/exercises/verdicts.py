"""The outcomes of a check, and the two exceptions a checker raises for a wrong answer.

A checker (the function behind an :class:`~kafkalab.exercises.core.Exercise`) returns the one sentence that says
why a right answer is right, or raises :class:`NotYet` / :class:`WrongType` with the likely mistake. Neither is a
bare ``assert`` (those vanish under ``python -O``): they are raised explicitly, and :class:`NotYet` is an
``AssertionError`` so that a failing solution cell reads like a failed test.
"""
from __future__ import annotations

#: The kinds of result, in the words the learner sees (text/plain starts with the label).
CORRECT = "correct"
NOT_YET = "not yet"
WRONG_TYPE = "wrong type"
NOT_ANSWERED = "not answered"
UNAVAILABLE = "cannot check"  # the cluster (or a service) does not answer: the LabError's one line says how to fix it

KINDS = (CORRECT, NOT_YET, WRONG_TYPE, NOT_ANSWERED, UNAVAILABLE)


class NotYet(AssertionError):
    """The answer is not right yet; the message names the likely mistake (one or two sentences)."""

    kind = NOT_YET


class WrongType(NotYet):
    """The answer has the wrong type or shape (a str where an int is asked, a dict without the keys ...)."""

    kind = WRONG_TYPE


class NotAnswered(NotYet):
    """``check_solution`` was given a placeholder: the solution cell itself is unfinished."""

    kind = NOT_ANSWERED

"""The course's exercises: one object per question, with ``check``, ``hint``, ``solution`` (Kaggle learntools
is the model) and the strict ``check_solution`` for the hidden solution cells.

In a chapter::

    from kafkalab.exercises.kafka101 import partition_of_key

    my_partition = ...  # the learner replaces the ...
    partition_of_key.check(my_partition)

Every ``check`` is recorded in ``<KAFKALAB_HOME>/progress.json``; ``python -m kafkalab progress`` prints the
table and ``show_progress("<chapter>")`` shows one chapter's. CONTRIBUTING.md, "How to add an exercise", has the
pattern. Importing this package loads no Kafka client: chapter modules are imported when asked for.
"""
from .answers import PLACEHOLDER, is_placeholder
from .core import Exercise, Mistake, call_learner, exercise
from .progress import show_progress
from .registry import all_exercises, chapters, get
from .verdicts import NotYet, WrongType

__all__ = ["PLACEHOLDER", "Exercise", "Mistake", "NotYet", "WrongType", "all_exercises", "call_learner", "chapters",
           "exercise", "get", "is_placeholder", "show_progress"]

"""One object per exercise: ``check(answer)``, ``hint()``, ``solution()`` and the strict ``check_solution(answer)``.

A chapter defines an exercise by decorating its checker, a function that takes the learner's answer (and
keyword context with defaults, such as the chapter's topic name) and either returns the sentence that says why
the answer is right or raises :class:`~kafkalab.exercises.verdicts.NotYet` naming the likely mistake::

    @exercise(CHAPTER, title="Predict the partition of a key", kind="concept", expects="a partition number",
              hints=[...], solution=SOLUTION, reference=lambda ctx: ..., mistakes=[Mistake("murmur2", answer=0)])
    def partition_of_key(answer, *, key="C007", partitions=2) -> str:
        ...

``check`` never raises for a wrong or missing answer: it shows a styled result (see :mod:`.render`) and records it
for ``python -m kafkalab progress``. ``check_solution`` is for the hidden solution cell: it shows the same
"correct" result, records nothing, and raises when the solution no longer passes, so CI notices.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Iterator

from ..errors import LabError
from . import registry
from .answers import PLACEHOLDER, is_placeholder, type_name
from .render import Hint, Result, Solution, show
from .verdicts import CORRECT, NOT_ANSWERED, NOT_YET, UNAVAILABLE, NotAnswered, NotYet, WrongType

KINDS = ("concept", "code")
_UNSET = object()


@dataclass(frozen=True)
class Mistake:
    """An anticipated wrong answer and a fragment of the message it must get.

    ``answer`` is the wrong answer itself; for live exercises, ``make(context)`` builds it instead (it may also
    change the cluster, e.g. commit the wrong offset) from what the exercise's rehearsal set up. ``kind`` is the
    result it must give (``"not yet"`` or ``"wrong type"``). The three-way test runs every one of them.
    """

    says: str
    answer: Any = _UNSET
    make: Callable[[dict], Any] | None = None
    kind: str = "not yet"

    def given(self, context: dict) -> Any:
        if self.make is not None:
            return self.make(context)
        if self.answer is _UNSET:
            raise LabError(f"the mistake {self.says!r} has neither an answer nor a make(context)")
        return self.answer


@contextlib.contextmanager
def no_rehearsal() -> Iterator[dict]:
    """Pure exercises need nothing set up: their context is empty."""
    yield {}


def call_learner(fn: Callable, *args: Any, what: str = "your function") -> Any:
    """Run the learner's code; an exception in it becomes a one-line :class:`NotYet` (LabError stays a LabError)."""
    try:
        return fn(*args)
    except (LabError, NotYet, KeyboardInterrupt):
        raise
    except Exception as e:  # the learner's bug: report it in one line, never a traceback
        detail = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
        raise NotYet(f"{what} raised {type(e).__name__}" + (f": {detail}" if detail else "")) from None


class Exercise:
    """One exercise of one chapter (see the module docstring). Create it with :func:`exercise`."""

    def __init__(
        self,
        judge: Callable[..., str],
        *,
        chapter: str,
        title: str,
        kind: str,
        expects: str,
        hints: list[str] | tuple[str, ...],
        solution: str,
        reference: Callable[[dict], Any] | str | None = None,
        mistakes: list[Mistake] | tuple[Mistake, ...] = (),
        rehearsal: Callable[[], ContextManager[dict]] | None = None,
        function: bool | None = None,
        live: bool = False,
        services: tuple[str, ...] = (),
        brokers: int = 1,
        name: str | None = None,
    ) -> None:
        self.name = name or judge.__name__
        if kind not in KINDS:
            raise LabError(f"exercise {self.name}: kind={kind!r}; choose one of {', '.join(KINDS)}")
        if not hints or not solution.strip():
            raise LabError(f"exercise {self.name}: give at least one hint and the solution's code")
        self.chapter = chapter
        self.title = title
        self.kind = kind
        self.expects = expects
        self.hints = tuple(hints)
        self.solution_code = solution.strip("\n")
        self.mistakes = tuple(mistakes)
        self.rehearsal = rehearsal or no_rehearsal
        self.function = kind == "code" if function is None else function  # is the answer a function?
        self.live = live
        self.services = tuple(services)
        self.brokers = brokers
        self._judge = judge
        self._reference = reference
        self._hints_shown = 0
        self.__doc__ = judge.__doc__
        registry.register(self)

    # ------------------------------------------------------------------ identity
    @property
    def key(self) -> str:
        """``<chapter>/<name>``: the id progress is recorded under."""
        return f"{self.chapter}/{self.name}"

    def __repr__(self) -> str:
        return f"<exercise {self.key}: {self.title} ({self.kind})>"

    # ------------------------------------------------------------------ checking
    def evaluate(self, answer: Any = PLACEHOLDER, **context: Any) -> Result:
        """Judge ``answer`` and return the result, without showing or recording it (tests use this)."""
        try:
            message = self._run_judge(answer, context)
        except NotAnswered:
            return Result(NOT_ANSWERED, self._not_answered_message(), aside=self._help_line())
        except NotYet as e:
            return Result(e.kind, _one_paragraph(e), aside=self._help_line())
        except LabError as e:
            return Result(UNAVAILABLE, _one_paragraph(e), aside="Then run this cell again.")
        except KeyboardInterrupt:
            raise
        except Exception as e:
            if type(e).__module__.split(".")[0] in ("kafka", "confluent_kafka"):  # the cluster's answer, not yours
                return Result(UNAVAILABLE, f"Kafka answered {type(e).__name__}: {_one_paragraph(e)}",
                              aside="Run the cell again in a moment; `python -m kafkalab doctor` checks the cluster.")
            # a checker bug must not show a traceback to the learner either
            return Result(NOT_YET, f"the checker could not use this answer ({type(e).__name__}: "
                                     f"{_one_paragraph(e)}); check its type against the task", aside=self._help_line())
        return Result(CORRECT, message)

    def check(self, answer: Any = PLACEHOLDER, **context: Any) -> None:
        """Show whether ``answer`` is right (never raises for a wrong or missing answer) and record the result."""
        result = self.evaluate(answer, **context)
        from . import progress

        try:
            progress.record(self, done=result.correct, result=result.kind)
        except LabError as e:
            result = Result(result.kind, result.message, result.aside, notes=(f"(progress not saved: {e})",))
        show(result)

    def check_solution(self, answer: Any, **context: Any) -> None:
        """The strict check for the hidden solution cell: shows the same "correct" result, records nothing, and
        raises :class:`NotYet` (an ``AssertionError``) or :class:`LabError` when the answer does not pass."""
        try:
            message = self._run_judge(answer, context)
        except NotYet as e:
            raise type(e)(f"{self.key}: the solution does not pass: {e}") from None
        show(Result(CORRECT, message))

    def _run_judge(self, answer: Any, context: dict) -> str:
        if is_placeholder(answer):
            raise NotAnswered(self._not_answered_message())
        if answer is None:
            if self.function:
                raise WrongType("None is not a function: pass the function itself, without parentheses after "
                                f"its name ({self.expects})")
            raise WrongType(f"your answer is None: give {self.expects}")
        if self.function and not callable(answer):
            raise WrongType(f"pass a function, not {type_name(answer)}: {self.expects}")
        message = self._judge(answer, **context)
        if not isinstance(message, str) or not message:
            raise LabError(f"exercise {self.key}: its checker returned {message!r} instead of the sentence that "
                           "says why the answer is right")
        return message

    def _not_answered_message(self) -> str:
        where = "in your function's body" if self.function else ""
        return f"replace the `...` {where} and run the cell again.".replace("  ", " ")

    def _help_line(self) -> str:
        return f"`{self.name}.hint()` gives a hint, `{self.name}.solution()` shows a solution."

    # ------------------------------------------------------------------ help
    def hint(self, n: int | None = None) -> None:
        """Show the next hint (1st call: hint 1, then 2 ...), or hint ``n``. After the last, it stays there."""
        show(self.hint_view(n))

    def hint_view(self, n: int | None = None) -> Hint:
        total = len(self.hints)
        if n is None:
            self._hints_shown = min(self._hints_shown + 1, total)
            n = self._hints_shown
        elif not (isinstance(n, int) and 1 <= n <= total):
            raise LabError(f"{self.name} has hints 1 to {total}; call {self.name}.hint() for the next one")
        last = f"That was the last hint; `{self.name}.solution()` shows a solution." if n == total else ""
        return Hint(n, total, self.hints[n - 1], last)

    def solution(self) -> None:
        """Show the solution's code (it is not run)."""
        show(self.solution_view())

    def solution_view(self) -> Solution:
        return Solution(self.solution_code)

    # ------------------------------------------------------------------ for tests and docs
    def reference(self, context: dict) -> Any:
        """A right answer for the rehearsal's ``context`` (what the three-way test passes as "the solution")."""
        ref = self._reference
        if isinstance(ref, str):  # a code exercise whose solution defines the function named ``ref``
            namespace: dict[str, Any] = {"__name__": f"solution_of_{self.name}"}
            exec(compile(self.solution_code, f"<solution of {self.key}>", "exec"), namespace)
            return namespace[ref]
        if ref is None:
            raise LabError(f"exercise {self.key} has no reference answer")
        return ref(context)

    def judge_context(self, context: dict) -> dict:
        """The rehearsal's context without its private keys (those starting with ``_``)."""
        return {k: v for k, v in context.items() if not k.startswith("_")}


def _one_paragraph(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__


def exercise(chapter: str, **options: Any) -> Callable[[Callable[..., str]], Exercise]:
    """Decorator: turn a checker function into a registered :class:`Exercise` named after the function."""

    def make(judge: Callable[..., str]) -> Exercise:
        return Exercise(judge, chapter=chapter, **options)

    return make

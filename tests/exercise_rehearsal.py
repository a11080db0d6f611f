"""The three-way run of an exercise, shared by tests/unit (pure exercises) and tests/integration (live ones).

Every registered exercise is checked with (1) its placeholder, (2) each anticipated wrong answer, (3) its
reference solution. The first two must show their result without raising or printing a traceback, with the
declared kind and message; the solution must be correct, and ``check_solution`` must accept it.
"""
from __future__ import annotations

import pytest

from kafkalab.exercises import core, progress
from kafkalab.exercises.render import Result
from kafkalab.exercises.verdicts import CORRECT, NOT_ANSWERED, NotYet


def placeholder_for(ex):
    """What the learner's cell holds before it is answered: ``...``, or a function whose body is ``...``."""
    if ex.function:
        def answer_me(*args):
            """Replace the ... with your code."""
            ...

        return answer_me
    return ...


class Shown:
    """Collects what ``check`` would display (core.show is replaced by this)."""

    def __init__(self) -> None:
        self.views: list = []

    def __call__(self, view) -> None:
        self.views.append(view)

    def last(self) -> Result:
        assert self.views, "check() showed nothing"
        view = self.views.pop()
        assert isinstance(view, Result)
        return view


def check_once(ex, answer, context, shown: Shown, capsys) -> Result:
    """``ex.check(answer)``: it must not raise nor print a traceback, and must show exactly one result."""
    ex.check(answer, **context)
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err, out
    assert len(shown.views) == 1, shown.views
    return shown.last()


def three_ways(ex, monkeypatch, capsys, tmp_path, strict_mistakes: bool = True) -> None:
    shown = Shown()
    monkeypatch.setattr(core, "show", shown)
    store = tmp_path / "progress.json"
    monkeypatch.setattr(progress, "path", lambda: store)
    with ex.rehearsal() as context:
        judge_context = ex.judge_context(context)

        result = check_once(ex, placeholder_for(ex), judge_context, shown, capsys)
        assert result.kind == NOT_ANSWERED, result
        assert "replace the `...`" in result.message
        assert progress.load(store)[ex.key]["status"] == "not yet"

        for mistake in ex.mistakes:
            answer = mistake.given(context)
            result = check_once(ex, answer, judge_context, shown, capsys)
            assert result.kind == mistake.kind, (mistake, result)
            assert mistake.says in result.message, (mistake.says, result.message)
            assert f"{ex.name}.hint()" in result.aside
            if strict_mistakes:
                with pytest.raises(NotYet, match=ex.key):
                    ex.check_solution(mistake.given(context), **judge_context)
                assert not shown.views
        assert progress.load(store)[ex.key]["status"] == "not yet"

        solution = ex.reference(context)
        result = check_once(ex, solution, judge_context, shown, capsys)
        assert result.kind == CORRECT, result
        assert progress.load(store)[ex.key]["status"] == "done"
        # the strict variant passes and shows the same view (a fresh reference: a sink's file must start empty)
        ex.check_solution(ex.reference(context), **judge_context)
        assert shown.last() == result

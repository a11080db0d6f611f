"""kafkalab.exercises: placeholders, results and their rendering, hints, solutions, the strict check, progress,
the registry and the `progress` command. (Each exercise's own messages: test_exercises_three_ways.py.)"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap

import pytest

from kafkalab import cli
from kafkalab.config import REPO
from kafkalab.errors import LabError
from kafkalab.exercises import core, progress, registry
from kafkalab.exercises.answers import is_placeholder
from kafkalab.exercises.core import Exercise, Mistake, call_learner
from kafkalab.exercises.render import Result
from kafkalab.exercises.verdicts import (CORRECT, NOT_ANSWERED, NOT_YET, UNAVAILABLE, WRONG_TYPE, NotAnswered, NotYet,
                                         WrongType)


# ------------------------------------------------------------------ a small exercise of the tests' own
def _judge(answer, *, limit: int = 3):
    """Is the answer the number 2? (And a few ways of failing on purpose.)"""
    if answer == "lab":
        raise LabError("no Kafka answers at 127.0.0.1:1; start it with `make up`")
    if answer == "kafka":
        from kafka.errors import CoordinatorNotAvailableError

        raise CoordinatorNotAvailableError("no coordinator yet")
    if answer == "bug":
        return {}["missing"]
    if not isinstance(answer, int):
        raise WrongType(f"answer with an int <b>{answer!r:.10}</b>")
    if answer != 2:
        raise NotYet(f"{answer} is not 2 (limit {limit})")
    return "2 is right because `1 + 1` is 2"


def make_exercise(**options) -> Exercise:
    settings = dict(chapter="unit_tests", title="Two", kind="concept", expects="an int", hints=["first", "second"],
                    solution="answer = 1 + 1\n", reference=lambda ctx: 2, mistakes=[Mistake("is not 2", answer=3)])
    settings.update(options)
    return Exercise(_judge, name="two", **settings)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private KAFKALAB_HOME: progress goes to tmp_path/progress.json."""
    monkeypatch.setenv("KAFKALAB_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def shown(monkeypatch):
    views: list = []
    monkeypatch.setattr(core, "show", views.append)
    monkeypatch.setattr(progress, "show", views.append)
    return views


# ------------------------------------------------------------------ placeholders
def _ellipsis_body(x):
    ...


def _docstring_and_ellipsis(producer, topic, payments):
    """Send every payment."""
    ...


def _pass_body():
    pass


def _answered(x):
    return x + 1


def _prints(x):
    print(x)


def _generator():
    yield


async def _coroutine():
    ...


def _closure_placeholder():
    captured = 1

    def inner():
        """Uses nothing yet."""
        ...

    def uses_it():
        return captured

    return inner, uses_it


class _Holder:
    def method(self):
        ...


@pytest.mark.parametrize("answer", [..., _ellipsis_body, _docstring_and_ellipsis, _pass_body, lambda: ...,
                                    lambda *a: None, _closure_placeholder()[0], _Holder().method],
                         ids=["ellipsis", "body-ellipsis", "docstring", "pass", "lambda-ellipsis", "lambda-none",
                              "closure", "bound-method"])
def test_placeholders_are_recognised(answer):
    assert is_placeholder(answer)


@pytest.mark.parametrize("answer", [None, 0, "...", [...], _answered, _prints, _generator, _coroutine, lambda: 0,
                                    _closure_placeholder()[1], len, _Holder, print],
                         ids=["None", "zero", "text", "list", "returns", "prints", "generator", "coroutine",
                              "lambda-0", "closure-uses", "builtin", "class", "print"])
def test_answers_are_not_placeholders(answer):
    assert not is_placeholder(answer)


def test_placeholder_detection_needs_no_source_code():
    """A function built from a string (no file, no notebook cell) is judged from its compiled code alone."""
    namespace: dict = {}
    exec(compile("def empty(a, b):\n    '''todo'''\n    ...\n\ndef full(a, b):\n    return a\n", "<string>", "exec"),
         namespace)
    assert is_placeholder(namespace["empty"]) and not is_placeholder(namespace["full"])


# ------------------------------------------------------------------ results and rendering
def test_evaluate_gives_each_kind_of_result():
    ex = make_exercise()
    cases = {...: NOT_ANSWERED, 2: CORRECT, 3: NOT_YET, "x": WRONG_TYPE, None: WRONG_TYPE, "lab": UNAVAILABLE,
             "kafka": UNAVAILABLE, "bug": NOT_YET}
    for answer, kind in cases.items():
        assert ex.evaluate(answer).kind == kind, answer
    assert ex.evaluate(3, limit=9).message == "3 is not 2 (limit 9)"  # keyword context reaches the checker
    assert "your answer is None: give an int" in ex.evaluate(None).message
    assert "start it with `make up`" in ex.evaluate("lab").message
    assert "the checker could not use this answer (KeyError" in ex.evaluate("bug").message


def test_the_three_texts_the_learner_sees():
    ex = make_exercise()
    assert ex.evaluate(...).text() == ("Not answered yet: replace the `...` and run the cell again.\n"
                                       "`two.hint()` gives a hint, `two.solution()` shows a solution.")
    assert ex.evaluate(2).text() == "Correct: 2 is right because `1 + 1` is 2" == repr(ex.evaluate(2))
    assert ex.evaluate(3).text() == ("Not yet: 3 is not 2 (limit 3)\n"
                                     "`two.hint()` gives a hint, `two.solution()` shows a solution.")
    code = make_exercise(kind="code", reference="unused")
    assert code.evaluate(_docstring_and_ellipsis).message == ("replace the `...` in your function's body and run "
                                                             "the cell again.")
    assert "pass the function itself, without parentheses" in code.evaluate(None).message
    assert code.evaluate(5).kind == WRONG_TYPE


def test_rendering_is_html_and_text_without_volatile_parts():
    ex = make_exercise()
    for answer in (..., 2, 3, "x", "lab"):
        bundle = ex.evaluate(answer)._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/html"}
        html = bundle["text/html"]
        assert html.startswith('<div class="kafkalab-exercise') and html.endswith("</div>")
        assert not re.search(r"\bid=|[0-9a-f]{8}-[0-9a-f]{4}|\d{2}:\d{2}:\d{2}|127\.0\.0\.1:\d{4}", html)
        assert ex.evaluate(answer)._repr_mimebundle_() == bundle  # the same on every call
    wrong = ex.evaluate("x").html()
    assert "&lt;b&gt;" in wrong and "<b>" not in wrong  # the answer's text is escaped
    assert "<code>1 + 1</code>" in ex.evaluate(2).html()  # `backticks` become code
    colours = {kind: ex.evaluate(a).html() for kind, a in [(CORRECT, 2), (NOT_YET, 3), (NOT_ANSWERED, ...)]}
    assert "#2e7d32" in colours[CORRECT] and "#d84315" in colours[NOT_YET] and "#546e7a" in colours[NOT_ANSWERED]


RENDER_SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from unit.test_exercises_core import make_exercise
    from kafkalab.exercises import kafka101
    from kafkalab.exercises.progress import ProgressView
    views = [make_exercise().evaluate(a)._repr_mimebundle_() for a in (..., 2, 3)]
    views.append(kafka101.partition_of_key.evaluate(...)._repr_mimebundle_())
    views.append(make_exercise().hint_view(1)._repr_mimebundle_())
    views.append(make_exercise().solution_view()._repr_mimebundle_())
    views.append(ProgressView("kafka101", (("a", "A", "done"), ("b", "B", "not yet")))._repr_mimebundle_())
    print(json.dumps(views, sort_keys=True))
""")


def test_rendering_is_the_same_in_another_process():
    """Another interpreter, another hash seed: byte-identical text and HTML (what nbval compares)."""
    script = RENDER_SCRIPT.format(tests=str(REPO / "tests"))
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"}, check=True).stdout
            for seed in ("1", "2")]
    assert runs[0] == runs[1]
    assert len(json.loads(runs[0])) == 7


# ------------------------------------------------------------------ check, check_solution
def test_check_shows_without_raising_and_records(home, shown, capsys):
    ex = make_exercise()
    for answer in (..., 3, "x", None, "lab", "bug", 2):
        ex.check(answer)
    assert [v.kind for v in shown] == [NOT_ANSWERED, NOT_YET, WRONG_TYPE, WRONG_TYPE, UNAVAILABLE, NOT_YET, CORRECT]
    assert "Traceback" not in capsys.readouterr().err
    entry = progress.load()["unit_tests/two"]
    assert entry["status"] == "done" and entry["checks"] == 7 and entry["last_result"] == CORRECT


def test_check_solution_raises_for_a_wrong_answer_and_records_nothing(home, shown):
    ex = make_exercise()
    with pytest.raises(NotYet, match=r"unit_tests/two: the solution does not pass: 3 is not 2") as caught:
        ex.check_solution(3)
    assert isinstance(caught.value, AssertionError)
    with pytest.raises(WrongType):
        ex.check_solution("x")
    with pytest.raises(NotAnswered):
        ex.check_solution(...)
    with pytest.raises(LabError, match="make up"):
        ex.check_solution("lab")
    assert not shown
    ex.check_solution(2)
    assert shown == [Result(CORRECT, "2 is right because `1 + 1` is 2")]
    assert not (home / "progress.json").exists()  # "Run All" marks nothing done


def test_check_outside_a_notebook_prints_the_text(home, capsys):
    make_exercise().check(3)
    assert capsys.readouterr().out.startswith("Not yet: 3 is not 2")


def test_learner_code_that_raises_is_one_line():
    def broken(x):
        return {}[x]

    with pytest.raises(NotYet, match=r"^your function raised KeyError: 'k'$"):
        call_learner(broken, "k")
    with pytest.raises(LabError):
        call_learner(lambda: (_ for _ in ()).throw(LabError("cluster down")))


def test_checkers_never_use_bare_assert():
    """`assert` disappears under python -O: the exercises raise NotYet or LabError instead."""
    for path in (REPO / "kafkalab" / "exercises").glob("*.py"):
        tree = ast.parse(path.read_text())
        asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
        assert not asserts, f"{path.name}: assert on lines {asserts}"


# ------------------------------------------------------------------ hints and solutions
def test_hints_come_one_after_the_other_and_stop_at_the_last(shown):
    ex = make_exercise(hints=["one", "two", "three"])
    seen = [ex.hint_view() for _ in range(4)]
    assert [h.number for h in seen] == [1, 2, 3, 3]
    assert seen[0].text() == "Hint 1 of 3: one"
    assert "That was the last hint; `two.solution()` shows a solution." in seen[2].text()
    assert ex.hint_view(1).text_ == "one"
    ex.hint()
    assert shown[-1].number == 3
    with pytest.raises(LabError, match="hints 1 to 3"):
        ex.hint_view(4)


def test_solution_shows_code_without_running_it(shown):
    ex = make_exercise(solution="raise SystemExit('this must not run')\n")
    ex.solution()
    view = shown[-1]
    assert view.text() == "Solution:\nraise SystemExit('this must not run')"
    html = view.html()
    assert "<pre" in html and "class=" not in html.split("<pre", 1)[1]  # inline colours only


def test_a_code_exercise_reference_is_the_function_its_solution_defines():
    ex = make_exercise(kind="code", solution="def double(x):\n    return 2 * x\n", reference="double")
    assert ex.reference({})(21) == 42


# ------------------------------------------------------------------ progress
def test_progress_before_any_check_is_all_not_yet(home):
    rows = progress.rows()
    assert rows and {r["status"] for r in rows} == {"not yet"} and {r["when"] for r in rows} == {""}


def test_done_stays_done_and_keeps_its_time(home):
    ex = make_exercise()
    progress.record(ex, done=False, result=NOT_YET, when="2026-01-01T10:00:00Z")
    progress.record(ex, done=True, result=CORRECT, when="2026-01-01T10:05:00Z")
    entry = progress.record(ex, done=False, result=NOT_YET, when="2026-01-01T11:00:00Z")
    assert entry == {"chapter": "unit_tests", "exercise": "two", "status": "done", "when": "2026-01-01T10:05:00Z",
                     "checks": 3, "last_result": NOT_YET}


def test_progress_table_follows_the_reading_order(home):
    from kafkalab.exercises import kafka101, sizing

    progress.record(sizing.network_out, done=True, result=CORRECT, when="2026-01-01T10:00:00Z")
    rows = progress.rows()
    chapters = [r["chapter"] for r in rows]
    assert chapters == sorted(chapters, key=registry.chapters().index)
    assert rows[0]["exercise"] == kafka101.partition_of_key.name
    done = [r for r in rows if r["status"] == "done"]
    assert [(r["chapter"], r["exercise"]) for r in done] == [("sizing", "network_out")]
    table = progress.format_table(rows)
    assert table.splitlines()[0].split() == ["chapter", "exercise", "kind", "status", "when"]
    assert table.endswith(f"1 of {len(rows)} exercises done")


def test_reset_clears_and_says_what(home):
    ex = make_exercise()
    progress.record(ex, done=True, result=CORRECT)
    assert progress.reset() == {"entries": 1, "done": 1}
    assert progress.load() == {}
    assert progress.reset() == {"entries": 0, "done": 0}


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"exercises": [1]}'])
def test_a_corrupt_progress_file_is_one_clear_line(home, shown, content):
    (home / "progress.json").write_text(content)
    with pytest.raises(LabError, match=r"progress\.json .*`python -m kafkalab progress --reset`"):
        progress.load()
    make_exercise().check(2)  # the check still shows its result, with a note instead of a traceback
    assert shown[-1].kind == CORRECT and "progress not saved" in shown[-1].notes[0]
    assert progress.reset() == {"entries": 0, "done": 0}
    assert progress.load() == {}


def test_show_progress_has_no_times(home, shown):
    from kafkalab.exercises import kafka101

    progress.record(kafka101.partition_of_key, done=True, result=CORRECT, when="2026-01-01T10:00:00Z")
    progress.show_progress("kafka101")
    view = shown[-1]
    text = view.text()
    assert text.startswith("Progress in kafka101: 1 of 3 exercises done")
    assert "done      partition_of_key" in text and "2026" not in text and "2026" not in view.html()
    progress.show_progress("no_such_chapter")
    assert shown[-1].kind == UNAVAILABLE and "no chapter 'no_such_chapter'" in shown[-1].message


# ------------------------------------------------------------------ the registry
def test_chapters_come_from_the_table_of_contents(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n"
                   "      - file: notebooks/07_sizing\n      - file: book/setup\n      - file: notebooks/01_kafka101\n")
    assert registry.chapters(toc) == ["sizing", "kafka101"]
    assert [ex.chapter for ex in registry.all_exercises(toc)][:1] == ["sizing"]
    assert registry.slug("notebooks/01_kafka101.ipynb") == "kafka101"


def test_every_exercise_module_is_a_chapter_of_the_book_and_complete():
    modules = {p.stem for p in (REPO / "kafkalab" / "exercises").glob("*.py")}
    machinery = {"__init__", "_lab", "answers", "core", "progress", "registry", "render", "scratch", "verdicts"}
    assert modules - machinery <= set(registry.chapters()), "an exercise module without a chapter in _toc.yml"
    keys = [ex.key for ex in registry.all_exercises()]
    assert len(keys) == len(set(keys))
    for ex in registry.all_exercises():
        assert ex.hints and ex.solution_code.strip() and ex.mistakes and ex.title and ex.expects, ex.key
        assert registry.get(ex.key) is ex


def test_importing_the_exercises_loads_no_kafka_client():
    code = ("import sys, kafkalab.exercises as e; e.all_exercises(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kafka', 'pandas', 'pyflink', 'fastavro')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ the command line
def test_cli_progress_works_before_any_check(home, capsys):
    assert cli.run_cli(["progress"]) == 0
    out = capsys.readouterr().out
    assert "kafka101" in out and " done " not in out and f"0 of {len(registry.all_exercises())} exercises done" in out
    assert str(home / "progress.json") in out


def test_cli_progress_after_checks_and_reset(home, capsys, shown):
    from kafkalab.exercises import sizing

    sizing.useful_consumers.check(25)
    sizing.network_out.check(12)
    assert cli.run_cli(["progress", "--chapter", "sizing"]) == 0
    lines = capsys.readouterr().out.splitlines()
    status = {line.split()[1]: line.split()[3] for line in lines[1:5]}
    assert status == {"click_partitions": "not", "useful_consumers": "done", "network_out": "not",
                      "sized_topic": "not"}
    assert lines[5] == "1 of 4 exercises done"
    assert cli.run_cli(["progress", "--reset"]) == 0
    assert capsys.readouterr().out.startswith("cleared 2 recorded exercise(s), 1 of them done, from ")
    assert cli.run_cli(["progress", "--reset"]) == 0
    assert capsys.readouterr().out.startswith("nothing to clear")


def test_cli_progress_unknown_chapter_is_one_line(home, capsys):
    assert cli.run_cli(["progress", "--chapter", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no chapter 'nope'" in err and "kafka101" in err


def test_a_stopped_cluster_gets_the_line_that_says_how_to_start_it(monkeypatch, home):
    """Nothing listens on port 1: a live check says how to start the cluster, in one line, without a traceback."""
    from kafkalab.exercises import kafka101

    monkeypatch.setenv("KAFKALAB_BROKER_PORT", "1")

    def send(producer, topic, payments):
        for payment in payments:
            producer.send(topic, key=payment["customer_id"], value=payment)

    for ex, answer in ((kafka101.records_per_partition, {0: 1}), (kafka101.keyed_payments, send)):
        result = ex.evaluate(answer)
        assert result.kind == UNAVAILABLE, result
        assert "no Kafka answers at 127.0.0.1:1" in result.message and "make up" in result.message
        assert result.text().startswith("Cannot check: ") and "\n" not in result.message
    assert kafka101.records_per_partition.evaluate(...).kind == NOT_ANSWERED  # a placeholder needs no cluster

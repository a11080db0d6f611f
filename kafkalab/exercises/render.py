"""How results, hints, solutions and progress look in a notebook: a small coloured box (``text/html``) and the
same words as plain text (``text/plain``).

Both forms are pure functions of the message: no ids, times, addresses or ports, so a stored output compares
equal on every run and machine (nbval compares HTML too). Styles are inline, because the book and JupyterLab
load no stylesheet of ours; the class names are only there for anyone who wants to restyle them.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from .verdicts import CORRECT, NOT_ANSWERED, NOT_YET, UNAVAILABLE, WRONG_TYPE

# kind -> (label, accent colour, background). Dark text on light backgrounds reads in either page theme.
_STYLE = {
    CORRECT: ("Correct", "#2e7d32", "#edf7ee"),
    NOT_YET: ("Not yet", "#d84315", "#fff4e5"),
    WRONG_TYPE: ("Not yet", "#d84315", "#fff4e5"),
    NOT_ANSWERED: ("Not answered yet", "#546e7a", "#eef2f4"),
    UNAVAILABLE: ("Cannot check", "#b71c1c", "#fdecea"),
    "hint": ("Hint", "#1565c0", "#e8f1fb"),
    "solution": ("Solution", "#6a1b9a", "#f5eef8"),
    "progress": ("Progress", "#37474f", "#f4f6f7"),
}

_BOX = ("border-left: 5px solid {accent}; background: {bg}; color: #1f2328; padding: 0.55em 0.9em; "
        "margin: 0.4em 0; border-radius: 4px; line-height: 1.45; font-size: 0.95em;")
_CODE_SPAN = "`([^`]+)`"


def inline(text: str) -> str:
    """Escape ``text`` for HTML and turn `backticked` parts into <code>."""
    parts = re.split(_CODE_SPAN, text)
    out = []
    for i, part in enumerate(parts):
        escaped = html.escape(part, quote=False)
        out.append(f"<code>{escaped}</code>" if i % 2 else escaped)
    return "".join(out)


def box(kind: str, body_html: str, label: str | None = None) -> str:
    """One styled box: a bold label in the accent colour, then ``body_html``."""
    default_label, accent, bg = _STYLE[kind]
    css_kind = kind.replace(" ", "-")
    return (f'<div class="kafkalab-exercise kafkalab-{css_kind}" style="{_BOX.format(accent=accent, bg=bg)}">'
            f'<strong style="color: {accent};">{html.escape(label or default_label)}</strong> {body_html}</div>')


def highlight(code: str) -> str:
    """Python code as HTML with inline colours (Pygments, no CSS classes), inside a <pre>."""
    from pygments import highlight as pyg_highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    body = pyg_highlight(code, PythonLexer(), HtmlFormatter(nowrap=True, noclasses=True, style="default"))
    return ('<pre style="margin: 0.4em 0 0; padding: 0.5em 0.7em; background: #ffffff; border: 1px solid #ddd; '
            f'border-radius: 3px; overflow-x: auto; line-height: 1.35;">{body.rstrip()}</pre>')


class _View:
    """Both forms of a view: IPython asks for the bundle, a plain prompt prints the text."""

    def text(self) -> str:
        raise NotImplementedError

    def html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": self.text(), "text/html": self.html()}

    def __repr__(self) -> str:
        return self.text()


@dataclass(frozen=True, repr=False)
class Result(_View):
    """What ``check`` shows: the kind of result, its message, and an optional second line (where to get help)."""

    kind: str
    message: str
    aside: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        return _STYLE[self.kind][0]

    @property
    def correct(self) -> bool:
        return self.kind == CORRECT

    def text(self) -> str:
        lines = [f"{self.label}: {self.message}"]
        lines += [line for line in (self.aside, *self.notes) if line]
        return "\n".join(lines)

    def html(self) -> str:
        extra = "".join(f'<br/><span style="font-size: 0.9em; color: #4a5560;">{inline(line)}</span>'
                        for line in (self.aside, *self.notes) if line)
        return box(self.kind, inline(self.message) + extra)


@dataclass(frozen=True, repr=False)
class Hint(_View):
    number: int
    total: int
    text_: str
    last_note: str = ""

    def text(self) -> str:
        return f"Hint {self.number} of {self.total}: {self.text_}" + (f"\n{self.last_note}" if self.last_note else "")

    def html(self) -> str:
        extra = f'<br/><span style="font-size: 0.9em; color: #4a5560;">{inline(self.last_note)}</span>' \
            if self.last_note else ""
        return box("hint", inline(self.text_) + extra, label=f"Hint {self.number} of {self.total}")


@dataclass(frozen=True, repr=False)
class Solution(_View):
    code: str
    note: str = ""

    def text(self) -> str:
        return "Solution:" + (f" {self.note}" if self.note else "") + "\n" + self.code

    def html(self) -> str:
        return box("solution", (inline(self.note) if self.note else "") + highlight(self.code))


@dataclass(frozen=True, repr=False)
class ProgressView(_View):
    """One chapter's exercises and their status (no times: the stored output must not change from run to run)."""

    chapter: str
    rows: tuple[tuple[str, str, str], ...]  # (exercise name, title, "done" | "not yet")

    def _done(self) -> int:
        return sum(status == "done" for _, _, status in self.rows)

    def text(self) -> str:
        width = max((len(name) for name, _, _ in self.rows), default=8)
        lines = [f"Progress in {self.chapter}: {self._done()} of {len(self.rows)} exercises done"]
        lines += [f"  {status:<8}  {name:<{width}}  {title}" for name, title, status in self.rows]
        lines.append("`python -m kafkalab progress` shows every chapter, with the time of each result.")
        return "\n".join(lines)

    def html(self) -> str:
        cell = "padding: 0.15em 0.8em 0.15em 0; text-align: left; vertical-align: top;"
        rows = "".join(
            f'<tr><td style="{cell} color: {"#2e7d32" if status == "done" else "#8a5a00"}; font-weight: 600; '
            f'white-space: nowrap;">'
            f'{status}</td><td style="{cell}"><code>{html.escape(name)}</code></td>'
            f'<td style="{cell}">{html.escape(title)}</td></tr>'
            for name, title, status in self.rows)
        table = f'<table style="border-collapse: collapse; margin: 0.3em 0; background: transparent;">{rows}</table>'
        body = (f"{self._done()} of {len(self.rows)} exercises of <code>{html.escape(self.chapter)}</code> done"
                f"{table}<span style=\"font-size: 0.9em; color: #4a5560;\">{inline(self.text().splitlines()[-1])}"
                "</span>")
        return box("progress", body)


def show(view) -> None:
    """Display ``view`` in a notebook (both forms; the front end picks HTML), or print its text elsewhere."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the course
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        from IPython.display import display

        display(view)
    else:
        print(view.text())

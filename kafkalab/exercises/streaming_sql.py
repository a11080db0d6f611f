"""Exercises of "Streaming SQL over changes" (notebooks/07_streaming_sql.ipynb).

The expected answers are computed here from the committed input file, ``data/connect/payments.jsonl``, with plain
Python and pandas, never with Flink, so a checker cannot agree with a wrong query by running the same engine.
Exercise 2 runs the learner's Flink SQL on a topic of its own filled from that file.
"""
from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import datetime, timezone

from ..config import REPO
from . import _lab
from .answers import need, type_name
from .core import Mistake, exercise
from .scratch import scratch_topic
from .verdicts import NotYet, WrongType

CHAPTER = "streaming_sql"
PAYMENTS_FILE = REPO / "data" / "connect" / "payments.jsonl"


def payments() -> list[dict]:
    """The chapter's payment events, as dicts, in file order."""
    return [json.loads(line) for line in PAYMENTS_FILE.read_text().splitlines() if line.strip()]


# ----------------------------------------------------------------------------------------------- Exercise 1


def sql_watermark(max_event_ms: int, delay_ms: int) -> int:
    """Flink SQL's bounded out-of-orderness: ``WATERMARK FOR ts AS ts - INTERVAL 'delay'`` gives ``max - delay``."""
    return max_event_ms - delay_ms


def first_firing_record(window_end_ms: int, delay_ms: int, rows: list[dict] | None = None) -> str:
    """The payment after which a Flink SQL window ending at ``window_end_ms`` fires (watermark >= end - 1)."""
    from ..errors import LabError

    newest = None
    for row in rows if rows is not None else payments():
        newest = row["ts_ms"] if newest is None else max(newest, row["ts_ms"])
        if sql_watermark(newest, delay_ms) >= window_end_ms - 1:
            return row["payment_id"]
    raise LabError("no record moves the watermark far enough; only the end of the bounded input fires it")


#: Exercise 1's window ends at 09:01 on the data's day; the payments table's watermark delay is 5 s.
EXERCISE_WINDOW_END_MS = 1_793_610_060_000
EXERCISE_DELAY_MS = 5_000


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def _firing_by_pandas(ctx: dict) -> str:
    """The reference, as the notebook's solution computes it (pandas, a running maximum)."""
    import pandas as pd

    rows = pd.read_json(PAYMENTS_FILE, lines=True)
    watermark = rows["ts_ms"].cummax() - EXERCISE_DELAY_MS
    return str(rows.loc[watermark >= EXERCISE_WINDOW_END_MS - 1, "payment_id"].iloc[0])


def _neighbour(step: int):
    def make(ctx: dict) -> str:
        ids = [r["payment_id"] for r in payments()]
        return ids[ids.index(_firing_by_pandas(ctx)) + step]
    return make


def _first_after_end(ctx: dict) -> str:
    return next(r["payment_id"] for r in payments() if r["ts_ms"] >= EXERCISE_WINDOW_END_MS)


@exercise(
    CHAPTER,
    title="When does the 09:00 window fire?",
    kind="concept",
    expects="a payment id such as 'P00042'",
    hints=[
        "The watermark is the largest event time seen so far minus 5 s; it moves after every record.",
        "The window [09:00, 09:01) fires when the watermark reaches its last millisecond, 09:00:59.999. Which "
        "record first lifts the running maximum to 09:01:04.999 or later?",
    ],
    solution='''
file_rows = pd.read_json(PAYMENTS_FILE, lines=True)
end_ms = int(pd.Timestamp("2026-11-02 09:01", tz="UTC").timestamp() * 1000)
running_watermark = file_rows["ts_ms"].cummax() - 5_000  # Flink SQL: the largest event time so far, minus the delay
firing_solution = file_rows.loc[running_watermark >= end_ms - 1, "payment_id"].iloc[0]
print(file_rows.loc[file_rows["payment_id"] == firing_solution, ["payment_id", "ts_ms"]].to_string(index=False))
''',
    reference=_firing_by_pandas,
    mistakes=[
        Mistake("the watermark trails the newest event time by 5 s", make=_first_after_end),
        Mistake("comes too early", make=_neighbour(-1)),
        Mistake("is too late", make=_neighbour(+1)),
        Mistake("is not a payment in data/connect/payments.jsonl", answer="P99999"),
        Mistake("answer with a payment id such as 'P00042' (a str)", answer=44, kind="wrong type"),
    ],
)
def firing_record(answer, *, window_end_ms: int = EXERCISE_WINDOW_END_MS, delay_ms: int = EXERCISE_DELAY_MS) -> str:
    """Exercise 1: which payment lets the window ending at ``window_end_ms`` fire, with a ``delay_ms`` watermark?"""
    need(answer, str, "answer with a payment id such as 'P00042' (a str)")
    rows = payments()
    ids = [r["payment_id"] for r in rows]
    if answer not in ids:
        raise NotYet(f"{answer!r} is not a payment in data/connect/payments.jsonl")
    expected = first_firing_record(window_end_ms, delay_ms, rows)
    first_after_end = next(r["payment_id"] for r in rows if r["ts_ms"] >= window_end_ms)
    if answer == expected:
        ts = next(r["ts_ms"] for r in rows if r["payment_id"] == expected)
        return (f"{expected} (stamped {_clock(ts)}) moves the watermark to {_clock(sql_watermark(ts, delay_ms))}, at "
                f"or past the window's last millisecond, {_clock(window_end_ms - 1)}")
    if answer == first_after_end:
        raise NotYet(f"{answer} is the first payment after the window's end, but the watermark trails the newest event "
                     f"time by {delay_ms / 1000:g} s: the window waits for a record stamped at least "
                     f"end + delay - 1 ms")
    if ids.index(answer) < ids.index(expected):
        raise NotYet(f"{answer} comes too early: after it the watermark is still before the window's end")
    raise NotYet(f"{answer} is too late: an earlier payment already moved the watermark past the end")


# ----------------------------------------------------------------------------------------------- Exercise 2

#: Exercise 2: windows of this many minutes.
WINDOW_MINUTES = 2


def window_counts_expected(minutes: int = WINDOW_MINUTES, by: str = "method") -> dict[tuple[datetime, str], int]:
    """(window start as naive UTC datetime, key) -> number of payments, over the whole file."""
    size = minutes * 60_000
    out: Counter = Counter()
    for r in payments():
        start = r["ts_ms"] - r["ts_ms"] % size
        out[(datetime.fromtimestamp(start / 1000, tz=timezone.utc).replace(tzinfo=None), r[by])] += 1
    return dict(sorted(out.items()))


_SOLUTION_SQL = """SELECT window_start, `method`, COUNT(*) AS payments
FROM TABLE(TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '2' MINUTE))
GROUP BY window_start, window_end, `method`"""

_T_ENV: list = []  # one Flink table environment per process, made on the first check


def _run_query(sql: str):
    """Run ``sql`` on a table ``payments`` over a scratch topic filled from the file; return the DataFrame."""
    flinksql = _lab.flinksql()
    if not _T_ENV:
        _T_ENV.append(flinksql.table_env(parallelism=1))
    t_env = _T_ENV[0]
    with scratch_topic(CHAPTER, "payments") as topic:
        with contextlib.closing(_lab.producer()) as p:
            for line in PAYMENTS_FILE.read_text().splitlines():
                p.send(topic, value=line.encode())
            p.flush()
        t_env.execute_sql("DROP TEMPORARY TABLE IF EXISTS payments")
        t_env.execute_sql(flinksql.events_table("payments", topic))
        try:
            return flinksql.collect(t_env, sql, timeout_s=60)
        except Exception as e:  # noqa: BLE001  Flink's answer to the learner's SQL, in one line
            from ..errors import LabError

            if isinstance(e, LabError):  # the query ran too long: LabError's line says why
                raise NotYet(str(e)) from None
            raise NotYet(f"Flink refused the query: {flinksql.error_line(e)}") from None


@exercise(
    CHAPTER,
    title="Count payments per method in 2-minute tumbling windows",
    kind="code",
    function=False,
    expects="the query, a str of Flink SQL",
    hints=[
        "A tumbling window is the table function `TABLE(TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '2' "
        "MINUTE))`: it adds window_start and window_end to every row.",
        "GROUP BY window_start, window_end and the method; `method` is a reserved word in Flink SQL, so write it in "
        "backquotes. Name the count with AS payments.",
    ],
    solution='''
window_sql_solution = """
SELECT window_start, `method`, COUNT(*) AS payments
FROM TABLE(TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '2' MINUTE))
GROUP BY window_start, window_end, `method`
"""
''',
    reference=lambda ctx: _SOLUTION_SQL,
    live=True,
    mistakes=[
        Mistake("2 minutes wide", answer=_SOLUTION_SQL.replace("'2' MINUTE", "'1' MINUTE")),
        Mistake("backquotes", answer=_SOLUTION_SQL.replace("`method`", "method")),
        Mistake("lacks the column(s) ['payments']", answer=_SOLUTION_SQL.replace(" AS payments", "")),
        Mistake("lacks the column(s) ['method']", answer=_SOLUTION_SQL.replace("`method`", "merchant")),
        Mistake("COUNT(*)", answer=_SOLUTION_SQL.replace("COUNT(*)", "SUM(amount)")),
        Mistake("window_start and window_end",
                answer=_SOLUTION_SQL.replace("GROUP BY window_start, window_end,", "GROUP BY window_start,")),
        Mistake("overlap", answer=_SOLUTION_SQL.replace("TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '2' MINUTE)",
                                                        "HOP(TABLE payments, DESCRIPTOR(ts), INTERVAL '1' MINUTE, "
                                                        "INTERVAL '2' MINUTE)")),
        Mistake("answer with the query as a str", answer=["SELECT 1"], kind="wrong type"),
    ],
)
def window_counts(sql) -> str:
    """Exercise 2: Flink SQL that counts the payments of table ``payments`` per ``method`` in 2-minute tumbling
    windows, with the columns window_start, method and payments. The checker runs it on a topic of its own."""
    if not isinstance(sql, str):
        raise WrongType(f"answer with the query as a str (the SQL text you would pass to flinksql.collect), not "
                        f"{type_name(sql)}")
    if not sql.strip().upper().startswith(("SELECT", "WITH")):
        raise NotYet("answer with a SELECT query (not INSERT, not CREATE): the checker runs it and reads its rows")
    df = _run_query(sql)
    if "op" in df.columns:
        raise NotYet("Flink sent updates (the result has -U/+U rows): it ran your GROUP BY as a running aggregate, "
                     "not as a window aggregation. GROUP BY both window_start and window_end (and the method)")
    missing = {"window_start", "method", "payments"} - set(df.columns)
    if missing:
        raise NotYet(f"the result lacks the column(s) {sorted(missing)}; name them with AS in the SELECT "
                     f"(it has {list(df.columns)})")
    expected = window_counts_expected()
    got: dict = {}
    for row in df.itertuples(index=False):
        start = row.window_start.to_pydatetime() if hasattr(row.window_start, "to_pydatetime") else row.window_start
        got.setdefault((start.replace(tzinfo=None), row.method), []).append(row.payments)
    fractional = [(k, v) for k, values in got.items() for v in values if float(v) != int(float(v))]
    if fractional:
        (start, key), value = fractional[0]
        raise NotYet(f"payments holds {value} for window {start:%H:%M}, {key}: that is not a number of payments. "
                     f"Count the rows with COUNT(*)")
    total = sum(n for values in got.values() for n in values)
    if any(len(v) > 1 for v in got.values()) or total > len(payments()):
        raise NotYet(f"your counts add up to {total} payments, more than the {len(payments())} in the file: your "
                     f"windows overlap (HOP or CUMULATE), so a payment is counted in several. A tumbling window puts "
                     f"each payment in exactly one window: TUMBLE")
    starts, want_starts = sorted({k[0] for k in got}), sorted({k[0] for k in expected})
    if starts != want_starts:
        raise NotYet(f"your windows start at {', '.join(s.strftime('%H:%M') for s in starts[:6])}; expected "
                     f"{', '.join(s.strftime('%H:%M') for s in want_starts)}: are they INTERVAL '2' MINUTE, "
                     f"2 minutes wide?")
    if set(got) != set(expected):
        raise NotYet(f"expected one row per (window, method), {len(expected)} rows; yours has {len(got)}, with "
                     f"keys such as {sorted({k[1] for k in got})[:4]}: GROUP BY window_start, window_end and "
                     f"`method`")
    for key, n in expected.items():
        value = got[key][0]
        if value != n:
            raise NotYet(f"window {key[0]:%H:%M}, {key[1]}: {value}, expected {n} payments: count with COUNT(*)")
    return (f"{len(expected)} rows, one per (2-minute window, method), the same counts as the file: "
            f"{sum(expected.values())} payments in all")



"""Checkers for "Integrating data with Kafka Connect, querying with SQL" (notebooks/06_connect.ipynb).

The expected answers are computed here from the committed input file, ``data/connect/payments.jsonl``, without
Kafka, Connect or Flink, so a checker never agrees with a wrong pipeline by running the same code.
"""
from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from ..config import REPO
from . import passed

PAYMENTS_FILE = REPO / "data" / "connect" / "payments.jsonl"


def payments() -> list[dict]:
    """The payment events the chapter's source connector copies, as dicts, in file order."""
    return [json.loads(line) for line in PAYMENTS_FILE.read_text().splitlines() if line.strip()]


def check_round_trip(name: str, path: str | Path) -> None:
    """Exercise 1: a FileStreamSink ``name`` copied ``connect-payments`` into ``path``, line for line."""
    from .. import connect

    assert isinstance(name, str) and name, "pass the connector's name, e.g. 'connect-copy-sink'"
    assert connect.exists(name), f"Connect has no connector named {name!r}: create it first (connect.fresh(...))"
    cfg = connect.config(name)
    assert cfg.get("connector.class") == connect.FILE_SINK, (
        f"{name} runs {cfg.get('connector.class')}; a topic-to-file copy needs the sink, {connect.FILE_SINK}")
    state, tasks = connect.states(name)
    assert state == "RUNNING" and tasks and all(t == "RUNNING" for t in tasks), (
        f"{name} is {state} with tasks {tasks}; a FAILED task's trace (connect.status(name)) says why")
    path = Path(path)
    assert path.exists(), f"{path} does not exist: is the sink's 'file' setting this path (an absolute one)?"
    got = path.read_text().splitlines()
    want = PAYMENTS_FILE.read_text().splitlines()
    if got and got[0].startswith("{payment_id=") or (got and "=" in got[0] and '":' not in got[0]):
        raise AssertionError("the lines look like Java maps ({payment_id=P00000, ...}): the sink parsed the JSON "
                             "with JsonConverter and printed the result. Copy the bytes as they are with "
                             f"value.converter = {connect.STRING_CONVERTER}")
    if got and got[0].startswith('"'):
        raise AssertionError("each line is a quoted JSON string: a JsonConverter wrote text as a JSON string "
                             "somewhere on the way; use StringConverter on both connectors")
    assert len(got) != 2 * len(want), (
        f"{path} holds {len(got)} lines, twice the input: FileStreamSink appends, so delete the file before "
        f"creating the connector again")
    assert len(got) == len(want), (
        f"{path} holds {len(got)} lines, the input {len(want)}: wait for the sink to catch up "
        f"(connect.wait_for_lines) or check that 'topics' is connect-payments")
    assert got == want, "same number of lines, different content: is the sink reading connect-payments?"
    passed(f"{name} wrote all {len(want)} payments back to a file, byte for byte as the source read them")


def sql_watermark(max_event_ms: int, delay_ms: int) -> int:
    """Flink SQL's bounded out-of-orderness: ``WATERMARK FOR ts AS ts - INTERVAL 'delay'`` gives ``max - delay``."""
    return max_event_ms - delay_ms


def first_firing_record(window_end_ms: int, delay_ms: int, rows: list[dict] | None = None) -> str:
    """The payment after which a Flink SQL window ending at ``window_end_ms`` fires (watermark >= end - 1)."""
    newest = None
    for row in rows if rows is not None else payments():
        newest = row["ts_ms"] if newest is None else max(newest, row["ts_ms"])
        if sql_watermark(newest, delay_ms) >= window_end_ms - 1:
            return row["payment_id"]
    raise ValueError("no record moves the watermark far enough; only the end of the bounded input fires it")


#: Exercise 2's window ends at 09:01 on the data's day; the payments table's watermark delay is 5 s.
EXERCISE_WINDOW_END_MS = 1_793_610_060_000
EXERCISE_DELAY_MS = 5_000


def check_firing_record(answer: str, window_end_ms: int = EXERCISE_WINDOW_END_MS,
                        delay_ms: int = EXERCISE_DELAY_MS) -> None:
    """Exercise 2: which payment lets the window ending at ``window_end_ms`` fire, with a ``delay_ms`` watermark?"""
    assert answer is not None, "replace None with a payment id such as 'P00042'"
    assert isinstance(answer, str), "answer with a payment id such as 'P00042' (a str)"
    rows = payments()
    ids = [r["payment_id"] for r in rows]
    assert answer in ids, f"{answer!r} is not a payment in data/connect/payments.jsonl"
    expected = first_firing_record(window_end_ms, delay_ms, rows)
    first_after_end = next(r["payment_id"] for r in rows if r["ts_ms"] >= window_end_ms)
    if answer == expected:
        ts = next(r["ts_ms"] for r in rows if r["payment_id"] == expected)
        passed(f"{expected} (stamped {_clock(ts)}) moves the watermark to {_clock(sql_watermark(ts, delay_ms))}, "
               f"at or past the window's last millisecond, {_clock(window_end_ms - 1)}")
        return
    assert answer != first_after_end, (
        f"{answer} is the first payment after the window's end, but the watermark trails the newest event time "
        f"by {delay_ms / 1000:g} s: the window waits for a record stamped at least end + delay - 1 ms")
    pos, want = ids.index(answer), ids.index(expected)
    assert pos > want, f"{answer} comes too early: after it the watermark is still before the window's end"
    raise AssertionError(f"{answer} is too late: an earlier payment already moved the watermark past the end")


def _clock(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def method_windows(window_ms: int = 120_000) -> dict[tuple[datetime, str], tuple[int, float]]:
    """(window start as naive UTC datetime, method) -> (payments, total) over the whole file."""
    acc: dict[tuple[datetime, str], list] = defaultdict(lambda: [0, []])
    for r in payments():
        start = r["ts_ms"] - r["ts_ms"] % window_ms
        key = (datetime.fromtimestamp(start / 1000, tz=timezone.utc).replace(tzinfo=None), r["method"])
        acc[key][0] += 1
        acc[key][1].append(r["amount"])
    return {k: (n, round(math.fsum(v), 2)) for k, (n, v) in sorted(acc.items())}


def check_method_windows(df) -> None:
    """Exercise 3: payments and total per ``method`` in 2-minute tumbling windows, as a DataFrame."""
    assert df is not None, "replace None with the DataFrame that flinksql.collect(...) returned"
    need = {"window_start", "method", "payments", "total"}
    missing = need - set(df.columns)
    assert not missing, f"the result lacks the column(s) {sorted(missing)}; name them with AS in the SELECT"
    expected = method_windows()
    got = {}
    for row in df.itertuples(index=False):
        start = row.window_start.to_pydatetime() if hasattr(row.window_start, "to_pydatetime") else row.window_start
        got[(start.replace(tzinfo=None), row.method)] = (int(row.payments), float(row.total))
    starts = sorted({k[0] for k in got})
    want_starts = sorted({k[0] for k in expected})
    if len(starts) != len(want_starts):
        raise AssertionError(f"your result has {len(starts)} window start(s), expected {len(want_starts)} "
                             f"({', '.join(s.strftime('%H:%M') for s in want_starts)}): are the windows "
                             f"INTERVAL '2' MINUTE wide?")
    assert set(got) == set(expected), (
        f"expected one row per (window, method), {len(expected)} rows; you have {len(got)}: "
        f"GROUP BY window_start, window_end and `method`")
    for key, (n, total) in expected.items():
        g_n, g_total = got[key]
        assert g_n == n, f"window {key[0]:%H:%M}, {key[1]}: {g_n} payments, expected {n}. COUNT(*), not a sum"
        assert abs(g_total - total) < 0.006, f"window {key[0]:%H:%M}, {key[1]}: total {g_total}, expected {total}"
    passed(f"{len(expected)} rows: every (2-minute window, method) pair with its count and total")

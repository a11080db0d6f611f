"""Exercises of "Integrating data with Kafka Connect, querying with SQL" (notebooks/06_connect.ipynb).

The expected answers are computed here from the committed input file, ``data/connect/payments.jsonl``, without
Kafka, Connect or Flink, so a checker never agrees with a wrong pipeline by running the same code.
"""
from __future__ import annotations

import contextlib
import json
import math
import shutil
import tempfile
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..config import REPO
from . import _lab
from .answers import need, type_name
from .core import Mistake, exercise
from .scratch import scratch_topic, unique_name
from .verdicts import NotYet, WrongType

CHAPTER = "connect"
PAYMENTS_FILE = REPO / "data" / "connect" / "payments.jsonl"
TOPIC = "connect-payments"
_FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
_STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"


def payments() -> list[dict]:
    """The payment events the chapter's source connector copies, as dicts, in file order."""
    return [json.loads(line) for line in PAYMENTS_FILE.read_text().splitlines() if line.strip()]


# ----------------------------------------------------------------------------------------------- Exercise 1


def _copy_config(topic: str, file: Path, converter: str | None = _STRING_CONVERTER) -> dict:
    config = {"connector.class": _FILE_SINK, "tasks.max": "1", "topics": topic, "file": str(file)}
    if converter:
        config["value.converter"] = converter
    return config


@contextlib.contextmanager
def _payments_topic() -> Iterator[dict]:
    """A scratch topic holding the input file's lines as they are (what the chapter's source connector writes),
    and a scratch folder for the sink's output."""
    folder = Path(tempfile.mkdtemp(prefix="kafkalab-connect-exercise-"))
    context: dict = {"_dir": folder, "_topics": []}  # _topics: extra topics a mistake creates
    try:
        with scratch_topic(CHAPTER, "payments") as topic:
            with contextlib.closing(_lab.producer()) as p:
                for line in PAYMENTS_FILE.read_text().splitlines():
                    p.send(topic, value=line.encode())
                p.flush()
            context["_topic"] = topic
            yield context
    finally:
        for extra in context["_topics"]:
            with contextlib.suppress(Exception):
                _lab.delete_topic(extra)
        shutil.rmtree(folder, ignore_errors=True)


def _fresh_file(ctx: dict, name: str) -> Path:
    path = ctx["_dir"] / name
    path.unlink(missing_ok=True)
    return path


def _appended_twice(ctx: dict) -> dict:
    path = _fresh_file(ctx, "again.jsonl")
    path.write_text(PAYMENTS_FILE.read_text())  # what an earlier run of the same sink left in the file
    return _copy_config(ctx["_topic"], path)


def _quoted_topic(ctx: dict) -> dict:
    """A topic whose values are JSON strings (as a JsonConverter writes text), copied with the right sink."""
    topic = unique_name(CHAPTER, "quoted")
    _lab.recreate_topic(topic)
    ctx["_topics"].append(topic)  # the rehearsal deletes it
    with contextlib.closing(_lab.producer()) as p:
        for line in PAYMENTS_FILE.read_text().splitlines():
            p.send(topic, value=json.dumps(line).encode())
        p.flush()
    return _copy_config(topic, _fresh_file(ctx, "quoted.jsonl"))


def _run_sink(config: dict, want_lines: int, timeout_s: float = 30) -> list[str]:
    """Run the learner's sink under a name of its own until its file has ``want_lines`` lines (or time is up);
    delete the connector and its consumer group afterwards. Returns the file's lines."""
    from ..errors import LabError
    from ..wait import wait_until

    connect = _lab.connect()
    connect.worker()  # a stopped worker is a LabError with the fix ("cannot check"), not the learner's mistake
    name = unique_name(CHAPTER, "copy-sink")
    path = Path(config["file"])
    try:
        try:
            connect.fresh(name, config)
        except LabError as e:
            raise NotYet(f"Connect did not run your configuration: {e}") from None

        def enough() -> bool:
            state, tasks = connect.states(name)
            if state == "FAILED" or "FAILED" in tasks:
                raise NotYet(f"the sink is {state} with tasks {tasks}; a FAILED task's trace "
                             f"(connect.status(name)) says why")
            return path.exists() and len(path.read_text().splitlines()) >= want_lines

        with contextlib.suppress(LabError):  # too few lines after the wait: the checks below say what is missing
            wait_until(enough, timeout_s=timeout_s, what="the sink's file reaching the input's length")
        return path.read_text().splitlines() if path.exists() else []
    finally:
        with contextlib.suppress(Exception):
            connect.delete(name)
        with contextlib.suppress(Exception):
            _lab.delete_group(f"connect-{name}", timeout_s=5)


@exercise(
    CHAPTER,
    title="Copy a topic back into a file, line for line",
    kind="code",
    function=False,
    expects="the sink connector's configuration, a dict like sink_config above",
    hints=[
        "A topic-to-file copy is a sink: `connector.class` is `connect.FILE_SINK`, it reads `topics` and writes "
        "`file` (an absolute path).",
        "The worker's default converter is JsonConverter, which parses each value and prints what it parsed. "
        "`value.converter = connect.STRING_CONVERTER` hands the bytes over as they are.",
        "FileStreamSink appends: delete the output file before running the sink again.",
    ],
    solution='''
copy_file = OUT / "copy.jsonl"
copy_file.unlink(missing_ok=True)  # the file sink appends
copy_config_solution = {
    "connector.class": connect.FILE_SINK,
    "tasks.max": "1",
    "topics": "connect-payments",
    "file": str(copy_file),
    "value.converter": connect.STRING_CONVERTER,
}
''',
    reference=lambda ctx: _copy_config(ctx["_topic"], _fresh_file(ctx, "copy.jsonl")),
    rehearsal=_payments_topic,
    live=True,
    services=("connect",),
    mistakes=[
        Mistake("a topic-to-file copy needs the sink",
                make=lambda ctx: {**_copy_config(ctx["_topic"], _fresh_file(ctx, "x.jsonl")),
                                  "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector"}),
        Mistake("the lines look like Java maps",
                make=lambda ctx: _copy_config(ctx["_topic"], _fresh_file(ctx, "maps.jsonl"), converter=None)),
        Mistake("twice the input: FileStreamSink appends", make=_appended_twice),
        Mistake("each line is a quoted JSON string", make=_quoted_topic),
        Mistake("give the sink a 'file'",
                make=lambda ctx: {k: v for k, v in _copy_config(ctx["_topic"], Path("/x")).items() if k != "file"}),
        Mistake("is not an absolute path", make=lambda ctx: _copy_config(ctx["_topic"], Path("copy.jsonl"))),
        Mistake("answer with the connector's configuration", answer="connect-copy-sink", kind="wrong type"),
    ],
)
def round_trip(config) -> str:
    """Exercise 1: a FileStreamSink configuration that copies ``connect-payments`` into a file, line for line.

    The checker runs it under a connector name of its own (deleted afterwards) and compares the file it writes
    with ``data/connect/payments.jsonl``.
    """
    need(config, dict, "answer with the connector's configuration, a dict like sink_config above")
    cls = config.get("connector.class")
    if cls != _FILE_SINK:
        raise NotYet(f"the configuration runs {cls}; a topic-to-file copy needs the sink, {_FILE_SINK}")
    if not config.get("file"):
        raise NotYet("give the sink a 'file': the absolute path of the file it writes")
    path = Path(str(config["file"]))
    if not path.is_absolute():
        raise NotYet(f"{path} is not an absolute path: the worker resolves paths itself, so give an absolute one "
                     f"(str(OUT / 'copy.jsonl'))")
    want = PAYMENTS_FILE.read_text().splitlines()
    got = _run_sink(config, len(want))
    if not path.exists():
        raise NotYet(f"{path} does not exist: is the sink's 'file' setting this path (an absolute one)?")
    if got and got[0].startswith("{payment_id=") or (got and "=" in got[0] and '":' not in got[0]):
        raise NotYet("the lines look like Java maps ({payment_id=P00000, ...}): the sink parsed the JSON with "
                     "JsonConverter and printed the result. Copy the bytes as they are with "
                     f"value.converter = {_STRING_CONVERTER}")
    if got and got[0].startswith('"'):
        raise NotYet("each line is a quoted JSON string: a JsonConverter wrote text as a JSON string somewhere on "
                     "the way; use StringConverter on both connectors")
    if len(got) == 2 * len(want):
        raise NotYet(f"{path} holds {len(got)} lines, twice the input: FileStreamSink appends, so delete the file "
                     f"before creating the connector again")
    if len(got) != len(want):
        raise NotYet(f"{path} holds {len(got)} lines, the input {len(want)}: wait for the sink to catch up "
                     f"(connect.wait_for_lines) or check that 'topics' is connect-payments")
    if got != want:
        raise NotYet("same number of lines, different content: is the sink reading connect-payments?")
    return (f"the sink wrote all {len(want)} payments back to a file, byte for byte as the source read them: "
            f"StringConverter hands the bytes through unchanged")


# ----------------------------------------------------------------------------------------------- Exercise 2


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


#: Exercise 2's window ends at 09:01 on the data's day; the payments table's watermark delay is 5 s.
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
    """Exercise 2: which payment lets the window ending at ``window_end_ms`` fire, with a ``delay_ms`` watermark?"""
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


# ----------------------------------------------------------------------------------------------- Exercise 3


def method_windows(window_ms: int = 120_000) -> dict[tuple[datetime, str], tuple[int, float]]:
    """(window start as naive UTC datetime, method) -> (payments, total) over the whole file."""
    acc: dict[tuple[datetime, str], list] = defaultdict(lambda: [0, []])
    for r in payments():
        start = r["ts_ms"] - r["ts_ms"] % window_ms
        key = (datetime.fromtimestamp(start / 1000, tz=timezone.utc).replace(tzinfo=None), r["method"])
        acc[key][0] += 1
        acc[key][1].append(r["amount"])
    return {k: (n, round(math.fsum(v), 2)) for k, (n, v) in sorted(acc.items())}


def _windows_by_pandas(ctx: dict | None = None, minutes: int = 2, by: str = "method", count: str = "size"):
    """The reference: the same table computed with pandas from the file (what Flink SQL must return)."""
    import pandas as pd

    rows = pd.read_json(PAYMENTS_FILE, lines=True)
    rows["window_start"] = pd.to_datetime(rows["ts_ms"], unit="ms").dt.floor(f"{minutes}min")
    grouped = rows.groupby(["window_start", by])["amount"]
    out = grouped.agg(payments=count, total="sum").reset_index()
    out["total"] = out["total"].round(2)
    return out.rename(columns={by: "method"}) if by != "method" else out


@exercise(
    CHAPTER,
    title="Count and sum payments per method in 2-minute windows",
    kind="code",
    function=False,
    expects="the DataFrame that flinksql.collect(...) returned",
    hints=[
        "A tumbling window is the table function `TABLE(TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '2' MINUTE))`.",
        "Group by `window_start, window_end` and the method; `method` is a reserved word in Flink SQL, so write "
        "it in backquotes. Name the columns with AS: payments, total.",
    ],
    solution='''
method_windows_solution = flinksql.collect(t_env, """
SELECT window_start, `method`, COUNT(*) AS payments, ROUND(SUM(amount), 2) AS total
FROM TABLE(TUMBLE(TABLE payments, DESCRIPTOR(ts), INTERVAL '2' MINUTE))
GROUP BY window_start, window_end, `method`
""").sort_values(["window_start", "method"], ignore_index=True)
''',
    reference=lambda ctx: _windows_by_pandas(),
    mistakes=[
        Mistake("are the windows INTERVAL '2' MINUTE wide?", make=lambda ctx: _windows_by_pandas(minutes=1)),
        Mistake("lacks the column(s) ['total']", make=lambda ctx: _windows_by_pandas().drop(columns="total")),
        Mistake("GROUP BY window_start, window_end and `method`",
                make=lambda ctx: _windows_by_pandas(by="merchant")),
        Mistake("COUNT(*), not a sum", make=lambda ctx: _windows_by_pandas(count="sum")),
        Mistake("total", make=lambda ctx: _windows_by_pandas().assign(total=lambda d: d["total"] * 100)),
        Mistake("answer with the DataFrame", answer=[("09:00", "card", 10, 100.0)], kind="wrong type"),
    ],
)
def windows_per_method(df) -> str:
    """Exercise 3: payments and total per ``method`` in 2-minute tumbling windows, as a DataFrame."""
    if not hasattr(df, "columns") or not hasattr(df, "itertuples"):
        raise WrongType(f"answer with the DataFrame that flinksql.collect(...) returned, not {type_name(df)}")
    need_cols = {"window_start", "method", "payments", "total"}
    missing = need_cols - set(df.columns)
    if missing:
        raise NotYet(f"the result lacks the column(s) {sorted(missing)}; name them with AS in the SELECT")
    expected = method_windows()
    got = {}
    for row in df.itertuples(index=False):
        start = row.window_start.to_pydatetime() if hasattr(row.window_start, "to_pydatetime") else row.window_start
        got[(start.replace(tzinfo=None), row.method)] = (int(row.payments), float(row.total))
    starts = sorted({k[0] for k in got})
    want_starts = sorted({k[0] for k in expected})
    if len(starts) != len(want_starts):
        raise NotYet(f"your result has {len(starts)} window start(s), expected {len(want_starts)} "
                     f"({', '.join(s.strftime('%H:%M') for s in want_starts)}): are the windows INTERVAL '2' MINUTE "
                     f"wide?")
    if set(got) != set(expected):
        raise NotYet(f"expected one row per (window, method), {len(expected)} rows; you have {len(got)}: GROUP BY "
                     f"window_start, window_end and `method`")
    for key, (n, total) in expected.items():
        g_n, g_total = got[key]
        if g_n != n:
            raise NotYet(f"window {key[0]:%H:%M}, {key[1]}: {g_n} payments, expected {n}. COUNT(*), not a sum")
        if abs(g_total - total) >= 0.006:
            raise NotYet(f"window {key[0]:%H:%M}, {key[1]}: total {g_total}, expected {total}")
    return f"{len(expected)} rows: every (2-minute window, method) pair with its count and total"

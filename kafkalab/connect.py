"""Kafka Connect's REST API in small functions (Chapter 5: Integrating data with Kafka Connect, querying with SQL).

A Connect worker has no client library: everything (create, list, status, pause, resume, stop, delete, offsets)
is an HTTP call to its REST API, port 8083 by default. Each function here is one or two such calls, named after
what it does; a refused call raises :class:`~kafkalab.errors.LabError` carrying Connect's own message.

Re-runs: a source connector stores how far it has read (for a file: the byte position) in the worker's offsets
topic under the *connector's name*, and a sink connector commits consumer-group offsets. Both survive deleting
the connector, so a connector created again under the same name carries on where the old one stopped and, for
an unchanged file, copies nothing. :func:`fresh` creates a connector stopped, wipes its offsets with
``DELETE /connectors/<name>/offsets`` (Kafka 3.6+; the connector must be STOPPED) and only then starts it.
"""
from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import quote

from .errors import LabError

FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
FILE_SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
#: Target states a connector can be created in or moved to.
STATES = ("RUNNING", "PAUSED", "STOPPED")


def url() -> str:
    """The REST address of the Connect worker (``KAFKALAB_CONNECT_PORT`` changes the port)."""
    from .cluster.services import service

    return service("connect").url


def call(method: str, path: str, body: dict | None = None, timeout: float = 30) -> object:
    """One REST call; returns the decoded body, raises LabError (with Connect's message) on a 4xx/5xx answer."""
    from .cluster.services import http

    try:
        status, answer = http(method, url() + path, body, timeout=timeout)
    except OSError as e:
        raise LabError(f"Kafka Connect does not answer at {url()} ({e}); start it with "
                       f"`python -m kafkalab up --with connect`") from None
    if status >= 400:
        message = answer.get("message") if isinstance(answer, dict) else answer
        raise LabError(f"Connect refused {method} {path}: {status} {message}")
    return answer


def _path(name: str, suffix: str = "") -> str:
    return f"/connectors/{quote(name, safe='')}{suffix}"


# -- the worker
def worker() -> dict:
    """Version, commit and Kafka cluster id of the worker (``GET /``)."""
    return call("GET", "/")


def plugins(kind: str | None = None) -> list[str]:
    """Class names of the installed connector plugins; ``kind="transformation"`` etc. lists the other plugin types."""
    path = "/connector-plugins" if kind is None else "/connector-plugins?connectorsOnly=false"
    found = call("GET", path)
    return sorted(p["class"] for p in found if kind is None or p["type"] == kind)


# -- connectors
def connectors() -> list[str]:
    """Names of the connectors the Connect cluster runs (``GET /connectors``), sorted."""
    return sorted(call("GET", "/connectors"))


def exists(name: str) -> bool:
    return name in call("GET", "/connectors")


def create(name: str, config: dict, initial_state: str = "RUNNING") -> dict:
    """Create a connector (``POST /connectors``), optionally ``PAUSED`` or ``STOPPED`` from the start."""
    if initial_state not in STATES:
        raise LabError(f"initial_state {initial_state!r}: choose one of {', '.join(STATES)}")
    body = {"name": name, "config": {k: str(v) for k, v in config.items()}, "initial_state": initial_state}
    return call("POST", "/connectors", body)


def validate(config: dict, name: str = "validate-only") -> list[str]:
    """Ask the worker to check a connector config without creating anything
    (``PUT /connector-plugins/<class>/config/validate``); returns one ``"setting: problem"`` line per error."""
    cls = config.get("connector.class")
    if not cls:
        return ["connector.class: missing; name the connector's Java class"]
    answer = call("PUT", f"/connector-plugins/{quote(str(cls), safe='')}/config/validate",
                  {"name": name, **{k: str(v) for k, v in config.items()}})
    values = [c.get("value") or {} for c in answer.get("configs", [])]
    return [f"{v['name']}: {' '.join(v['errors'])}" for v in values if v.get("errors")]


def check_config(config: dict, name: str = "validate-only") -> None:
    """Raise one LabError line naming every invalid setting of ``config`` (Connect's own words), else return."""
    problems = validate(config, name)
    if problems:
        raise LabError(f"invalid config for {config.get('connector.class', '?')}: {'; '.join(problems)}; "
                       f"fix these settings and create the connector again")


def failure(name: str, s: dict | None = None) -> str | None:
    """One line for a connector whose connector or task FAILED (exception and root cause from the REST status,
    ``s`` if already fetched, and the fix), or None if nothing failed."""
    s = s or status(name)
    failed = [("connector", s["connector"])] if s["connector"]["state"] == "FAILED" else []
    failed += [(f"task {t['id']}", t) for t in s.get("tasks", []) if t["state"] == "FAILED"]
    if not failed:
        return None
    what, st = failed[0]
    lines = causes(st.get("trace", ""))
    cause = f" (root cause: {lines[-1].removeprefix('Caused by: ')})" if len(lines) > 1 else ""
    return (f"{name} {what} FAILED: {lines[0]}{cause}; fix the cause (a config change: PUT "
            f"/connectors/{name}/config), then restart it (POST /connectors/{name}/restart?includeTasks=true)")


def config(name: str) -> dict:
    """The configuration the worker stored for ``name``."""
    return call("GET", _path(name, "/config"))


def status(name: str) -> dict:
    """``GET /connectors/<name>/status``: the connector's state and each task's (with a ``trace`` if FAILED)."""
    return call("GET", _path(name, "/status"))


def states(name: str) -> tuple[str, list[str]]:
    """(connector state, [task states]) in one call."""
    s = status(name)
    return s["connector"]["state"], [t["state"] for t in s.get("tasks", [])]


def summary(name: str) -> str:
    """One line: the connector, its type, its state and its tasks' states."""
    s = status(name)
    tasks = ", ".join(f"task {t['id']} {t['state']}" for t in s.get("tasks", [])) or "no tasks"
    return f"{name} ({s.get('type', '?')}): {s['connector']['state']}; {tasks}"


def pause(name: str) -> None:
    """Pause: tasks stay assigned but stop moving data (``PUT .../pause``)."""
    call("PUT", _path(name, "/pause"))


def resume(name: str) -> None:
    """Resume a PAUSED or STOPPED connector (``PUT .../resume``)."""
    call("PUT", _path(name, "/resume"))


def stop(name: str) -> None:
    """Stop: tasks are shut down and release their resources; config and offsets stay (``PUT .../stop``)."""
    call("PUT", _path(name, "/stop"))


def restart(name: str, failed_only: bool = True) -> None:
    """Restart the connector and its (failed) tasks (``POST .../restart``)."""
    flag = "true" if failed_only else "false"
    call("POST", _path(name, f"/restart?includeTasks=true&onlyFailed={flag}"))


def delete(name: str, missing_ok: bool = True) -> bool:
    """Delete a connector and wait until it is gone; True if it existed. Its offsets are *not* deleted."""
    if missing_ok and not exists(name):
        return False
    call("DELETE", _path(name))
    deadline = time.monotonic() + 30
    while exists(name):
        if time.monotonic() > deadline:
            raise LabError(f"connector {name} is still listed 30 s after DELETE; see the worker log")
        time.sleep(0.2)
    return True


# -- offsets
def offsets(name: str) -> list[dict]:
    """The connector's offsets (``GET .../offsets``): for a file source, ``{"position": bytes read}`` per file."""
    return call("GET", _path(name, "/offsets"))["offsets"]


def file_positions(name: str, relative_to: str | Path | None = None) -> dict[str, int]:
    """A file source's offsets as {file: bytes read}; file names relative to ``relative_to`` when given."""
    out = {}
    for entry in offsets(name):
        filename = entry.get("partition", {}).get("filename", "?")
        if relative_to is not None:
            try:
                filename = str(Path(filename).relative_to(relative_to))
            except ValueError:
                pass
        out[filename] = int(entry.get("offset", {}).get("position", 0))
    return out


def reset_offsets(name: str, timeout_s: float = 30) -> str:
    """Stop the connector (offsets can only be changed then) and delete its offsets; returns Connect's message."""
    if states(name)[0] != "STOPPED":
        stop(name)
        wait_for(name, "STOPPED", timeout_s)
    return call("DELETE", _path(name, "/offsets"))["message"]


# -- waiting
def wait_for(name: str, state: str = "RUNNING", timeout_s: float = 30) -> dict:
    """Wait until the connector and all its tasks are in ``state``; raise LabError with the trace if one FAILED."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        try:
            last = status(name)
        except LabError:  # just created: the status may not be there yet
            last = None
        if last is not None:
            conn = last["connector"]["state"]
            tasks = [t["state"] for t in last.get("tasks", [])]
            failed = [t for t in last.get("tasks", []) if t["state"] == "FAILED"]
            if conn == "FAILED" or failed:
                trace = (failed[0] if failed else last["connector"]).get("trace", "")
                raise LabError(f"connector {name} FAILED: {first_line(trace)}")
            # a STOPPED connector has no tasks, and one paused straight from STOPPED has none until it resumes
            tasks_ok = all(t == state for t in tasks) and (bool(tasks) or state != "RUNNING")
            if conn == state and tasks_ok:
                return last
        if time.monotonic() > deadline:
            seen = "no status yet" if last is None else summary(name)
            raise LabError(f"connector {name} did not reach {state} within {timeout_s:.0f} s ({seen})")
        time.sleep(0.2)


def wait_for_failure(name: str, timeout_s: float = 30) -> dict:
    """Wait until a task of ``name`` has FAILED and return that task's status (with its ``trace``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            s = status(name)
        except LabError:  # just created: no status yet
            time.sleep(0.2)
            continue
        failed = [t for t in s.get("tasks", []) if t["state"] == "FAILED"]
        if failed:
            return failed[0]
        if s["connector"]["state"] == "FAILED":
            return s["connector"]
        time.sleep(0.2)
    raise LabError(f"connector {name} did not fail within {timeout_s:.0f} s ({summary(name)})")


def first_line(trace: str) -> str:
    """The exception line of a Java stack trace (what a FAILED status's ``trace`` starts with)."""
    return trace.strip().splitlines()[0] if trace.strip() else "(no trace)"


def causes(trace: str) -> list[str]:
    """The exception line and every ``Caused by:`` line of a Java stack trace, without the stack frames."""
    lines = trace.strip().splitlines()
    return lines[:1] + [ln for ln in lines[1:] if ln.startswith("Caused by:")]


def fresh(name: str, config: dict, state: str = "RUNNING", timeout_s: float = 30) -> dict:
    """(Re)create ``name`` with no remembered offsets, then bring it to ``state``; returns its status.

    Delete it if it exists, create it STOPPED, delete its offsets, then resume (or pause) it. A re-run of a
    notebook then copies the same records as the first run.
    """
    delete(name)
    create(name, config, initial_state="STOPPED")
    wait_for(name, "STOPPED", timeout_s)
    reset_offsets(name, timeout_s)
    if state == "STOPPED":
        return status(name)
    if state == "PAUSED":
        pause(name)
    else:
        resume(name)
    return wait_for(name, state, timeout_s)


def wait_for_source_position(name: str, path: str | Path, timeout_s: float = 30) -> int:
    """Wait until a file source's committed offset (its byte position) reaches the size of ``path``."""
    size = Path(path).stat().st_size
    deadline = time.monotonic() + timeout_s
    position = 0
    while time.monotonic() < deadline:
        for entry in offsets(name):
            position = int(entry.get("offset", {}).get("position", 0))
        if position >= size:
            return position
        time.sleep(0.3)
    raise LabError(f"{name} has committed position {position} of {size} bytes after {timeout_s:.0f} s; "
                   f"is it RUNNING ({summary(name)})?")


def wait_for_lines(path: str | Path, n: int, timeout_s: float = 30) -> list[str]:
    """Wait until the text file at ``path`` (a file sink's output) has at least ``n`` lines; return them."""
    path = Path(path)
    deadline = time.monotonic() + timeout_s
    lines: list[str] = []
    while time.monotonic() < deadline:
        if path.exists():
            lines = path.read_text().splitlines()
            if len(lines) >= n:
                return lines
        time.sleep(0.3)
    raise LabError(f"{path} has {len(lines)} of {n} lines after {timeout_s:.0f} s; is the sink RUNNING?")


def read_values(topic: str, limit: int | None = None, timeout_s: float = 15) -> list[str]:
    """The values of ``topic``'s records as text, up to its current end, partition by partition (no group)."""
    out = [None if r.value is None else r.value.decode() for r in read_records(topic, timeout_s)]
    return out if limit is None else out[:limit]


def read_records(topic: str, timeout_s: float = 15) -> list:
    """``topic``'s records (kafka-python ``ConsumerRecord``: key, value, headers, ...) up to its current end,
    partition by partition (no group)."""
    import contextlib

    from kafka import TopicPartition

    from .clients import consumer

    out: list = []
    with contextlib.closing(consumer(enable_auto_commit=False, group_id=None)) as c:
        parts = sorted(c.partitions_for_topic(topic) or [])
        if not parts:
            raise LabError(f"topic {topic} does not exist (or has no partitions yet)")
        tps = [TopicPartition(topic, p) for p in parts]
        ends = c.end_offsets(tps)
        c.assign(tps)
        c.seek_to_beginning(*tps)
        by_part: dict[int, list] = {p: [] for p in parts}
        deadline = time.monotonic() + timeout_s
        while any(c.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise LabError(f"could not read {topic} to its end within {timeout_s:.0f} s")
            for tp, records in c.poll(timeout_ms=500).items():
                by_part[tp.partition].extend(r for r in records if r.offset < ends[tp])
    for p in parts:
        out.extend(by_part[p])
    return out

"""Kafka Connect's REST API in small functions (Chapter 6, Kafka Connect).

A Connect worker has no client library: everything (create, list, status, validate, pause, resume, stop, restart,
delete, offsets) is an HTTP call to its REST API, port 8083 by default. Each function here is one or two such calls,
named after what it does; a refused call raises :class:`~kafkalab.errors.LabError` carrying Connect's own message.

Re-runs: a source connector stores how far it has read (for Debezium: a position in the database's write-ahead log)
in the worker's offsets topic under the *connector's name*, and a sink connector commits consumer-group offsets.
Both survive deleting the connector, so a connector created again under the same name carries on where the old one
stopped. :func:`fresh` creates a connector stopped, wipes its offsets with ``DELETE /connectors/<name>/offsets``
(Kafka 3.6+; the connector must be STOPPED) and only then starts it.
"""
from __future__ import annotations

from urllib.parse import quote

from ..errors import LabError
from ..io import http
from ..io.read import read_to_end
from ..wait import wait_until

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"
#: Target states a connector can be created in or moved to.
STATES = ("RUNNING", "PAUSED", "STOPPED")


def url() -> str:
    """The REST address of the Connect worker (``KAFKALAB_CONNECT_PORT`` changes the port)."""
    from ..cluster.services import service

    return service("connect").url


def call(method: str, path: str, body: dict | None = None, timeout: float = 30) -> object:
    """One REST call; returns the decoded body, raises LabError (with Connect's message) on a 4xx/5xx answer."""
    return http.call(method, url() + path, body, timeout_s=timeout, service="Connect",
                     fix="start Kafka Connect with `python -m kafkalab up --with connect`")


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
    # one class may be listed once per plugin folder that ships it (Kafka's StringConverter, say): each name once
    return sorted({p["class"] for p in found if kind is None or p["type"] == kind})


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
    # a plugin may report one problem twice (Debezium does for invalid numbers): each message once
    return [f"{v['name']}: {' '.join(dict.fromkeys(v['errors']))}" for v in values if v.get("errors")]


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
    wait_until(lambda: not exists(name), timeout_s=30, what=f"connector {name} leaving the list after DELETE",
               fix="see the worker log")
    return True


# -- offsets
def offsets(name: str) -> list[dict]:
    """The connector's offsets (``GET .../offsets``): a list of ``{"partition": …, "offset": …}``; for Debezium's
    PostgreSQL source the partition is ``{"server": <topic.prefix>}`` and the offset a position in the WAL (``lsn``);
    for a sink, the consumer group's committed offset per topic partition."""
    return call("GET", _path(name, "/offsets"))["offsets"]


def reset_offsets(name: str, timeout_s: float = 30) -> str:
    """Stop the connector (offsets can only be changed then) and delete its offsets; returns Connect's message."""
    if states(name)[0] != "STOPPED":
        stop(name)
        wait_for(name, "STOPPED", timeout_s)
    return call("DELETE", _path(name, "/offsets"))["message"]


# -- waiting
def _failure(s: dict) -> dict | None:
    """The status of the first FAILED task, or the connector's if it FAILED itself; None if nothing failed."""
    failed = [t for t in s.get("tasks", []) if t["state"] == "FAILED"]
    if failed:
        return failed[0]
    return s["connector"] if s["connector"]["state"] == "FAILED" else None


def _status_if_any(name: str) -> dict | None:
    try:
        return status(name)
    except http.HttpError:  # just created: the status may not be there yet
        return None


def wait_for(name: str, state: str = "RUNNING", timeout_s: float = 30) -> dict:
    """Wait until the connector and all its tasks are in ``state``; raise LabError with the trace if one FAILED."""

    def reached() -> dict | None:
        s = _status_if_any(name)
        if s is None:
            return None
        failed = _failure(s)
        if failed is not None:
            raise LabError(f"connector {name} FAILED: {first_line(failed.get('trace', ''))}")
        tasks = [t["state"] for t in s.get("tasks", [])]
        # a STOPPED connector has no tasks, and one paused straight from STOPPED has none until it resumes
        tasks_ok = all(t == state for t in tasks) and (bool(tasks) or state != "RUNNING")
        return s if s["connector"]["state"] == state and tasks_ok else None

    return wait_until(reached, timeout_s=timeout_s, what=f"connector {name} reaching {state}",
                      last_seen=lambda: summary(name) if _status_if_any(name) else "no status yet")


def wait_for_failure(name: str, timeout_s: float = 30) -> dict:
    """Wait until a task of ``name`` has FAILED and return that task's status (with its ``trace``)."""

    def failed() -> dict | None:
        s = _status_if_any(name)
        return None if s is None else _failure(s)

    return wait_until(failed, timeout_s=timeout_s, what=f"connector {name} failing",
                      last_seen=lambda: summary(name) if _status_if_any(name) else "no status yet")


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


def read_values(topic: str, limit: int | None = None, timeout_s: float = 15) -> list[str]:
    """The values of ``topic``'s records as text, up to its current end, partition by partition (no group)."""
    out = [None if r.value is None else r.value.decode() for r in read_to_end(topic, timeout_s=timeout_s)]
    return out if limit is None else out[:limit]

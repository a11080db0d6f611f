"""What the first cell of every chapter runs: check the cluster quickly, set up plotly, show errors as one line."""
from __future__ import annotations

import time

from .config import bootstrap_servers
from .errors import LabError

#: JupyterLab renders the mimetype; the book renders the HTML part (plotly.js from its CDN, mapped offline in tests).
PLOTLY_RENDERER = "plotly_mimetype+notebook_connected"


def _one_line_errors() -> None:
    """In IPython, print a LabError as one red line instead of a traceback (the cell still fails)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return

    def handler(shell, etype, value, tb, tb_offset=None):
        print(f"\x1b[31mLabError: {value}\x1b[0m")
        return None

    ip.set_custom_exc((LabError,), handler)


_STARTED_HERE: list[str] = []


def start(need_brokers: int = 1, services: tuple[str, ...] = (), secure: bool = False) -> dict:
    """Check that the course cluster answers (fails within 5 s with the fix) and prepare plotly and error display.

    ``services`` (``"registry"``, ``"connect"``, ``"postgres"``) are started if the embedded cluster is used and they are not
    running yet; with ``KAFKA_BOOTSTRAP_SERVERS`` they must already answer. ``secure`` is for the security chapter:
    it starts the course's secured cluster (kafkalab.cluster.secure) if it is not running, whatever cluster the rest
    of the course uses, and checks it with its admin's login. Returns the cluster description.
    Used by the first cell of every chapter.
    """
    import plotly.io as pio

    _one_line_errors()
    pio.renderers.default = PLOTLY_RENDERER
    from .io.clients import describe_cluster

    t0 = time.monotonic()
    if secure:
        info = _secured_cluster()
        info["check_seconds"] = time.monotonic() - t0
        return info
    info = describe_cluster(timeout_s=3)
    n = len(info["brokers"])
    if n < need_brokers:
        raise LabError(f"this chapter needs {need_brokers} brokers but {n} answer(s); run `python -m kafkalab down` "
                       f"then `python -m kafkalab up --brokers {need_brokers}`")
    print(f"Kafka answers at {bootstrap_servers()} with {n} broker(s).")
    for name in services:
        _ensure_service(name)
    info["check_seconds"] = time.monotonic() - t0
    return info


def _secured_cluster() -> dict:
    """The course's secured cluster, started if it does not answer its admin; its description."""
    from .cluster import secure
    from .cluster.broker import up
    from .io.clients import describe_cluster

    try:
        info = describe_cluster(connection=secure.user_connection(secure.ADMIN), timeout_s=3)
    except LabError:  # not set up yet, or not running: start it (its first start makes the CA and the users)
        up(secure=True, quiet=True)
        info = describe_cluster(connection=secure.user_connection(secure.ADMIN), timeout_s=3)
    print(f"The secured cluster answers at {secure.bootstrap()} (SASL_SSL, {secure.MECHANISM}) with "
          f"{len(info['brokers'])} broker(s).")
    return info


def _external_registry() -> bool:
    """True when SCHEMA_REGISTRY_URL names a registry of the learner's own: it must answer; nothing is started."""
    import os

    from .io import http
    from .schemas.registry import registry_url

    if not (os.environ.get("SCHEMA_REGISTRY_URL") or "").strip():
        return False
    url = registry_url()
    status, _ = http.request("GET", url + "/subjects", timeout_s=5, fix="check SCHEMA_REGISTRY_URL")
    if status >= 400:
        raise LabError(f"the registry at {url} answers {status}; check SCHEMA_REGISTRY_URL and "
                       f"SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO (user:password)")
    print(f"Schema registry answers at {url}.")
    return True


def _ensure_service(name: str) -> None:
    from .cluster import services as svcs
    from .config import settings

    if name == "registry" and _external_registry():
        return
    svc = svcs.service(name)
    if not svc.answers():
        if not settings().embedded:
            raise LabError(f"{name} does not answer at {svc.url}; start it next to your cluster "
                           f"(or unset KAFKA_BOOTSTRAP_SERVERS to use the embedded one)")
        svcs.start(name, quiet=True)
        _STARTED_HERE.append(name)
    label = {"registry": "Schema registry", "connect": "Kafka Connect", "postgres": "PostgreSQL"}[name]
    print(f"{label} answers at {svc.url}.")


def release_services() -> None:
    """Stop the companion services this notebook started (they were not running before), to free memory.

    Services that were already running are left alone.
    """
    from .cluster import services as svcs

    while _STARTED_HERE:
        svcs.stop(_STARTED_HERE.pop(), quiet=True)

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


def start(need_brokers: int = 1, services: tuple[str, ...] = ()) -> dict:
    """Check that the course cluster answers (fails within 5 s with the fix) and prepare plotly and error display.

    ``services`` (``"registry"``, ``"connect"``, ``"postgres"``) are started if the embedded cluster is used and they are not
    running yet; with ``KAFKA_BOOTSTRAP_SERVERS`` they must already answer. Returns the cluster description.
    Used by the first cell of every chapter.
    """
    import plotly.io as pio

    _one_line_errors()
    pio.renderers.default = PLOTLY_RENDERER
    from .io.clients import describe_cluster

    t0 = time.monotonic()
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


def _ensure_service(name: str) -> None:
    from .cluster import services as svcs
    from .config import settings

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

"""The live cluster every non-lifecycle integration test talks to, checked once per session.

Which cluster: KAFKA_BOOTSTRAP_SERVERS when set, else the course cluster that kafkalab.config describes (the default
ports, or the run's port block under tests/run.sh). Nothing here starts it: tests/run.sh does, or `make up`. If no
cluster answers, the session stops with one line saying which address was tried and how to start one, instead of
every test failing on its own timeout. Tests marked ``lifecycle`` start clusters of their own, and tests marked
``no_cluster`` need only Java and the jars: neither asks for the live cluster.
"""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def live_cluster() -> str:
    """The bootstrap address of a cluster that answers (see the module docstring)."""
    from kafkalab.io.clients import describe_cluster
    from kafkalab.config import settings

    s = settings()
    source = "KAFKA_BOOTSTRAP_SERVERS" if not s.embedded else f"the course cluster of kafkalab.config, home {s.home}"
    try:
        describe_cluster(s.bootstrap, timeout_s=10)
    except Exception as e:  # noqa: BLE001  any failure means the same thing here
        reason = str(e).splitlines()[0] if str(e) else f"no Kafka answers at {s.bootstrap} ({type(e).__name__})"
        pytest.exit(f"{reason} [tried {source}; tests/run.sh starts a cluster of its own]", returncode=3)
    return s.bootstrap


@pytest.fixture(autouse=True)
def _needs_the_live_cluster(request):
    if request.node.get_closest_marker("lifecycle") or request.node.get_closest_marker("no_cluster"):
        return
    request.getfixturevalue("live_cluster")


@pytest.fixture(scope="module")
def postgres_and_connect():
    """PostgreSQL and a Connect worker for one test module: started (and stopped at its end) only if they were not
    running; the module is skipped when they do not answer and the cluster is an external one."""
    from kafkalab.cluster import services

    started = []
    for name in ("postgres", "connect"):
        if not services.service(name).answers():
            if not services.settings().embedded:
                pytest.skip(f"{name} does not answer and the cluster is external")
            services.start(name, quiet=True)
            started.append(name)
    yield
    for name in reversed(started):
        services.stop(name, quiet=True)

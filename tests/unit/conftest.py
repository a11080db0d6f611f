import os

import pytest


@pytest.fixture(autouse=True)
def default_environment(monkeypatch):
    """Unit tests check the defaults: ignore any cluster settings in the caller's environment (tests/run.sh sets a
    port base and a private home for the whole run; a developer's shell may point at a cluster of their own)."""
    for var in list(os.environ):
        if var.startswith("KAFKALAB_") and var != "KAFKALAB_CACHE_DIR":
            monkeypatch.delenv(var, raising=False)
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKA_CLIENT_CONFIG", "KAFKA_HOME"):
        monkeypatch.delenv(var, raising=False)

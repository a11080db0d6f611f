import pytest


@pytest.fixture(autouse=True)
def default_environment(monkeypatch):
    """Unit tests check the defaults: ignore any cluster settings in the caller's environment."""
    for var in ("KAFKA_BOOTSTRAP_SERVERS", "KAFKALAB_BROKER_PORT", "KAFKALAB_CONTROLLER_PORT", "KAFKALAB_HOME",
                "KAFKA_HOME", "KAFKALAB_CDS"):
        monkeypatch.delenv(var, raising=False)

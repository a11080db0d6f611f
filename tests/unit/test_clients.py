"""kafkalab.io.clients without a cluster: every client comes from one factory, and an address where nothing
listens is one LabError line with the fix, within seconds (the live defaults are in tests/integration)."""
from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer

from kafkalab.errors import LabError
from kafkalab.io import clients

NOBODY = "127.0.0.1:1"  # a port nothing listens on: the connection is refused at once


@pytest.mark.parametrize("make", [clients.admin, clients.producer, clients.consumer, clients.json_producer,
                                  lambda **kw: clients.connect(KafkaConsumer, "some-topic", **kw)])
def test_an_absent_cluster_is_one_line_with_the_fix(make):
    t0 = time.monotonic()
    with pytest.raises(LabError) as e:
        make(bootstrap_servers=NOBODY)
    message = str(e.value)
    assert message.startswith(f"no Kafka answers at {NOBODY}") and "make up" in message and "\n" not in message
    assert time.monotonic() - t0 < 5


def test_the_bootstrap_address_comes_from_the_configuration(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", NOBODY)
    with pytest.raises(LabError, match=f"no Kafka answers at {NOBODY}"):
        clients.consumer()


def test_a_setting_the_client_does_not_know_is_not_blamed_on_the_cluster(monkeypatch):
    """kafka-python 3.0.12 speaks only the classic group protocol: group_protocol is not one of its settings."""
    from kafka.errors import KafkaConfigurationError

    monkeypatch.setattr(clients, "_tcp_check", lambda bootstrap, timeout_s: None)  # as if a broker listened
    with pytest.raises(KafkaConfigurationError, match="group_protocol"):
        clients.consumer(bootstrap_servers=NOBODY, group_protocol="consumer")

"""Shared fixtures. Integration tests use the course cluster (or KAFKA_BOOTSTRAP_SERVERS); lifecycle tests start
their own broker on spare ports with their own data folder, so they never disturb the course cluster."""
from __future__ import annotations

import contextlib
import re
import uuid

import pytest


@pytest.fixture
def topic(request):
    """A unique topic name per test, derived from the test's name; deleted at teardown."""
    base = re.sub(r"[^A-Za-z0-9-]", "-", request.node.name)[:80]  # no . or _ (Kafka warns they may collide)
    name = f"test-{base}-{uuid.uuid4().hex[:6]}"
    yield name
    from kafkalab.io.topics import delete_topic

    with contextlib.suppress(Exception):
        delete_topic(name)

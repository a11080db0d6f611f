"""kafka-python clients with classroom-friendly timeouts, all on the course's connection (:mod:`kafkalab.io.connection`:
``KAFKA_BOOTSTRAP_SERVERS`` and, for a secured cluster, ``KAFKA_CLIENT_CONFIG``).

kafka-python 3 waits 30 s for a first connection (``bootstrap_timeout_ms``) and uses a 45 s session timeout.
Those defaults suit production; here a stopped cluster should be reported in seconds, and a consumer that leaves
a group should let the others take over quickly. Pass any keyword to override a default.

:func:`connect` builds every client of the course; :func:`admin`, :func:`producer` and :func:`consumer` only name
the class and its defaults. Each takes ``connection=`` (a :class:`~kafkalab.io.connection.Connection`) to log in as
someone else or reach another cluster; a ``bootstrap_servers=`` that names another cluster gets a PLAINTEXT one.
"""
from __future__ import annotations

import contextlib
import json
import socket
import warnings

from ..config import bootstrap_servers
from ..errors import LabError
from .connection import Connection, connection_for

#: Every client: give up on an absent cluster after 5 s, on a request after 15 s.
QUICK = {"bootstrap_timeout_ms": 5000, "request_timeout_ms": 15000}
#: Consumers also read from the beginning, stop iterating after 5 s without a record, and leave a group quickly.
CONSUMER_DEFAULTS = {"auto_offset_reset": "earliest", "consumer_timeout_ms": 5000, "session_timeout_ms": 10000,
                     "heartbeat_interval_ms": 1000}


def _not_reachable(bootstrap: str, err: Exception | None = None) -> LabError:
    why = f" ({type(err).__name__}: {err})" if err else ""
    return LabError(
        f"no Kafka answers at {bootstrap}{why}. Start the course cluster with `make up` "
        f"(or `python -m kafkalab up`), or set KAFKA_BOOTSTRAP_SERVERS to a cluster you run"
    )


def _tcp_check(bootstrap: str, timeout_s: float) -> None:
    """Fail fast (well under 5 s) when nothing listens at any bootstrap address."""
    last = None
    for hostport in bootstrap.split(","):
        host, _, port = hostport.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
                return
        except (OSError, ValueError) as e:
            last = e
    raise _not_reachable(bootstrap, last)


def connect(cls: type, *args, defaults: dict | None = None, connection: Connection | None = None, **overrides):
    """A kafka-python client of class ``cls`` (``KafkaAdminClient``, ``KafkaProducer``, ``KafkaConsumer``) on the
    course's connection (or ``connection``): :data:`QUICK` timeouts and its security settings, then ``defaults``,
    then ``overrides`` (``bootstrap_servers`` included).

    Raises :class:`LabError` with the fix when nothing answers at the bootstrap address, or when the cluster
    refuses the connection's TLS or login (:mod:`kafkalab.io.security` says which step and how to fix it); a setting
    the client does not accept is kafka-python's own ``KafkaConfigurationError``.
    """
    from kafka.errors import KafkaConfigurationError, KafkaError

    conn = connection or connection_for(overrides.pop("bootstrap_servers", None))
    overrides.pop("bootstrap_servers", None)
    _tcp_check(conn.bootstrap, 2.0)
    from .security import preflight, probe

    # a secured (or explicitly given) connection's TLS and login, checked once: a refusal is one line at once
    preflight(conn, always=connection is not None)
    try:
        return cls(*args, bootstrap_servers=conn.bootstrap,
                   **{**QUICK, **conn.kafka_python(), **(defaults or {}), **overrides})
    except KafkaConfigurationError:
        raise  # a setting the client does not know (e.g. group_protocol in kafka-python): not the cluster's fault
    except KafkaError as e:
        finding = probe(conn)  # a PLAINTEXT client on a TLS or SASL listener times out without saying why
        if finding.kind not in ("ok", "unreachable"):
            raise finding.error() from None
        raise _not_reachable(conn.bootstrap, e) from None


def admin(**overrides):
    """A ``KafkaAdminClient``."""
    from kafka import KafkaAdminClient

    return connect(KafkaAdminClient, **overrides)


def producer(**overrides):
    """A ``KafkaProducer`` (keys and values are bytes unless you pass serializers)."""
    from kafka import KafkaProducer

    return connect(KafkaProducer, **overrides)


def json_producer(**overrides):
    """A producer that sends str keys and JSON values."""
    return producer(
        key_serializer=lambda k: None if k is None else str(k).encode(),
        value_serializer=lambda v: json.dumps(v, separators=(",", ":")).encode(),
        **overrides,
    )


def consumer(*topics: str, **overrides):
    """A ``KafkaConsumer`` with :data:`CONSUMER_DEFAULTS`, subscribed to ``topics`` if any are given."""
    from kafka import KafkaConsumer

    return connect(KafkaConsumer, *topics, defaults=CONSUMER_DEFAULTS, **overrides)


def describe_cluster(bootstrap: str | None = None, timeout_s: float = 5, connection: Connection | None = None) -> dict:
    """Cluster id, controller and brokers, as the cluster reports them (as ``connection`` if given)."""
    ms = int(timeout_s * 1000)
    where = {"connection": connection} if connection else {"bootstrap_servers": bootstrap or bootstrap_servers()}
    with contextlib.closing(admin(**where, bootstrap_timeout_ms=ms, request_timeout_ms=ms)) as a:
        return a.describe_cluster()


@contextlib.contextmanager
def quiet_imports():
    """Import confluent-kafka's registry client or Quix Streams without the warning their authlib dependency prints.

    authlib installs an "always" filter for its own deprecation warnings when first imported, so import it first,
    then ignore warnings for the imports inside the block.
    """
    with warnings.catch_warnings():
        with contextlib.suppress(ImportError):
            import authlib.deprecate  # noqa: F401 - its filter goes in first, ours below overrides it
        warnings.simplefilter("ignore")
        yield

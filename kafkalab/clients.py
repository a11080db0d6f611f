"""kafka-python clients with classroom-friendly timeouts, all pointed at :func:`kafkalab.config.bootstrap_servers`.

kafka-python 3 waits 30 s for a first connection (``bootstrap_timeout_ms``) and uses a 45 s session timeout.
Those defaults suit production; here a stopped cluster should be reported in seconds, and a consumer that leaves
a group should let the others take over quickly. Pass any keyword to override a default.
"""
from __future__ import annotations

import contextlib
import json
import socket
import warnings

from .config import bootstrap_servers
from .errors import LabError

QUICK = {"bootstrap_timeout_ms": 5000, "request_timeout_ms": 15000}


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


def admin(**overrides):
    """A ``KafkaAdminClient``; raises :class:`LabError` with the fix when the cluster is down."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    bootstrap = overrides.pop("bootstrap_servers", None) or bootstrap_servers()
    _tcp_check(bootstrap, 2.0)
    try:
        return KafkaAdminClient(bootstrap_servers=bootstrap, **{**QUICK, **overrides})
    except KafkaError as e:
        raise _not_reachable(bootstrap, e) from None


def producer(**overrides):
    """A ``KafkaProducer`` (keys and values are bytes unless you pass serializers)."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

    bootstrap = overrides.pop("bootstrap_servers", None) or bootstrap_servers()
    _tcp_check(bootstrap, 2.0)
    try:
        return KafkaProducer(bootstrap_servers=bootstrap, **{**QUICK, **overrides})
    except KafkaError as e:
        raise _not_reachable(bootstrap, e) from None


def json_producer(**overrides):
    """A producer that sends str keys and JSON values."""
    return producer(
        key_serializer=lambda k: None if k is None else str(k).encode(),
        value_serializer=lambda v: json.dumps(v, separators=(",", ":")).encode(),
        **overrides,
    )


def consumer(*topics: str, **overrides):
    """A ``KafkaConsumer``: reads from the beginning by default and gives up after 5 s with no new record."""
    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    bootstrap = overrides.pop("bootstrap_servers", None) or bootstrap_servers()
    _tcp_check(bootstrap, 2.0)
    defaults = {
        **QUICK,
        "auto_offset_reset": "earliest",
        "consumer_timeout_ms": 5000,
        "session_timeout_ms": 10000,
        "heartbeat_interval_ms": 1000,
    }
    try:
        return KafkaConsumer(*topics, bootstrap_servers=bootstrap, **{**defaults, **overrides})
    except KafkaError as e:
        raise _not_reachable(bootstrap, e) from None


def describe_cluster(bootstrap: str | None = None, timeout_s: float = 5) -> dict:
    """Cluster id, controller and brokers, as the cluster reports them."""
    bootstrap = bootstrap or bootstrap_servers()
    ms = int(timeout_s * 1000)
    with contextlib.closing(admin(bootstrap_servers=bootstrap, bootstrap_timeout_ms=ms, request_timeout_ms=ms)) as a:
        return a.describe_cluster()


def recreate_topic(name: str, partitions: int = 1, replication: int = 1, configs: dict | None = None) -> None:
    """Delete ``name`` if it exists and create it empty, so that a notebook re-run starts from the same state."""
    import time

    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    delete_topic(name)
    with contextlib.closing(admin()) as a:
        new = NewTopic(name, partitions, replication, topic_configs=configs or {})
        deadline = time.monotonic() + 30
        while True:  # deletion finishes in the background; creation may briefly see the old topic
            try:
                a.create_topics([new])
                break
            except TopicAlreadyExistsError:
                if time.monotonic() > deadline:
                    raise LabError(f"topic {name} is still being deleted; run the cell again in a few seconds")
                time.sleep(0.3)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until every partition has a leader
            parts = a.describe_topics([name])[0]["partitions"]
            if len(parts) == partitions and all(p["leader_id"] >= 0 for p in parts):
                return
            time.sleep(0.2)


def delete_topic(name: str) -> bool:
    """Delete ``name`` if it exists and wait until it is gone (so it can be created again). True if it existed."""
    import time

    with contextlib.closing(admin()) as a:
        if name not in a.list_topics():
            return False
        a.delete_topics([name])
        deadline = time.monotonic() + 30
        while name in a.list_topics():
            if time.monotonic() > deadline:
                raise LabError(f"topic {name} is still being deleted after 30 s; try again, or see `python -m kafkalab doctor`")
            time.sleep(0.2)
        return True


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

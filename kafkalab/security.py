"""Securing Kafka (Chapter 14): act as one user of the course's secured cluster and say, in one line, what happened.

The secured cluster (:mod:`kafkalab.cluster.secure`) has an admin and two learners, alice and bob. Each function
here takes a :class:`~kafkalab.io.connection.Connection` — who connects, and how — and returns an
:class:`Attempt`: allowed or refused, with the one-line reason the course's clients give
(:mod:`kafkalab.io.security`), never a traceback. ACLs are granted and revoked with Kafka's own ``kafka-acls``
tool in the chapter; :func:`apply_grants` and :func:`revoke_all` do the same through the admin API for the
exercise checker.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from .cluster import secure
from .errors import LabError
from .io.clients import admin, consumer, producer
from .io.connection import Connection, jaas_line
from .io.security import SecurityProblem, authorization_message

#: A consumer in a group, a producer: how long an attempt may take before it counts as refused.
ATTEMPT_TIMEOUT_S = 10


@dataclass(frozen=True)
class Attempt:
    """What one try did: ``ok``, the one line that says so, and how many records it moved."""

    ok: bool
    line: str
    records: int = 0

    def __str__(self) -> str:
        return f"{'allowed' if self.ok else 'refused'}: {self.line}"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def connection_as(user: str) -> Connection:
    """The secured cluster as ``user`` (admin, alice or bob), from the client config ``up --secure`` wrote."""
    return secure.user_connection(user)


def without_tls(user: str = "alice") -> Connection:
    """The secured cluster's address with none of its client config: what a client gets that forgets it."""
    return Connection(connection_as(user).bootstrap)


def with_password(user: str, password: str) -> Connection:
    """``user``'s client config with another password in its JAAS line."""
    conn = connection_as(user)
    return Connection(conn.bootstrap, {**conn.properties,
                                       "sasl.jaas.config": jaas_line(secure.LOGIN_MODULE, user, password)})


def without_ca(user: str = "alice") -> Connection:
    """``user``'s client config without its truststore lines: the client then trusts only the system's CAs."""
    conn = connection_as(user)
    return Connection(conn.bootstrap, {k: v for k, v in conn.properties.items() if not k.startswith("ssl.truststore")})


def home_relative(text: str) -> str:
    """``text`` with the course's home folder written as ``$KAFKALAB_HOME`` (the same on every machine)."""
    from .config import settings

    return text.replace(str(settings().home), "$KAFKALAB_HOME")


def _masked(key: str, value: str) -> str:
    """``value`` with any password in it replaced by asterisks (a JAAS line's, or a whole ``*password`` value)."""
    import re

    if key.endswith("sasl.jaas.config"):
        return re.sub(r"""(password\s*=\s*)("[^"]*"|'[^']*'|[^\s;]+)""", r'\1"********"', value)
    return "********" if "password" in key else value


class Text(str):
    """Lines a notebook shows as they are (no quotes, no escapes)."""

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))


def client_config_text(user: str) -> str:
    """The client config ``up --secure`` wrote for ``user``, its settings only, the password masked."""
    lines = secure.client_config(user).read_text().splitlines()
    props = [ln.split("=", 1) for ln in lines if ln and not ln.startswith("#")]
    return home_relative("\n".join(f"{k}={_masked(k, v)}" for k, v in props))


#: The broker keys that make a cluster secure (kafkalab/cluster/jvm/server-secure.properties.template).
BROKER_KEYS = ("listeners", "listener.security.protocol.map", "inter.broker.listener.name", "sasl.enabled.mechanisms",
               "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config", "ssl.keystore.type", "ssl.keystore.location",
               "ssl.keystore.password", "ssl.truststore.type", "ssl.truststore.location", "authorizer.class.name",
               "super.users")


def broker_settings() -> str:
    """The secured broker's security keys as it runs with them, passwords masked."""
    from .cluster.broker import parse_properties, secure_nodes

    props = parse_properties(secure_nodes()[0].props_file.read_text())
    return home_relative("\n".join(f"{k}={_masked(k, props[k])}" for k in BROKER_KEYS))


def kafka_python_alone(conn: Connection, timeout_s: float = 2) -> Text:
    """What kafka-python itself says when ``conn`` is refused, without the course's probe: one line."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    try:
        a = KafkaAdminClient(bootstrap_servers=conn.bootstrap, bootstrap_timeout_ms=int(timeout_s * 1000),
                             request_timeout_ms=int(timeout_s * 1000), **conn.kafka_python())
    except KafkaError as e:
        said = str(e)
        return Text(said if said.startswith(type(e).__name__) else f"{type(e).__name__}: {said}")
    a.close()
    return Text("connected")


def translations(conn: Connection) -> Text:
    """How the course hands one client config to each family of clients (kafkalab.io.connection), secrets masked."""
    config = str(conn.command_config() or "-")

    def lines(title: str, settings: dict) -> list[str]:
        return [title] + [f"    {k}={_masked(k, str(v))}" for k, v in settings.items()]

    worker = conn.connect_worker()
    out = lines("kafka-python (keyword arguments)", conn.kafka_python())
    out += lines("confluent-kafka and Quix Streams (librdkafka settings)",
                 {k: v for k, v in conn.librdkafka().items() if k != "bootstrap.servers"})
    out += lines("Flink SQL (table options)",
                 {k: v for k, v in conn.flink().items() if k != "properties.bootstrap.servers"})
    out += [f"Kafka Connect worker (properties): {len(worker) - 1} keys, the config's own and producer.*, consumer.* "
            f"and admin.* copies"]
    out += ["Kafka's tools (command line)", "    --command-config <the config file>"]
    out += lines("Kafka Streams app in Java (properties, secrets read from the file)",
                 {k: v for k, v in conn.java_by_reference().items() if k.startswith(("config.providers", "sasl.jaas"))})
    return Text(home_relative("\n".join(out)).replace(config, "<the config file>"))


def _refusal(err: Exception, conn: Connection) -> str:
    if isinstance(err, LabError):
        return str(err)
    return authorization_message(err, conn) or f"{type(err).__name__}: {err}"[:300]


def attempt_describe(conn: Connection) -> Attempt:
    """Connect and ask for the cluster's description (any authenticated user may)."""
    from kafka.errors import KafkaError

    try:
        with contextlib.closing(admin(connection=conn)) as a:
            brokers = a.describe_cluster()["brokers"]
    except (LabError, KafkaError) as e:
        return Attempt(False, _refusal(e, conn))
    return Attempt(True, f"{_who(conn)} connected; the cluster has {len(brokers)} broker(s)")


def attempt_produce(conn: Connection, topic: str, values: list[bytes]) -> Attempt:
    """Send ``values`` to ``topic`` and wait for each acknowledgement."""
    from kafka.errors import KafkaError

    try:
        with producer(connection=conn, acks="all", max_block_ms=ATTEMPT_TIMEOUT_S * 1000) as p:
            for v in values:
                p.send(topic, v).get(timeout=ATTEMPT_TIMEOUT_S)
    except (LabError, KafkaError) as e:
        if "ClusterAuthorizationFailed" in f"{type(e).__name__} {e}":
            # an idempotent producer (kafka-python's default) first asks for a producer id: allowed with Write on a
            # topic, so a user who may only read the topic is refused there, before any record
            return Attempt(False, f"not authorized: {_who(conn)} may not write to topic {topic!r} (its idempotent "
                                  f"producer got no producer id: that needs Write on a topic, and no ACL allows it); "
                                  f"an admin grants it with kafka-acls --add --allow-principal "
                                  f"User:{conn.username} --operation Write --topic {topic}")
        return Attempt(False, _refusal(e, conn))
    return Attempt(True, f"{_who(conn)} wrote {len(values)} record(s) to topic {topic!r}", len(values))


def attempt_consume(conn: Connection, topic: str, group: str) -> Attempt:
    """Read ``topic`` to its end as a member of consumer group ``group`` and commit the offsets reached."""
    from kafka import TopicPartition
    from kafka.errors import KafkaError

    from .wait import wait_until

    try:
        with contextlib.closing(consumer(connection=conn, group_id=group, enable_auto_commit=False,
                                         consumer_timeout_ms=ATTEMPT_TIMEOUT_S * 1000)) as c:
            parts = c.partitions_for_topic(topic)
            if not parts:
                from kafka.errors import TopicAuthorizationFailedError

                raise TopicAuthorizationFailedError(topic)  # an unauthorized topic looks absent in metadata
            ends = c.end_offsets([TopicPartition(topic, p) for p in parts])
            c.subscribe([topic])
            got: list = []

            def at_the_end() -> bool:
                for records in c.poll(timeout_ms=300).values():
                    got.extend(records)
                return all(c.position(tp) >= end for tp, end in ends.items() if tp in c.assignment()) \
                    and bool(c.assignment())

            wait_until(at_the_end, timeout_s=ATTEMPT_TIMEOUT_S, interval_s=0, what=f"reading {topic} to its end")
            c.commit()
    except (LabError, KafkaError) as e:
        return Attempt(False, _refusal(e, conn))
    return Attempt(True, f"{_who(conn)} read {len(got)} record(s) of topic {topic!r} in group {group!r} and "
                         f"committed its offsets", len(got))


def _who(conn: Connection) -> str:
    return f"user {conn.username!r}" if conn.username else "the client"


# ----------------------------------------------------------------------------------------------- ACLs by the admin API
#: Resource kinds an answer may name, and the operations the exercise accepts.
RESOURCES = ("topic", "group")
OPERATIONS = ("Read", "Write", "Describe", "Create", "Delete", "Alter", "DescribeConfigs", "AlterConfigs", "All")


def parse_grant(grant) -> tuple[str, str, str, str]:
    """``("User:bob", "topic:payments", "Read")`` as (principal, resource kind, resource name, operation);
    a :class:`LabError` names what is wrong with a malformed one."""
    if not (isinstance(grant, (tuple, list)) and len(grant) == 3 and all(isinstance(x, str) for x in grant)):
        raise LabError(f"a grant is a tuple of three strings (principal, resource, operation), e.g. "
                       f"('User:bob', 'topic:payments', 'Read'), not {grant!r}")
    principal, resource, operation = (x.strip() for x in grant)
    if not principal.startswith("User:") or len(principal) == 5:
        raise LabError(f"the principal {principal!r} needs its type: 'User:<name>', as the broker names an "
                       f"authenticated user")
    kind, sep, name = resource.partition(":")
    if not sep or kind.lower() not in RESOURCES or not name:
        raise LabError(f"the resource {resource!r} is '<kind>:<name>' with kind topic or group, e.g. 'topic:payments'")
    op = next((o for o in OPERATIONS if o.lower() == operation.lower().replace("_", "")), None)
    if op is None:
        raise LabError(f"the operation {operation!r} is none of {', '.join(OPERATIONS)}")
    return principal, kind.lower(), name, op


def _acl(principal: str, kind: str, name: str, operation: str):
    from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern,
                             ResourceType)

    op = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(operation)).upper()  # DescribeConfigs
    return ACL(principal=principal, host="*", operation=ACLOperation[op], permission_type=ACLPermissionType.ALLOW,
               resource_pattern=ResourcePattern(ResourceType[kind.upper()], name, ACLResourcePatternType.LITERAL))


def apply_grants(grants: list) -> int:
    """Create each grant (see :func:`parse_grant`) as an ALLOW ACL for any host, as the admin. Returns how many."""
    acls = [_acl(*parse_grant(g)) for g in grants]
    if not acls:
        return 0
    with contextlib.closing(admin(connection=connection_as(secure.ADMIN))) as a:
        result = a.create_acls(acls)
    failed = result.get("failed") if isinstance(result, dict) else None
    if failed:
        raise LabError(f"the cluster refused {len(failed)} ACL(s): {failed[0][1]}")
    return len(acls)


def revoke_all(user: str) -> None:
    """Delete every ACL that names ``User:<user>`` (any resource, pattern, operation), as the admin."""
    from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                             ResourcePatternFilter, ResourceType)

    any_resource = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
    flt = ACLFilter(principal=f"User:{user}", host=None, operation=ACLOperation.ANY,
                    permission_type=ACLPermissionType.ANY, resource_pattern=any_resource)
    with contextlib.closing(admin(connection=connection_as(secure.ADMIN))) as a:
        a.delete_acls([flt])


def acls_of(user: str) -> list[tuple[str, str, str]]:
    """The ACLs naming ``User:<user>`` as sorted (resource, operation, permission) rows, as the admin sees them."""
    from kafka.admin import (ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType,
                             ResourcePatternFilter, ResourceType)

    any_resource = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
    flt = ACLFilter(principal=f"User:{user}", host=None, operation=ACLOperation.ANY,
                    permission_type=ACLPermissionType.ANY, resource_pattern=any_resource)
    with contextlib.closing(admin(connection=connection_as(secure.ADMIN))) as a:
        found, _error = a.describe_acls(flt)
    return sorted((f"{acl.resource_pattern.resource_type.name.lower()}:{acl.resource_pattern.resource_name}",
                   acl.operation.name, acl.permission_type.name) for acl in found)


def acl_tool_args() -> list[str]:
    """The first arguments of every ``kafka-acls`` run in the chapter: the secured cluster, as its admin."""
    return ["--bootstrap-server", secure.bootstrap(), "--command-config", str(secure.client_config(secure.ADMIN))]


__all__ = ["Attempt", "SecurityProblem", "acl_tool_args", "acls_of", "apply_grants", "attempt_consume",
           "attempt_describe", "attempt_produce", "connection_as", "parse_grant", "revoke_all", "with_password",
           "without_tls"]

"""Serializers and round trips: kafka-python with the course's own wire-format serdes, confluent-kafka with its
Avro serdes, and either one reading what the other wrote (Chapter 4).

:class:`WireSerializer` / :class:`WireDeserializer` plug the wire format into kafka-python, with the writer's
schema looked up in the registry through confluent-kafka's ``SchemaRegistryClient``, so their records are
readable by confluent-kafka's ``AvroDeserializer`` and the reverse.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterable

from kafka.serializer import DefaultSerializer, Deserializer, Serializer

from ..errors import LabError
from ..io.clients import producer
from ..io.connection import connection
from ..io.read import read_to_end
from ..wait import wait_until
from .codec import avro_decode, avro_encode, frame, parse, unframe
from .registry import register, registry_client, writer_schema
from .validation import SchemaMismatch, validate


# ---------------------------------------------------------------------------- kafka-python (de)serializers
class WireSerializer(Serializer):
    """A kafka-python ``value_serializer``: validate against ``schema``, register it under ``<topic>-value``
    (the topic-name strategy) once, and write magic byte + schema id + Avro body.

    A record that breaks the schema raises :class:`SchemaMismatch` before anything reaches the broker.
    """

    def __init__(self, schema: dict, registry=None, subject: str | None = None):
        parse(schema)  # a broken schema fails here, not on the first send
        self.schema = schema
        self.registry = registry or registry_client()
        self.subject = subject
        self.ids: dict[str, int] = {}

    def schema_id(self, topic: str) -> int:
        subject = self.subject or f"{topic}-value"
        if subject not in self.ids:
            self.ids[subject] = register(self.registry, subject, self.schema)
        return self.ids[subject]

    def serialize(self, topic, headers, data):
        if data is None:
            return None
        validate(data, self.schema)
        return frame(self.schema_id(topic), avro_encode(data, self.schema))


class WireDeserializer(Deserializer):
    """A kafka-python ``value_deserializer`` for wire-format values: reads the schema id, fetches the writer's
    schema from the registry (once per id) and decodes, resolved into ``reader_schema`` when one is given."""

    def __init__(self, registry=None, reader_schema: dict | None = None):
        self.registry = registry or registry_client()
        self.reader = reader_schema
        self.writers: dict[int, dict] = {}

    def writer_schema(self, schema_id: int) -> dict:
        if schema_id not in self.writers:
            self.writers[schema_id] = writer_schema(self.registry, schema_id)
        return self.writers[schema_id]

    def deserialize(self, topic, headers, data):
        if data is None:
            return None
        schema_id, body = unframe(data, f"a value in {topic}" if topic else "value")
        return avro_decode(body, self.writer_schema(schema_id), self.reader)


def produce_validated(topic: str, records: Iterable[dict], schema: dict, registry=None,
                      key_field: str | None = "customer_id") -> tuple[int, list[str]]:
    """Send ``records`` in the wire format with kafka-python; records that break ``schema`` are not sent.

    Returns (records sent, one line per refused record). Nothing half-written reaches the topic: each record is
    checked before the producer sees it.
    """
    serializer = WireSerializer(schema, registry)
    refused, futures = [], []
    with contextlib.closing(producer(value_serializer=serializer, key_serializer=DefaultSerializer())) as p:
        for i, record in enumerate(records):
            label = record.get("payment_id", f"#{i}") if isinstance(record, dict) else f"#{i}"
            try:
                key = record.get(key_field) if key_field and isinstance(record, dict) else None
                key = None if key is None else str(key)
                futures.append(p.send(topic, key=key, value=record))
            except SchemaMismatch as e:
                refused.append(f"{label}: {e.mismatch}")
        for f in futures:
            f.get(timeout=10)
    return len(futures), refused


def read_wire(topic: str, deserializer: WireDeserializer | None = None,
              timeout_s: float = 15) -> tuple[list[dict], list[str]]:
    """Read ``topic`` to its end with kafka-python and decode each value with ``deserializer``.

    Values that cannot be decoded do not stop the reading: each becomes one line (partition, offset, why) in the
    second list, the way a dead-letter queue keeps one bad record from blocking a consumer.
    """
    deserializer = deserializer or WireDeserializer()
    good, bad = [], []
    for rec in read_to_end(topic, timeout_s=timeout_s):
        try:
            good.append(deserializer.deserialize(topic, rec.headers, rec.value))
        except LabError as e:
            bad.append(f"partition {rec.partition} offset {rec.offset}: {e}")
    return good, bad


# ----------------------------------------------------------------------------------------- confluent-kafka
def confluent_produce(topic: str, records: Iterable[dict], value_serializer,
                      key_field: str | None = "customer_id") -> int:
    """Send ``records`` with confluent-kafka's ``Producer``, each value through ``value_serializer``
    (e.g. its ``AvroSerializer``). Returns the number of records the broker acknowledged."""
    from confluent_kafka import Producer
    from confluent_kafka.serialization import MessageField, SerializationContext

    acked, errors = [], []

    def on_delivery(err, msg):
        (errors if err else acked).append(err or msg.offset())

    p = Producer({**connection().librdkafka(), "socket.timeout.ms": 10000})
    ctx = SerializationContext(topic, MessageField.VALUE)
    n = 0
    for record in records:
        key = str(record[key_field]).encode() if key_field else None
        p.produce(topic, key=key, value=value_serializer(record, ctx), on_delivery=on_delivery)
        n += 1
    left = p.flush(15)
    if left or errors:
        raise LabError(f"confluent-kafka could not deliver {left or len(errors)} of {n} records to {topic}: "
                       f"{errors[0] if errors else 'timed out'}")
    return len(acked)


def confluent_consume(topic: str, count: int, value_deserializer, timeout_s: float = 15,
                      group: str | None = None) -> list:
    """Read ``count`` values of ``topic`` from the beginning with confluent-kafka's ``Consumer``, each through
    ``value_deserializer`` (e.g. its ``AvroDeserializer``). Commits nothing, so a re-run reads the same records."""
    from confluent_kafka import Consumer
    from confluent_kafka.serialization import MessageField, SerializationContext

    c = Consumer({**connection().librdkafka(), "group.id": group or "schemas-confluent-reader",
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    ctx = SerializationContext(topic, MessageField.VALUE)
    out: list = []

    def have_all() -> bool:
        msg = c.poll(0.5)
        if msg is not None:
            if msg.error():
                raise LabError(f"confluent-kafka could not read {topic}: {msg.error()}")
            out.append(value_deserializer(msg.value(), ctx))
        return len(out) >= count

    try:
        c.subscribe([topic])
        wait_until(have_all, timeout_s=timeout_s, interval_s=0, what=f"reading {count} records of {topic}",
                   last_seen=lambda: f"{len(out)} records")
    finally:
        c.close()
    return out

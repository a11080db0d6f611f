"""kafkalab.schemas against the real schema registry (Apicurio, Confluent-compatible API) and the real broker:
registration and 409s, per-subject modes, permanent deletes, the compatibility matrix agreeing with the offline
reasoning, and the wire format read across clients (kafka-python + fastavro <-> confluent-kafka)."""
from __future__ import annotations

import contextlib
import json
import uuid

import pytest

from kafkalab import datagen, notebook, schemas
from kafkalab.errors import LabError
from kafkalab.io import clients, topics

V1, V2, V3 = (schemas.load_schema(f"payment-v{n}") for n in (1, 2, 3))


@pytest.fixture(scope="module")
def registry():
    """The course registry: started for this module if it was not running, and stopped again afterwards."""
    notebook.start(services=("registry",))
    yield schemas.registry_client()
    notebook.release_services()


@pytest.fixture
def subject(registry, request):
    name = f"test-schemas-{request.node.name[:40]}-{uuid.uuid4().hex[:6]}".replace("_", "-").replace("[", "-")
    name = name.replace("]", "")
    yield name
    with contextlib.suppress(Exception):
        schemas.delete_subject(registry, name)


@pytest.fixture
def value_subject(registry, topic):
    """The topic-name strategy's subject for the test's topic; deleted at teardown."""
    yield f"{topic}-value"
    with contextlib.suppress(Exception):
        schemas.delete_subject(registry, f"{topic}-value")


def test_register_is_idempotent_and_the_id_gives_the_schema_back(registry, subject):
    first = schemas.register(registry, subject, V1)
    assert schemas.register(registry, subject, V1) == first
    assert schemas.versions(registry, subject) == [1]
    written = schemas.writer_schema(registry, first)
    assert written == V1 or schemas.field_names(written) == schemas.field_names(V1)
    latest = registry.get_latest_version(subject)
    assert latest.version == 1 and latest.schema_id == first


def test_backward_default_accepts_a_default_and_refuses_a_field_without_one_with_409(registry, subject):
    assert schemas.compatibility(registry) == "BACKWARD"
    schemas.register(registry, subject, V1)
    assert schemas.compatibility(registry, subject) == "BACKWARD"  # no setting of its own: the global mode applies
    # a check registers nothing
    assert schemas.is_compatible(registry, subject, V2) is True and schemas.versions(registry, subject) == [1]
    schemas.register(registry, subject, V2)
    ok, message = schemas.try_register(registry, subject, V3)
    assert not ok and "risk_score" in message
    with pytest.raises(schemas.IncompatibleSchema, match="409"):
        schemas.register(registry, subject, V3)
    assert schemas.versions(registry, subject) == [1, 2]


def test_subject_modes_forward_and_full(registry, subject):
    schemas.set_compatibility(registry, subject, "FORWARD")
    assert schemas.compatibility(registry, subject) == "FORWARD"
    schemas.register(registry, subject, V2)
    assert schemas.try_register(registry, subject, V3)[0]  # old readers skip the new field
    schemas.set_compatibility(registry, subject, "FULL")
    assert not schemas.try_register(registry, subject, schemas.without_field(V3, "merchant"))[0]
    with pytest.raises(LabError, match="unknown compatibility mode"):
        schemas.set_compatibility(registry, subject, "SIDEWAYS")


def test_permanent_delete_lets_a_rerun_start_from_version_1(registry, subject):
    schemas.register(registry, subject, V1)
    schemas.register(registry, subject, V2)
    assert schemas.delete_subject(registry, subject) is True
    assert subject not in schemas.subjects(registry, "test-schemas-")
    assert schemas.versions(registry, subject) == []
    assert schemas.delete_subject(registry, subject) is False  # already gone: nothing to do, no error
    schemas.register(registry, subject, V2)
    assert schemas.versions(registry, subject) == [1]


def test_unknown_schema_id_is_one_line(registry):
    with pytest.raises(schemas.RegistryError, match=r"schema id 987654321 .*HTTP 404") as e:
        schemas.writer_schema(registry, 987654321)
    assert "\n" not in str(e.value)


def test_a_registry_that_does_not_answer_is_one_line():
    with pytest.raises(schemas.RegistryError, match="no schema registry answers at http://127.0.0.1:1") as e:
        schemas.subjects(schemas.registry_client("http://127.0.0.1:1/apis/ccompat/v7"))
    assert "\n" not in str(e.value) and "--with registry" in str(e.value)


def test_wire_serdes_round_trip_through_the_registry(registry, topic, value_subject):
    ser = schemas.WireSerializer(V1, registry=registry)
    events = datagen.payments(5)
    frames = [ser.serialize(topic, [], e) for e in events]
    schema_id = ser.ids[value_subject]
    assert list(ser.ids) == [value_subject]  # registered once, topic-name strategy
    assert schemas.versions(registry, value_subject) == [1]
    assert all(f[:5] == b"\x00" + schema_id.to_bytes(4, "big") for f in frames)
    assert [schemas.WireDeserializer(registry).deserialize(topic, [], f) for f in frames] == events
    as_v2 = schemas.WireDeserializer(registry, reader_schema=V2).deserialize(topic, [], frames[0])
    assert as_v2 == {**events[0], "channel": "unknown"}


def test_compatibility_matrix_agrees_with_the_offline_reasoning(registry, subject):
    changes = schemas.payment_changes(V2)
    changes["narrow amount to float"] = schemas.with_field_type(V2, "amount", "float")
    disagree = []
    for label, new in changes.items():
        for mode in schemas.MODES:
            accepted, message = schemas.try_change(registry, subject, mode, V2, new)
            if accepted != schemas.compatible(mode, new, V2):
                disagree.append((label, mode, accepted, message))
    assert not disagree


def test_kafka_python_writes_what_confluent_kafka_reads(registry, topic, value_subject):
    topics.recreate_topic(topic, partitions=2)
    events = datagen.payments(30)
    sent, refused = schemas.produce_validated(topic, events, V1, registry)
    assert (sent, refused) == (30, [])
    schema_id = registry.get_latest_version(value_subject).schema_id
    _, _, AvroDeserializer = schemas.confluent_classes()
    deserializer = AvroDeserializer(registry)
    got = schemas.confluent_consume(topic, 30, deserializer, group=f"{topic}-reader")
    assert sorted(got, key=lambda e: e["payment_id"]) == events
    raw, _ = schemas.read_wire(topic, schemas.WireDeserializer(registry))
    assert len(raw) == 30
    with contextlib.closing(clients.consumer(topic)) as c:
        first = next(iter(c)).value
    assert first[:5] == schemas.frame(schema_id, b"")


def test_confluent_kafka_writes_what_kafka_python_reads(registry, topic, value_subject):
    topics.recreate_topic(topic, partitions=1)
    events = datagen.payments(10, seed=9)
    _, AvroSerializer, _ = schemas.confluent_classes()
    serializer = AvroSerializer(registry, json.dumps(V1))
    assert schemas.confluent_produce(topic, events, serializer) == 10
    assert schemas.versions(registry, value_subject) == [1]  # confluent-kafka registered the schema itself
    got, bad = schemas.read_wire(topic, schemas.WireDeserializer(registry))
    assert (got, bad) == (events, [])
    as_v2, _ = schemas.read_wire(topic, schemas.WireDeserializer(registry, reader_schema=V2))
    assert all(e["channel"] == "unknown" for e in as_v2)


def test_bad_records_are_refused_before_sending_and_bad_bytes_reported_while_reading(registry, topic, value_subject):
    topics.recreate_topic(topic, partitions=1)
    events = datagen.payments(4)
    events[1] = {**events[1], "amount": "12.50"}
    sent, refused = schemas.produce_validated(topic, events, V1, registry)
    assert sent == 3 and refused == ["P00001: field 'amount' expected double, got str '12.50'"]
    with clients.producer() as p:
        p.send(topic, value=b'{"payment_id": "P99999"}').get(timeout=10)
    got, bad = schemas.read_wire(topic, schemas.WireDeserializer(registry))
    assert [e["payment_id"] for e in got] == ["P00000", "P00002", "P00003"]
    assert bad == [f"partition 0 offset 3: a value in {topic} starts with byte 0x7b ('{{', it looks like JSON), "
                   f"not the magic byte 0x00: it was not written by a schema-registry serializer"]


def test_reading_with_a_reader_schema_that_needs_a_missing_field_is_one_line(registry, topic, value_subject):
    topics.recreate_topic(topic, partitions=1)
    schemas.produce_validated(topic, datagen.payments(2), V1, registry)
    got, bad = schemas.read_wire(topic, schemas.WireDeserializer(registry, reader_schema=V3))
    assert got == [] and len(bad) == 2
    assert "field 'risk_score': the reader needs it" in bad[0]

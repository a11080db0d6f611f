"""Chapter 8's log shipper against the live broker: records arrive as JSON, emit never blocks or raises, a down
broker costs one warning."""
import json
import logging
import time
import uuid
import warnings

import pytest

import ownlab  # tests/integration/ownlab.py
from kafkalab.config import PORT_BLOCK
from kafkalab.io.topics import recreate_topic
from kafkalab.processing.logship import KafkaLogHandler, level_counts, read_logs, to_document

# a port of this run's range that nothing listens on (a spare slot of the course cluster's block: kafkalab.config)
NOBODY = f"127.0.0.1:{ownlab.block_base('course') + PORT_BLOCK - 1}"


@pytest.fixture
def logger():
    log = logging.getLogger(f"test.logship.{uuid.uuid4().hex[:6]}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()


def test_records_arrive_as_json_documents(topic, logger):
    recreate_topic(topic)
    handler = KafkaLogHandler(topic, "checkout")
    logger.addHandler(handler)
    logger.info("order %s paid", "O-1")
    logger.warning("slow answer from %s", "bank")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("could not charge")
    assert handler.flush(15)
    handler.close()
    docs = read_logs(topic)
    assert [(d["level"], d["message"]) for d in docs] == [
        ("INFO", "order O-1 paid"), ("WARNING", "slow answer from bank"), ("ERROR", "could not charge")]
    assert {d["service"] for d in docs} == {"checkout"}
    assert {d["logger"] for d in docs} == {logger.name}
    assert "ValueError: boom" in docs[2]["exception"]
    assert all(d["time"].endswith("+00:00") and isinstance(d["ts_ms"], int) for d in docs)
    assert handler.sent == 3 and handler.dropped == 0 and handler.problem is None


def test_keyed_by_service_and_timestamped_with_the_log_time(topic, logger):
    from kafkalab.io.clients import consumer

    recreate_topic(topic, partitions=3)
    handler = KafkaLogHandler(topic, "payments-api")
    logger.addHandler(handler)
    before = int(time.time() * 1000)
    for i in range(20):
        logger.info("request %d", i)
    handler.close()
    c = consumer(topic, group_id=None, consumer_timeout_ms=3000)
    try:
        records = list(c)
    finally:
        c.close()
    assert len(records) == 20
    assert {r.key for r in records} == {b"payments-api"}
    assert len({r.partition for r in records}) == 1  # one service: one partition, in order
    assert [json.loads(r.value)["message"] for r in sorted(records, key=lambda r: r.offset)] == [
        f"request {i}" for i in range(20)]
    assert all(r.timestamp == json.loads(r.value)["ts_ms"] >= before for r in records)


def test_emit_does_not_wait_for_the_broker(topic, logger):
    recreate_topic(topic)
    handler = KafkaLogHandler(topic, "busy")
    logger.addHandler(handler)
    for i in range(2000):
        logger.info("line %d", i)
    handler.close()  # close flushes
    assert handler.sent == 2000 and handler.dropped == 0
    assert len(read_logs(topic)) == 2000


def test_a_down_broker_drops_with_one_warning_and_never_raises(logger):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = KafkaLogHandler("processing-nowhere", "lonely", bootstrap_servers=NOBODY)
        logger.addHandler(handler)
        for i in range(100):
            logger.error("cannot reach anything %d", i)  # must not raise (that emit never blocks: the next test)
        assert handler.flush(15)
        handler.close()
    ours = [w for w in caught if "KafkaLogHandler" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    assert issubclass(ours[0].category, RuntimeWarning)
    assert "cannot reach the cluster" in str(ours[0].message)
    assert handler.dropped == 100 and handler.sent == 0


def test_a_full_queue_drops_instead_of_blocking(logger):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        handler = KafkaLogHandler("processing-nowhere", "tiny", queue_size=5, bootstrap_servers=NOBODY)
        logger.addHandler(handler)
        for i in range(500):
            logger.info("flood %d", i)
        handler.close()
    assert handler.dropped == 500
    assert len([w for w in caught if "KafkaLogHandler" in str(w.message)]) == 1


def test_the_kafka_clients_own_logs_are_not_shipped(topic):
    recreate_topic(topic)
    handler = KafkaLogHandler(topic, "app")
    kafka_log = logging.getLogger("kafka.test")
    kafka_log.addHandler(handler)
    try:
        kafka_log.warning("from inside the client")
        handler.flush()
    finally:
        kafka_log.removeHandler(handler)
        handler.close()
    assert handler.sent == 0 and handler.dropped == 0


def test_level_counts_by_service_in_severity_order():
    rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "m", None, None)
    docs = [to_document(rec, "b"), to_document(rec, "a"),
            {**to_document(rec, "a"), "level": "INFO"}, {**to_document(rec, "a"), "level": "WARNING"}]
    table = level_counts(docs)
    assert list(table.columns) == ["service", "INFO", "WARNING", "ERROR"]
    assert table.to_dict("records") == [{"service": "a", "INFO": 1, "WARNING": 1, "ERROR": 1},
                                        {"service": "b", "INFO": 0, "WARNING": 0, "ERROR": 1}]
    per_second = level_counts(docs, bucket_ms=1000)
    assert list(per_second.columns)[:2] == ["bucket", "service"]
    assert per_second[["INFO", "WARNING", "ERROR"]].to_numpy().sum() == 4

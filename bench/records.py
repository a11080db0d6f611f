"""What several benchmark parts share: writing ``n`` records of one size through a confluent-kafka producer."""
from __future__ import annotations


def produce_all(producer, topic: str, n: int, size: int) -> None:
    """Write ``n`` records of ``size`` bytes, waiting for room whenever the producer's queue is full, then flush."""
    payload = b"x" * size
    for _ in range(n):
        while True:
            try:
                producer.produce(topic, payload)
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(60)

"""One member of a consumer group, run as its own process (``python -m kafkalab.rebalance.member '<json>'``) so that
Chapter 12 can stop it, start it again, or kill it with SIGKILL like a crashed machine.

It subscribes to one topic, polls (committing what it read, so that its group outlives its members), and prints one
JSON line each time the set of partitions it owns changes:
``{"event": "owns", "member": "c1", "partitions": [0, 3], "why": "assigned", "t": <wall-clock seconds>}``.
It owns a partition from the moment its client hands the partition over (the assignment callback) until the
client takes it back (the revocation or loss callback), or until it starts closing. The line ``stop`` on standard
input closes it cleanly: it leaves the group, which a killed process never does.

The settings are one JSON object (:data:`PROTOCOLS` names the three ways; see :mod:`kafkalab.rebalance.scenario`):
``protocol``, ``bootstrap``, ``topic``, ``group``, ``member``, ``static`` (use the member name as
``group.instance.id``), ``session_ms``, ``heartbeat_ms``, ``work_s`` (seconds the application spends after each
poll, as if it processed what it got: the client serves rebalances only inside ``poll``), ``max_seconds``.

This module imports only the standard library and the client it needs, so it starts quickly.
"""
from __future__ import annotations

import json
import sys
import threading
import time

#: protocol -> (client, what the client is told). The classic protocol's assignors run in the client; the consumer
#: protocol (KIP-848) assigns on the broker and needs confluent-kafka (kafka-python has no KIP-848). The chapter runs
#: the first three, all with confluent-kafka, so that only the protocol differs; make bench adds kafka-python's.
PROTOCOLS = {
    "eager": ("confluent-kafka", "classic protocol, range assignor (eager: every member gives everything back)"),
    "cooperative": ("confluent-kafka", "classic protocol, cooperative-sticky assignor (incremental, two rounds)"),
    "consumer": ("confluent-kafka", "group.protocol=consumer (KIP-848: the broker assigns, incrementally)"),
    "eager-kafka-python": ("kafka-python", "classic protocol, RangePartitionAssignor (eager)"),
    "cooperative-kafka-python": ("kafka-python", "classic protocol, CooperativeStickyAssignor"),
}


def emit(event: str, member: str, **fields) -> None:
    print(json.dumps({"event": event, "member": member, "t": time.time(), **fields}), flush=True)


class Ownership:
    """The partitions this member owns, printed on every change."""

    def __init__(self, member: str) -> None:
        self.member = member
        self.owned: set[int] = set()

    def change(self, why: str, added=(), removed=()) -> None:
        before = set(self.owned)
        self.owned |= set(added)
        self.owned -= set(removed)
        if self.owned != before or why == "assigned":
            emit("owns", self.member, partitions=sorted(self.owned), why=why)


def _stdin_says_stop(stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()


def run_kafka_python(cfg: dict, own: Ownership, stop: threading.Event) -> None:
    from kafka import KafkaConsumer
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
    from kafka.coordinator.assignors.range import RangePartitionAssignor

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            own.change("revoked", removed=[tp.partition for tp in revoked])

        def on_partitions_assigned(self, assigned):
            own.change("assigned", added=[tp.partition for tp in assigned])

        def on_partitions_lost(self, lost):
            own.change("lost", removed=[tp.partition for tp in lost])

    assignor = RangePartitionAssignor if cfg["protocol"].startswith("eager") else CooperativeStickyAssignor
    extra = {"group_instance_id": cfg["member"]} if cfg.get("static") else {}
    consumer = KafkaConsumer(bootstrap_servers=cfg["bootstrap"], group_id=cfg["group"], client_id=cfg["member"],
                             partition_assignment_strategy=[assignor], session_timeout_ms=cfg["session_ms"],
                             heartbeat_interval_ms=cfg["heartbeat_ms"], auto_offset_reset="earliest",
                             enable_auto_commit=True, bootstrap_timeout_ms=10000, **cfg.get("kafka_python", {}),
                             **extra)
    consumer.subscribe([cfg["topic"]], listener=Listener())
    emit("started", cfg["member"], client="kafka-python")
    while not stop.is_set():
        consumer.poll(timeout_ms=100)
        stop.wait(cfg.get("work_s", 0))  # the application's work on what it polled: the next poll waits for it
    own.change("closing", removed=list(own.owned))
    consumer.close()


def run_confluent(cfg: dict, own: Ownership, stop: threading.Event) -> None:
    from confluent_kafka import Consumer

    conf = {**cfg.get("librdkafka", {}), "bootstrap.servers": cfg["bootstrap"], "group.id": cfg["group"],
            "client.id": cfg["member"],
            "enable.auto.commit": True, "auto.offset.reset": "earliest"}
    if cfg["protocol"] == "consumer":
        conf["group.protocol"] = "consumer"  # session and heartbeat are the group's, set on the broker
    else:
        conf.update({"partition.assignment.strategy": "range" if cfg["protocol"].startswith("eager")
                     else "cooperative-sticky",
                     "session.timeout.ms": cfg["session_ms"], "heartbeat.interval.ms": cfg["heartbeat_ms"]})
    if cfg.get("static"):
        conf["group.instance.id"] = cfg["member"]
    consumer = Consumer(conf)
    consumer.subscribe([cfg["topic"]],
                       on_assign=lambda c, parts: own.change("assigned", added=[p.partition for p in parts]),
                       on_revoke=lambda c, parts: own.change("revoked", removed=[p.partition for p in parts]),
                       on_lost=lambda c, parts: own.change("lost", removed=[p.partition for p in parts]))
    emit("started", cfg["member"], client="confluent-kafka")
    while not stop.is_set():
        consumer.poll(0.1)
        stop.wait(cfg.get("work_s", 0))
    own.change("closing", removed=list(own.owned))
    consumer.close()


def main(argv: list[str]) -> int:
    cfg = json.loads(argv[0])
    if cfg["protocol"] not in PROTOCOLS:
        print(f"unknown protocol {cfg['protocol']!r}; choose one of {', '.join(PROTOCOLS)}", file=sys.stderr)
        return 2
    own = Ownership(cfg["member"])
    stop = threading.Event()
    threading.Thread(target=_stdin_says_stop, args=(stop,), daemon=True).start()
    timer = threading.Timer(cfg.get("max_seconds", 300), stop.set)  # a safety net if the parent died
    timer.daemon = True
    timer.start()
    try:
        if PROTOCOLS[cfg["protocol"]][0] == "kafka-python":
            run_kafka_python(cfg, own, stop)
        else:
            run_confluent(cfg, own, stop)
    except Exception as e:  # one line for the parent, never a traceback
        emit("error", cfg["member"], error=f"{type(e).__name__}: {e}".splitlines()[0])
        return 1
    emit("closed", cfg["member"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

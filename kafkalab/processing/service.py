"""The alerting service on Kafka: a consumer group reads payments, applies the rules, writes alerts and dead letters.

Taught in Chapter 8, *Processing streaming data*. The rules are :mod:`kafkalab.processing.rules`; the group is run
by :func:`kafkalab.processing.scaleout.run_group`. A record the service cannot read (a *poison* record) goes to a
dead-letter topic with the reason, and the service carries on.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..io.clients import json_producer
from ..io.read import read_to_end
from .rules import Alert, AlertEngine, CustomRule, PoisonMessage, Rules, check_custom_rules, parse_payment
from .scaleout import GroupRun, run_group


class AlertWorker:
    """One member's share of the service: parse, apply the rules, write alerts (and poison records to the DLQ).

    Made by :func:`run_service` once per consumer; each worker has its own engine (its own state) and its own
    producer, as it would in a process of its own.
    """

    def __init__(self, name: str, alerts_topic: str, dlq_topic: str, rules: Rules = Rules(), logger=None,
                 custom: Mapping[str, CustomRule] | None = None) -> None:
        self.name = name
        self.engine = AlertEngine(rules, custom)
        self.alerts_topic, self.dlq_topic = alerts_topic, dlq_topic
        self.producer = json_producer(linger_ms=20)
        self.alerts: list[Alert] = []
        self.poison: list[tuple[int, int, str]] = []  # (partition, offset, reason)
        self.log = logger

    def handle(self, record) -> None:
        try:
            payment = parse_payment(record.value)
        except PoisonMessage as exc:
            reason = str(exc)
            self.poison.append((record.partition, record.offset, reason))
            self.producer.send(self.dlq_topic, key=record.key.decode() if record.key else None,
                               value={"reason": reason, "partition": record.partition, "offset": record.offset,
                                      "value": None if record.value is None else record.value.decode("utf-8", "replace")})
            if self.log:
                self.log.error("poison record at partition %d offset %d: %s", record.partition, record.offset, reason)
            return
        for alert in self.engine.process(payment):
            self.alerts.append(alert)
            self.producer.send(self.alerts_topic, key=alert.customer_id, value=alert.to_dict())
            if self.log:
                self.log.warning("ALERT %s", alert.detail)

    def finish(self) -> None:
        """Make sure every alert is stored before the consumer commits its offsets (at-least-once)."""
        self.producer.flush(timeout=30)

    def close(self) -> None:
        self.producer.close(timeout=5)


@dataclass
class ServiceRun:
    """What one run of the service did: the group's work split and every alert and poison record, per member."""

    members: int
    group_run: GroupRun
    alerts: list[Alert]
    poison: list[tuple[int, int, str]]


def run_service(payments_topic: str, alerts_topic: str, dlq_topic: str, members: int, group: str,
                rules: Rules = Rules(), logger=None, timeout_s: float = 60,
                custom: Mapping[str, CustomRule] | None = None) -> ServiceRun:
    """Run the service with ``members`` consumers in ``group`` until each has read its partitions to the end.

    The group is deleted first (a fresh start from offset 0) and settled before any record is processed, so a
    partition never moves between members mid-run. ``custom`` adds rules of your own (see
    :mod:`kafkalab.processing.rules`); each member has its own engine, so its own state for them. An exception
    in a rule stops the run and is raised here. Returns the work split and the alerts.
    """
    custom = check_custom_rules(custom)
    workers: list[AlertWorker] = []

    def make(name: str) -> AlertWorker:
        w = AlertWorker(name, alerts_topic, dlq_topic, rules, logger, custom)
        workers.append(w)
        return w

    try:
        gr = run_group(payments_topic, members, group, make, timeout_s=timeout_s)
    finally:
        for w in workers:
            w.close()
    alerts = sorted((a for w in workers for a in w.alerts), key=lambda a: a.alert_id)
    poison = sorted(p for w in workers for p in w.poison)
    return ServiceRun(members, gr, alerts, poison)


def read_alerts(topic: str, timeout_s: float = 15.0) -> list[dict]:
    """Every alert document in ``topic`` (all partitions, up to their current end), by partition and offset."""
    return [json.loads(r.value) for r in read_to_end(topic, timeout_s=timeout_s,
                                                     missing_fix="run the cells that create it first")]

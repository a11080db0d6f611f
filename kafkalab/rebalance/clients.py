"""A consumer of the new group protocol (KIP-848) on the course cluster, with one-line errors for the two mistakes
people make when they switch (Chapter 12).

1. kafka-python 3.0.12 speaks only the classic protocol: it refuses ``group_protocol`` as an unknown setting and
   does not say what to use instead.
2. With ``group.protocol=consumer`` the session timeout, heartbeat interval and assignor belong to the group on
   the broker; librdkafka refuses the client settings ``session.timeout.ms``, ``heartbeat.interval.ms`` and
   ``partition.assignment.strategy``.
"""
from __future__ import annotations

import re

from ..io.connection import connection
from ..errors import LabError

#: client setting librdkafka refuses under KIP-848 -> where the setting lives now
MOVED_TO_THE_GROUP = {
    "session.timeout.ms": "the group's consumer.session.timeout.ms (set it with kafkalab.io.groups.configure_group "
                          "or kafka-configs --entity-type groups)",
    "heartbeat.interval.ms": "the group's consumer.heartbeat.interval.ms (set it with "
                             "kafkalab.io.groups.configure_group or kafka-configs --entity-type groups)",
    "partition.assignment.strategy": "the broker's group.consumer.assignors (a client may pick one of them with "
                                     "group.remote.assignor)",
}


def kip848_consumer(group: str, *, client: str = "confluent-kafka", **conf):
    """A confluent-kafka ``Consumer`` in group ``group`` with ``group.protocol=consumer`` (KIP-848).

    ``conf`` are further librdkafka settings, dots and all (``**{"auto.offset.reset": "earliest"}``). Asking for
    kafka-python, or passing a setting that moved to the group, is a :class:`LabError` naming the fix.
    """
    if client != "confluent-kafka":
        raise LabError(f"{client} speaks only the classic group protocol (kafka-python 3.0.12 has no KIP-848): "
                       "for group.protocol=consumer use confluent-kafka, "
                       "Consumer({'group.protocol': 'consumer', ...}), or stay on the classic protocol")
    from confluent_kafka import Consumer, KafkaException

    settings = {**connection().librdkafka(), "group.id": group, "group.protocol": "consumer", **conf}
    try:
        return Consumer(settings)
    except KafkaException as e:
        text = e.args[0].str() if e.args and hasattr(e.args[0], "str") else str(e)
        m = re.search(r"`([a-z.]+)` is not supported for `group.protocol=consumer`", text)
        if m and m.group(1) in MOVED_TO_THE_GROUP:
            key = m.group(1)
            raise LabError(f"{key} is not a client setting under group.protocol=consumer: remove it; it is now "
                           f"{MOVED_TO_THE_GROUP[key]}") from None
        raise LabError(f"confluent-kafka refused the consumer: {text}") from None

"""Names every part of the CDC helpers shares: converters, the slot prefix, Debezium's op codes, run ids."""
from __future__ import annotations

import uuid

from .. import connect

#: Connect's JSON converter with the {schema, payload} envelope, for keys and values.
JSON_WITH_SCHEMAS = {
    "key.converter": connect.JSON_CONVERTER,
    "key.converter.schemas.enable": "true",
    "value.converter": connect.JSON_CONVERTER,
    "value.converter.schemas.enable": "true",
}
#: Every replication slot and publication the course creates starts with this.
SLOT_PREFIX = "kafkalab_"
#: Debezium's ``op`` codes.
OPS = {"r": "read (snapshot)", "c": "create", "u": "update", "d": "delete", "t": "truncate"}


def new_run_id() -> str:
    """A short id that makes this run's connector, slot, publication and topic names unique."""
    return uuid.uuid4().hex[:8]

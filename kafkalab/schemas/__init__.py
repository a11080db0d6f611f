"""Chapter 4, *Managing and evolving data schemas*: Avro, the schema-registry wire format, validation and
compatibility, one module per idea:

- :mod:`~kafkalab.schemas.codec`: Avro bodies (fastavro), JSON for comparison, the wire format's 5-byte header;
- :mod:`~kafkalab.schemas.validation`: does a record fit its schema, and if not, which field and why;
- :mod:`~kafkalab.schemas.compatibility`: Avro's resolution rules, applied as a registry's modes would apply them;
- :mod:`~kafkalab.schemas.changes`: typical edits of the payment schema;
- :mod:`~kafkalab.schemas.registry`: the registry through confluent-kafka's ``SchemaRegistryClient``;
- :mod:`~kafkalab.schemas.serdes`: kafka-python and confluent-kafka serializers, each reading what the other wrote;
- :mod:`~kafkalab.schemas.types`: how all of them name and follow Avro types.

The chapter calls them as ``schemas.<name>``: the names below are gathered here for that, and only for that.
"""
from .changes import payment_changes, with_field, with_field_type, without_field
from .codec import (HEADER_BYTES, MAGIC, SCHEMA_DIR, WireFormatError, avro_decode, avro_encode, avro_layout, frame,
                    header_hex, json_encode, load_schema, parse, size_comparison, time_codecs, unframe)
from .compatibility import MODES, compatibility_problems, compatible, reader_problems
from .registry import (IncompatibleSchema, RegistryError, compatibility, confluent_classes, delete_subject,
                       is_compatible, latest_schema, register, registry_client, registry_url, set_compatibility,
                       subjects, try_change, try_register, versions, writer_schema)
from .serdes import (WireDeserializer, WireSerializer, confluent_consume, confluent_produce, produce_validated,
                     read_wire)
from .types import field_names, schema_name, type_label
from .validation import Mismatch, SchemaMismatch, describe_value, find_mismatch, validate

__all__ = [
    "HEADER_BYTES", "MAGIC", "MODES", "SCHEMA_DIR", "IncompatibleSchema", "Mismatch", "RegistryError",
    "SchemaMismatch", "WireDeserializer", "WireFormatError", "WireSerializer", "avro_decode", "avro_encode",
    "avro_layout", "compatibility", "compatibility_problems", "compatible", "confluent_classes", "confluent_consume",
    "confluent_produce", "delete_subject", "describe_value", "field_names", "find_mismatch", "frame", "header_hex",
    "is_compatible", "json_encode", "latest_schema", "load_schema", "parse", "payment_changes", "produce_validated",
    "read_wire", "reader_problems", "register", "registry_client", "registry_url", "schema_name", "set_compatibility",
    "size_comparison", "subjects", "time_codecs", "try_change", "try_register", "type_label", "unframe", "validate",
    "versions", "with_field", "with_field_type", "without_field", "writer_schema",
]

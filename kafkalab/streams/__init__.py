"""Chapter 5, *Building real-time stream processing applications*: a Kafka Streams application run from Python,
its Quix Streams twin, and the plain-Python reference both must match.

- :mod:`~kafkalab.streams.topics`: the application's topics: create, fill, read back, clean up;
- :mod:`~kafkalab.streams.reference`: the topology's logic over a list (filter, mapValues, join, aggregate);
- :mod:`~kafkalab.streams.jvm`: ``streams/PaymentsApp.java`` in a JVM of its own, always stopped afterwards;
- :mod:`~kafkalab.streams.groups`: the application's group: classic or streams protocol, the group configs the
  broker keeps for it, and Kafka's group tools;
- :mod:`~kafkalab.streams.crash`: the ``kill -9`` experiment of section 7.2;
- :mod:`~kafkalab.streams.quix`: the same topology in Quix Streams, and a runner for a pipeline you write.

The chapter calls them as ``streams.<name>`` (``from kafkalab import streams``): the names are gathered here for
that, and only for that.
"""
from .crash import CrashRun, crash_and_restart
from .groups import (CLASSIC, LIVENESS, QUICK_START, STREAMS, Reset, describe_group, group_protocol, list_groups,
                     parse_table, prepare_group, protocol_configs, reset_application)
from .jvm import (APP_SOURCE, AT_LEAST_ONCE, EXACTLY_ONCE, STORES, StreamsApp, cleanup_dir, describe, java_command,
                  new_application_id, run, state_tree)
from .quix import QuixResult, quix_run, run_pipeline
from .reference import MIN_AMOUNT, TIERS, ZERO, add, customer_changelog, expected, slim, table_of
from .topics import (KEEP_FOREVER, Message, create_topics, delete_application, delete_leftovers, internal_topics,
                     latest_per_key, produce_customers, produce_payments, read_topic, topic_names, updates_per_key,
                     wait_caught_up, wait_for_records)

__all__ = [
    "APP_SOURCE", "AT_LEAST_ONCE", "CLASSIC", "EXACTLY_ONCE", "KEEP_FOREVER", "LIVENESS", "MIN_AMOUNT", "Message",
    "QUICK_START", "QuixResult", "Reset", "STORES", "STREAMS", "StreamsApp", "TIERS", "ZERO", "CrashRun", "add",
    "cleanup_dir", "crash_and_restart", "create_topics", "customer_changelog",
    "delete_application", "delete_leftovers", "describe", "describe_group", "expected",
    "group_protocol", "internal_topics", "java_command", "latest_per_key", "list_groups", "new_application_id",
    "parse_table", "prepare_group", "produce_customers", "produce_payments", "protocol_configs", "quix_run",
    "read_topic", "reset_application", "run", "run_pipeline", "slim", "state_tree", "table_of",
    "topic_names", "updates_per_key", "wait_caught_up", "wait_for_records",
]

"""Chapter 5, *Building real-time stream processing applications*: a Kafka Streams application run from Python,
its Quix Streams twin, and the plain-Python reference both must match.

- :mod:`~kafkalab.streams.topics`: the application's topics: create, fill, read back, clean up;
- :mod:`~kafkalab.streams.reference`: the topology's logic over a list (filter, mapValues, join, aggregate);
- :mod:`~kafkalab.streams.jvm`: ``streams/PaymentsApp.java`` in a JVM of its own, always stopped afterwards;
- :mod:`~kafkalab.streams.quix`: the same topology in Quix Streams.

The chapter calls them as ``streams.<name>`` (``from kafkalab import streams``): the names are gathered here for
that, and only for that.
"""
from .jvm import (APP_SOURCE, AT_LEAST_ONCE, EXACTLY_ONCE, STORES, StreamsApp, cleanup_dir, describe, java_command,
                  new_application_id, run, state_tree)
from .quix import QuixResult, quix_run
from .reference import MIN_AMOUNT, TIERS, ZERO, add, customer_changelog, expected, slim, table_of
from .topics import (KEEP_FOREVER, Message, create_topics, delete_application, delete_leftovers, internal_topics,
                     latest_per_key, produce_customers, produce_payments, read_topic, topic_names, updates_per_key,
                     wait_caught_up, wait_for_records)

__all__ = [
    "APP_SOURCE", "AT_LEAST_ONCE", "EXACTLY_ONCE", "KEEP_FOREVER", "MIN_AMOUNT", "Message", "QuixResult", "STORES",
    "StreamsApp", "TIERS", "ZERO", "add", "cleanup_dir", "create_topics", "customer_changelog", "delete_application",
    "delete_leftovers", "describe", "expected", "internal_topics", "java_command", "latest_per_key",
    "new_application_id", "produce_customers", "produce_payments", "quix_run", "read_topic", "run", "slim",
    "state_tree", "table_of", "topic_names", "updates_per_key", "wait_caught_up", "wait_for_records",
]

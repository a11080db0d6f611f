"""Shared Kafka I/O, the middle floor of kafkalab: what every chapter helper uses to talk to the running cluster.

- :mod:`~kafkalab.io.clients`: kafka-python clients with classroom timeouts (one factory for all of them);
- :mod:`~kafkalab.io.topics`: create a topic afresh, delete one, its end offsets;
- :mod:`~kafkalab.io.read`: :func:`~kafkalab.io.read.read_to_end`, the one way to read a topic back;
- :mod:`~kafkalab.io.groups`: delete a consumer group, let it settle, its lag;
- :mod:`~kafkalab.io.http`: JSON over HTTP for the REST APIs of Connect and the schema registry.

It imports only the ground floor (:mod:`kafkalab.config`, :mod:`kafkalab.errors`, :mod:`kafkalab.wait`).
"""

"""Chapter 8, *Processing streaming data*, one module per idea:

- :mod:`~kafkalab.processing.rules`: the alerting rules (pure: no Kafka);
- :mod:`~kafkalab.processing.service`: the alerting service in a consumer group, with a dead-letter topic;
- :mod:`~kafkalab.processing.scaleout`: a group's members sharing a topic, and throughput with 1 … N processes;
- :mod:`~kafkalab.processing.analytics`: revenue per event-time minute and top merchants (pure);
- :mod:`~kafkalab.processing.logship`: central logging through a topic.

The live dashboard is :mod:`kafkalab.widgets.dashboard`.
"""

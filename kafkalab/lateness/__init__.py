"""Chapter 9, *Handling late data*: event-time windows, watermarks and allowed lateness.

- :mod:`~kafkalab.lateness.engine`: the pure teaching engine (windows, watermark, verdicts, recompute, compare);
- :mod:`~kafkalab.lateness.generator`: the seeded purchase stream and the settings of one replay;
- :mod:`~kafkalab.lateness.replay`: the same records through a real Kafka topic, and the Quix Streams cross-check.

The pictures and the replay widget are :mod:`kafkalab.widgets.lateness`.
"""

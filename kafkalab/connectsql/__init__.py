"""Chapters 6 and 7, *Kafka Connect* and *Streaming SQL over changes*: moving data between Kafka and a database, and
querying it as it flows. One unit for both chapters, one module per idea:

- :mod:`~kafkalab.connectsql.connect`: the Connect worker's REST API (create, validate, status, restart, offsets);
- :mod:`~kafkalab.connectsql.flinksql`: Flink SQL through PyFlink on a local session cluster, reading Kafka topics;
- :mod:`~kafkalab.connectsql.cdc`: change data capture from PostgreSQL with Debezium, the JDBC sink, dead letters,
  and the end-to-end pipeline (source table → CDC topics → Flink SQL → upsert topic → sink table).
"""

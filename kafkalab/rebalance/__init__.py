"""Consumer-group rebalances, measured on real member processes (Chapter 12, *Consumer groups, queues and
transactions in Kafka 4*): :mod:`.member` is one member, :mod:`.scenario` drives a group of them, :mod:`.timeline`
turns what they reported into ownership spans and pauses, :mod:`.figure` draws them.

Nothing is imported here, so ``python -m kafkalab.rebalance.member`` starts with only its own client loaded.
"""

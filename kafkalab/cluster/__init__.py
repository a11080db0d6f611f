"""Embedded services (Kafka broker/controller now; schema registry and Connect as chapters need them)."""

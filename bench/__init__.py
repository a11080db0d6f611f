"""The course's benchmark harness (``make bench`` runs :mod:`bench.run`), kept outside the runtime package."""
